"""API tokens: stored only as a hash, acting as their user, revocable; and the tokens page."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from screening.api.models import ApiToken
from screening.api.services import api_token_create, api_token_revoke
from screening.core.errors import InputInvalid, PermissionDenied
from screening.core.models import AuditEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_a_token_is_stored(clinician):
    row, token = api_token_create(user=clinician, name="EHR bridge")
    row.refresh_from_db()
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8]
    stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get(pk=row.pk)]
    assert token not in stored
    assert not any(token in value for value in stored)


def test_a_call_without_a_token_is_401_json_not_a_login_redirect(anonymous):
    response = anonymous.get("/screenings")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthorized",
        "detail": "Authenticate with a token or a session.",
        "errors": [],
    }


def test_an_unknown_token_is_401(db):
    response = ApiClient("kst_not-a-real-token").post("/screenings/evaluate", {})
    assert response.status_code == 401


def test_a_revoked_token_is_401(clinician):
    row, token = api_token_create(user=clinician, name="old")
    client = ApiClient(token)
    assert client.get("/screenings").status_code == 200
    api_token_revoke(token=row, user=clinician)
    assert client.get("/screenings").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(clinician):
    _row, token = api_token_create(user=clinician, name="t")
    clinician.is_active = False
    clinician.save()
    assert ApiClient(token).get("/screenings").status_code == 401


def test_using_a_token_records_when_it_was_last_used(clinician):
    row, token = api_token_create(user=clinician, name="t")
    assert row.last_used_at is None
    ApiClient(token).get("/screenings")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_nobody_revokes_another_users_token(clinician, other_clinician):
    row, _token = api_token_create(user=clinician, name="t")
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=row, user=other_clinician)
    row.refresh_from_db()
    assert row.revoked_at is None


def test_browser_session_needs_csrf_on_unsafe_methods(clinician, password):
    browser = Client(enforce_csrf_checks=True)
    browser.login(
        request=RequestFactory().post("/login/"), username=clinician.username, password=password
    )
    assert browser.get("/api/v1/screenings").status_code == 200
    refused = browser.post(
        "/api/v1/screenings/evaluate", data="{}", content_type="application/json"
    )
    assert refused.status_code == 403
    browser.get("/settings/api-tokens/")  # sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    allowed = browser.post(
        "/api/v1/screenings/evaluate",
        data="{}",
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert allowed.status_code == 200


# --- the tokens page -----------------------------------------------------------------------------


def test_tokens_page_creates_a_token_shown_once(client, clinician):
    client.force_login(clinician)
    response = client.post("/settings/api-tokens/", {"name": "EHR bridge"})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token.startswith("kst_")
    assert token in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    row = ApiToken.objects.get(user=clinician)
    assert row.name == "EHR bridge"
    assert ApiClient(token).get("/screenings").status_code == 200
    again = client.get("/settings/api-tokens/")
    assert token not in again.content.decode()
    assert "EHR bridge" in again.content.decode()
    assert row.prefix in again.content.decode()
    assert AuditEvent.objects.filter(
        action="api_token.create", actor=clinician, object_id=str(row.uuid)
    ).exists()


def test_tokens_page_lists_only_your_own_tokens(client, clinician, reviewer):
    api_token_create(user=reviewer, name="reviewer's token")
    api_token_create(user=clinician, name="mine")
    client.force_login(clinician)
    page = client.get("/settings/api-tokens/").content.decode()
    assert "mine" in page
    assert "reviewer&#x27;s token" not in page
    assert "reviewer's token" not in page


def test_tokens_page_revokes_a_token(client, clinician):
    row, token = api_token_create(user=clinician, name="t")
    client.force_login(clinician)
    response = client.post(f"/settings/api-tokens/{row.uuid}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert ApiClient(token).get("/screenings").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(row.uuid)).exists()


def test_nobody_revokes_another_users_token_through_the_page(client, clinician, reviewer):
    row, _token = api_token_create(user=reviewer, name="t")
    client.force_login(clinician)
    assert client.post(f"/settings/api-tokens/{row.uuid}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_tokens_page_requires_sign_in(client):
    response = client.get("/settings/api-tokens/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- expiry and revocation by account changes -----------------------------------------------------


def test_a_token_expires_after_the_default_lifetime(clinician, settings):
    row, token = api_token_create(user=clinician, name="t")
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)) < timedelta(minutes=1)
    assert settings.API_TOKEN_LIFETIME_DAYS == 90
    client = ApiClient(token)
    assert client.get("/screenings").status_code == 200

    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get("/screenings").status_code == 401


def test_the_tokens_page_shows_when_a_new_token_expires_and_takes_a_shorter_life(client, clinician):
    client.force_login(clinician)
    response = client.post("/settings/api-tokens/", {"name": "EHR bridge", "lifetime_days": "7"})

    row = ApiToken.objects.get(user=clinician)
    assert timedelta(days=6, hours=23) < row.expires_at - timezone.now() <= timedelta(days=7)
    shown = response.content.decode()
    assert "It works until" in shown
    assert f"{timezone.localtime(row.expires_at):%-d %b %Y}" in shown


def test_a_token_cannot_outlive_the_maximum(client, clinician, settings):
    client.force_login(clinician)
    response = client.post("/settings/api-tokens/", {"name": "forever", "lifetime_days": "5000"})

    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert (
        f"less than or equal to {settings.API_TOKEN_MAX_LIFETIME_DAYS}" in response.content.decode()
    )
    with pytest.raises(InputInvalid):
        api_token_create(user=clinician, name="forever", lifetime_days=5000)


def test_a_password_change_revokes_the_users_tokens(clinician, other_clinician):
    row, token = api_token_create(user=clinician, name="EHR bridge")
    _theirs, their_token = api_token_create(user=other_clinician, name="theirs")

    clinician.set_password("a-new-and-different-passphrase")
    clinician.save()

    assert ApiClient(token).get("/screenings").status_code == 401
    assert ApiClient(their_token).get("/screenings").status_code == 200
    row.refresh_from_db()
    assert row.revoked_reason == ApiToken.Revoked.PASSWORD_CHANGED
    event = AuditEvent.objects.get(action="api_token.revoke", object_id=str(row.uuid))
    assert event.detail["reason"] == "password_changed"


def test_deactivation_revokes_the_tokens_for_good(clinician):
    row, token = api_token_create(user=clinician, name="t")

    clinician.is_active = False
    clinician.save()
    clinician.is_active = True
    clinician.save()

    assert ApiClient(token).get("/screenings").status_code == 401
    row.refresh_from_db()
    assert row.revoked_reason == ApiToken.Revoked.DEACTIVATED


def test_saving_a_user_without_a_password_change_keeps_the_tokens(clinician):
    _row, token = api_token_create(user=clinician, name="t")

    clinician.first_name = "Casey-Jo"
    clinician.save()

    assert ApiClient(token).get("/screenings").status_code == 200
