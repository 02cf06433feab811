"""User administration: invitations (expiring, single-use links), roles (nobody raises their own;
the last user administrator stays one), deactivation (sessions and API tokens end at once), and a
second-factor reset, each an audit event."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from screening.accounts import services
from screening.api.services import api_token_create
from screening.core.errors import ServiceError
from screening.core.models import AuditEvent
from screening.core.permissions import Role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unguessable-passphrase-for-jo"


def invite(client: Client, capture, **overrides) -> str:
    data = {
        "username": "jo",
        "name": "Jo Mensah",
        "email": "jo@clinic.example",
        "roles": [Role.CLINICIAN.value],
        **overrides,
    }
    with capture(execute=True):  # the e-mail leaves once the account is committed
        response = client.post(reverse("accounts:user_invite"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    [message] = mail.outbox
    return re.search(r"https?://\S+/people/invitation/\S+/", message.body).group(0)


def test_invite_accept_and_sign_in(
    client, user_admin, password, django_capture_on_commit_callbacks
):
    client.force_login(user_admin)
    link = invite(client, django_capture_on_commit_callbacks)
    jo = User.objects.get(username="jo")
    assert not jo.has_usable_password()
    assert set(jo.groups.values_list("name", flat=True)) == {"clinician"}
    assert AuditEvent.objects.filter(action="auth.user_invite", object_id=str(jo.pk)).exists()

    visitor = Client()
    path = link.split("testserver", 1)[1]
    assert visitor.get(path).status_code == 200
    response = visitor.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    # The link works once.
    assert visitor.get(path).status_code == 410

    signed_in = visitor.post(reverse("login"), {"username": "jo", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("home")


def test_an_invitation_link_expires(
    client, user_admin, settings, django_capture_on_commit_callbacks
):
    client.force_login(user_admin)
    link = invite(client, django_capture_on_commit_callbacks)
    settings.INVITATION_MAX_AGE = timedelta(seconds=-1)
    path = link.split("testserver", 1)[1]
    assert Client().get(path).status_code == 410


def test_nobody_raises_their_own_role(user_admin):
    with pytest.raises(ServiceError, match="cannot give yourself a role"):
        services.user_roles_set(
            actor=user_admin, user=user_admin, roles=[Role.USER_ADMIN.value, Role.CLINICIAN.value]
        )
    assert not user_admin.groups.filter(name=Role.CLINICIAN.value).exists()


def test_the_last_user_administrator_cannot_remove_themselves(user_admin, django_user_model):
    with pytest.raises(ServiceError, match="last user administrator"):
        services.user_roles_set(actor=user_admin, user=user_admin, roles=[])

    other = django_user_model.objects.create_user("ola", password="x")
    other.groups.add(Group.objects.get(name=Role.USER_ADMIN.value))
    services.user_roles_set(actor=user_admin, user=user_admin, roles=[])
    assert not user_admin.groups.exists()


def test_a_role_change_is_an_audit_event_naming_the_administrator(client, user_admin, clinician):
    client.force_login(user_admin)
    client.post(
        reverse("accounts:user_roles", args=[clinician.pk]),
        {"roles": [Role.CLINICIAN.value, Role.REVIEWER.value]},
    )
    [event] = AuditEvent.objects.filter(
        action="auth.user_roles_change", object_id=str(clinician.pk), actor=user_admin
    )
    assert event.detail["added"] == ["reviewer"]


def test_deactivation_ends_sessions_and_tokens_at_once(user_admin, clinician, password):
    browser = Client()
    assert (
        browser.post(reverse("login"), {"username": "casey", "password": password}).status_code
        == 302
    )
    assert browser.get(reverse("patients:list")).status_code == 200
    _row, token = api_token_create(user=clinician, name="laptop")
    api = Client()
    assert (
        api.get("/api/v1/screenings", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )

    admin = Client()
    admin.force_login(user_admin)
    response = admin.post(reverse("accounts:user_deactivate", args=[clinician.pk]))
    assert response.status_code == 302

    assert browser.get(reverse("patients:list"))["Location"].startswith(reverse("login"))
    assert (
        api.get("/api/v1/screenings", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    again = browser.post(reverse("login"), {"username": "casey", "password": password})
    assert again.get("Location") != reverse("home")
    assert browser.get(reverse("patients:list"))["Location"].startswith(reverse("login"))


def test_a_user_administrator_cannot_deactivate_themselves(user_admin):
    with pytest.raises(ServiceError):
        services.user_deactivate(actor=user_admin, user=user_admin)


def test_a_second_factor_reset_is_audited(user_admin, clinician):
    Authenticator.objects.create(user=clinician, type=Authenticator.Type.TOTP, data={"secret": "x"})

    services.user_mfa_reset(actor=user_admin, user=clinician)

    assert not Authenticator.objects.filter(user=clinician).exists()
    event = AuditEvent.objects.get(action="auth.mfa_reset")
    assert event.actor_id == user_admin.pk
    assert event.detail["removed"] == ["totp"]


def test_the_list_shows_roles_and_last_sign_in(client, user_admin, clinician):
    client.force_login(user_admin)
    page = client.get(reverse("accounts:user_list")).content.decode()
    assert "casey" in page
    assert "Clinician" in page
    assert "Never" in page or "20" in page


def test_other_roles_cannot_administer_users(client, clinician, reviewer):
    client.force_login(clinician)
    assert client.post(reverse("accounts:user_deactivate", args=[reviewer.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=clinician, user=reviewer)
