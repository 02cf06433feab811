"""Single sign-on against a real OpenID Connect provider started by the suite
(`tests/oidc_provider`): the app's client (allauth's `openid_connect`) talks to it over HTTP for
discovery, the token exchange and userinfo; the browser's part (the IdP's sign-in form) is played
by `requests`, and the app's part by Django's test client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import pytest
import requests
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.core import checks
from django.test import Client

from screening.core.models import AuditEvent
from screening.settings import env_mapping
from tests.oidc_provider.server import OidcProvider

pytestmark = pytest.mark.django_db

START = "/oidc/sso/login/"


@pytest.fixture
def sso(settings, oidc_provider: OidcProvider) -> OidcProvider:
    oidc_provider.configure(settings)
    return oidc_provider


def start(client: Client) -> str:
    """Press the sign-in page's button: the IdP's authorization URL the app redirects to."""
    response = client.post(START, {"process": "login"})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def authorize(provider: OidcProvider, authorize_url: str, username: str, password: str) -> str:
    """The browser at the IdP: sign in there, and return the app's callback URL it is sent to."""
    idp = requests.Session()
    response = idp.get(authorize_url, allow_redirects=False)
    login_url = urljoin(authorize_url, response.headers["Location"])
    idp.get(login_url)
    response = idp.post(
        login_url,
        data={
            "username": username,
            "password": password,
            "next": parse_qs(urlsplit(login_url).query)["next"][0],
            "csrfmiddlewaretoken": idp.cookies["idp_csrftoken"],
        },
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    response = idp.get(urljoin(login_url, response.headers["Location"]), allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def callback(client: Client, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    assert parts.path == "/oidc/sso/login/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client: Client, provider: OidcProvider, username: str, password: str) -> Any:
    return callback(client, authorize(provider, start(client), username, password))


def roles(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def signed_in_as(client: Client) -> str | None:
    response = client.get("/")
    if response.status_code != 200:
        return None
    return response.wsgi_request.user.get_username()


# --- the sign-in page ------------------------------------------------------------------------


def test_without_sso_settings_there_is_no_button_and_no_sso_url(client):
    page = client.get("/login/")

    assert b"sso-sign-in" not in page.content
    assert b'name="password"' in page.content
    assert client.post(START, {"process": "login"}).status_code == 404
    assert client.get("/oidc/sso/login/callback/?code=x&state=y").status_code == 404


def test_sign_in_page_offers_the_identity_provider(client, sso):
    page = client.get("/login/")

    assert b'id="sso-sign-in"' in page.content
    assert b"Sign in with Test IdP" in page.content
    assert b'name="password"' in page.content


def test_the_authorization_request_uses_pkce_state_and_nonce(client, sso):
    query = parse_qs(urlsplit(start(client)).query)

    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0]
    assert len(query["nonce"][0]) >= 32
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "profile", "email"}


# --- accounts and roles from the claim -------------------------------------------------------


def test_first_sign_in_creates_the_user_with_the_mapped_roles(client, sso):
    sso.person("ada", "idp-pass-1", ["ketamine-clinicians", "ketamine-reviewers", "staff"])

    response = sign_in(client, sso, "ada", "idp-pass-1")

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(username="ada")
    assert roles(user) == {"clinician", "reviewer"}
    assert not user.has_usable_password()
    assert user.email == "ada@idp.example"
    assert signed_in_as(client) == "ada"
    assert AuditEvent.objects.filter(action="auth.user_create", object_id=str(user.pk)).exists()
    [sync] = AuditEvent.objects.filter(action="auth.sso_roles_sync", object_id=str(user.pk))
    assert sync.detail["added"] == ["clinician", "reviewer"]
    assert sync.detail["provider"] == "Test IdP"


def test_a_later_sign_in_follows_the_changed_claim_and_audits_it(client, sso):
    sso.person("bea", "idp-pass-2", ["ketamine-clinicians"])
    sign_in(client, sso, "bea", "idp-pass-2")
    client.post("/logout/")
    user = User.objects.get(username="bea")
    assert roles(user) == {"clinician"}

    sso.person("bea", "idp-pass-2", ["ketamine-rule-admins", "it-admins"])
    response = sign_in(Client(), sso, "bea", "idp-pass-2")

    assert response.status_code == 302
    assert User.objects.filter(username="bea").count() == 1
    assert roles(user) == {"rule_admin", "user_admin"}
    latest = AuditEvent.objects.filter(action="auth.sso_roles_sync", object_id=str(user.pk)).latest(
        "seq"
    )
    assert latest.actor is None
    assert latest.detail["added"] == ["rule_admin", "user_admin"]
    assert latest.detail["removed"] == ["clinician"]
    changes = AuditEvent.objects.filter(action="auth.user_roles_change", object_id=str(user.pk))
    assert any(event.detail.get("removed") == ["clinician"] for event in changes)


def test_a_sign_in_with_an_unchanged_claim_records_no_role_change(client, sso):
    sso.person("cal", "idp-pass-3", ["ketamine-reviewers"])
    sign_in(client, sso, "cal", "idp-pass-3")
    before = AuditEvent.objects.filter(action="auth.sso_roles_sync").count()

    sign_in(Client(), sso, "cal", "idp-pass-3")

    assert AuditEvent.objects.filter(action="auth.sso_roles_sync").count() == before


def test_a_claim_with_no_mapped_role_is_refused_in_words(client, sso):
    sso.person("dan", "idp-pass-4", ["finance", "ketamine-visitors"])

    response = sign_in(client, sso, "dan", "idp-pass-4")

    assert response.status_code == 403
    assert b"has no role in the screening service" in response.content
    assert b"Test IdP" in response.content
    assert not User.objects.filter(username="dan").exists()
    assert signed_in_as(client) is None


def test_losing_every_mapped_role_removes_the_roles_and_refuses(client, sso):
    sso.person("eve", "idp-pass-5", ["ketamine-clinicians"])
    sign_in(client, sso, "eve", "idp-pass-5")
    sso.person("eve", "idp-pass-5", [])

    other = Client()
    response = sign_in(other, sso, "eve", "idp-pass-5")

    assert response.status_code == 403
    assert roles(User.objects.get(username="eve")) == set()
    assert signed_in_as(other) is None


def test_a_deactivated_account_cannot_sign_in_by_sso(client, sso):
    sso.person("fay", "idp-pass-6", ["ketamine-clinicians"])
    sign_in(client, sso, "fay", "idp-pass-6")
    User.objects.filter(username="fay").update(is_active=False)

    other = Client()
    response = sign_in(other, sso, "fay", "idp-pass-6")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/inactive/"
    assert signed_in_as(other) is None


# --- what the exchange checks ----------------------------------------------------------------


def test_a_callback_whose_state_is_not_this_browsers_is_refused(client, sso):
    sso.person("gus", "idp-pass-7", ["ketamine-clinicians"])
    url = authorize(sso, start(client), "gus", "idp-pass-7")
    parts = urlsplit(url)
    query = parse_qs(parts.query)

    response = client.get(parts.path, {"code": query["code"][0], "state": "forged-state"})

    assert response.status_code == 403
    assert b"could not be completed" in response.content
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="gus").exists()


def test_a_callback_in_another_browser_is_refused(client, sso):
    """Login CSRF: an attacker's code and state, delivered to a victim's browser."""
    sso.person("hal", "idp-pass-8", ["ketamine-clinicians"])
    url = authorize(sso, start(client), "hal", "idp-pass-8")

    victim = Client()
    response = callback(victim, url)

    assert response.status_code == 403
    assert signed_in_as(victim) is None


def test_an_id_token_with_another_nonce_is_refused(client, sso):
    sso.person("ian", "idp-pass-9", ["ketamine-clinicians"])
    url = authorize(sso, start(client), "ian", "idp-pass-9")
    session = client.session
    for stashed in session["socialaccount_states"].values():
        stashed[0]["oidc_nonce"] = "not-the-nonce-sent"
    session.save()

    response = callback(client, url)

    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="ian").exists()


def test_a_cancelled_sign_in_says_so(client, sso):
    authorize_url = start(client)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]

    response = client.get("/oidc/sso/login/callback/", {"error": "access_denied", "state": state})

    assert response.status_code == 200
    assert b"Sign-in cancelled" in response.content


# --- local passwords switched off ------------------------------------------------------------


def test_without_local_passwords_the_form_is_gone_and_a_password_is_refused(
    client, settings, oidc_provider, clinician, password
):
    oidc_provider.configure(settings, LOCAL_PASSWORDS=False)

    page = client.get("/login/")
    assert b'name="password"' not in page.content
    assert b"Forgotten your password?" not in page.content
    assert b'id="sso-sign-in"' in page.content

    response = client.post("/login/", {"username": clinician.username, "password": password})
    assert response.status_code == 403
    assert b"switched off" in response.content
    assert signed_in_as(client) is None
    assert not Client().login(username=clinician.username, password=password)
    assert client.get("/accounts/password/reset/").status_code == 404
    assert client.post("/accounts/password/reset/", {"email": "x@example.org"}).status_code == 404


def test_without_local_passwords_sso_still_signs_in(client, settings, oidc_provider):
    oidc_provider.configure(settings, LOCAL_PASSWORDS=False)
    oidc_provider.person("jo", "idp-pass-10", ["ketamine-reviewers"])

    sign_in(client, oidc_provider, "jo", "idp-pass-10")

    assert signed_in_as(client) == "jo"


# --- second factors --------------------------------------------------------------------------


def _with_totp(provider: OidcProvider, client: Client, username: str, password: str) -> User:
    provider.person(username, password, ["ketamine-clinicians"])
    sign_in(client, provider, username, password)
    client.post("/logout/")
    user = User.objects.get(username=username)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


def test_the_apps_second_factor_follows_sso_unless_the_idp_is_trusted(client, settings, sso):
    _with_totp(sso, client, "kim", "idp-pass-11")

    asked = Client()
    response = sign_in(asked, sso, "kim", "idp-pass-11")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_as(asked) is None

    settings.OIDC_TRUSTS_IDP_MFA = True
    trusted = Client()
    response = sign_in(trusted, sso, "kim", "idp-pass-11")
    assert response["Location"] == "/"
    assert signed_in_as(trusted) == "kim"


def test_enrolment_is_required_after_sso_unless_the_idp_is_trusted(client, settings, sso):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    sso.person("lou", "idp-pass-12", ["ketamine-clinicians"])

    sign_in(client, sso, "lou", "idp-pass-12")
    assert client.get("/")["Location"] == "/accounts/2fa/"

    settings.OIDC_TRUSTS_IDP_MFA = True
    assert client.get("/").status_code == 200


def test_an_sso_account_enrols_an_authenticator_app_right_after_signing_in(client, settings, sso):
    """No password to confirm: the fresh sign-in at the provider is what allauth's
    "confirm it is you" step accepts, as it accepts a fresh password sign-in."""
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    sso.person("meg", "idp-pass-15", ["ketamine-clinicians"])
    sign_in(client, sso, "meg", "idp-pass-15")

    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    user = User.objects.get(username="meg")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200


def test_a_password_sign_in_still_needs_enrolment_when_the_idp_is_trusted(
    client, settings, sso, clinician, password
):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    settings.OIDC_TRUSTS_IDP_MFA = True
    client.post("/login/", {"username": clinician.username, "password": password})

    assert client.get("/")["Location"] == "/accounts/2fa/"


# --- settings --------------------------------------------------------------------------------


def test_role_map_variable_is_parsed_and_a_value_may_give_two_roles(monkeypatch):
    monkeypatch.setenv("OIDC_ROLE_MAP", "a=clinician, a=reviewer ,it-admins=user_admin")

    assert env_mapping("OIDC_ROLE_MAP") == {
        "a": ["clinician", "reviewer"],
        "it-admins": ["user_admin"],
    }


def test_a_role_map_naming_an_unknown_role_fails_the_system_check(settings):
    settings.OIDC_ROLE_MAP = {"ketamine-clinicians": ["clinicain"]}

    errors = [error for error in checks.run_checks() if error.id == "accounts.E001"]

    assert len(errors) == 1
    assert "clinicain" in errors[0].msg


def test_an_sso_identity_never_takes_over_a_local_account_of_the_same_name(
    client, sso, clinician, password
):
    sso.person(clinician.username, "idp-pass-13", ["ketamine-reviewers"])

    sign_in(client, sso, clinician.username, "idp-pass-13")

    newcomer = client.get("/").wsgi_request.user
    assert newcomer.pk != clinician.pk
    assert newcomer.get_username() != clinician.username
    assert roles(newcomer) == {"reviewer"}
    clinician.refresh_from_db()
    assert roles(clinician) == {"clinician"}
    assert clinician.check_password(password)


def test_an_identity_is_never_connected_to_the_signed_in_account(client, sso, clinician):
    sso.person("max", "idp-pass-14", ["it-admins"])
    client.force_login(clinician)
    response = client.post(START, {"process": "connect"})
    url = authorize(sso, response["Location"], "max", "idp-pass-14")

    response = callback(client, url)

    assert response.status_code == 403
    assert not clinician.socialaccount_set.exists()
    assert roles(clinician) == {"clinician"}


ROOT = Path(__file__).resolve().parents[2]
PRINT_SSO = (
    "from screening import settings as s; "
    "apps = s.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']; "
    "print(len(apps), apps and apps[0]['settings']['server_url'], s.OIDC_ROLE_MAP, "
    "s.LOCAL_PASSWORDS, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
)


def _settings_with(**variables: str) -> subprocess.CompletedProcess[str]:
    names = {name for name in os.environ if name.startswith("OIDC_")} | {"LOCAL_PASSWORDS"}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(SECRET_KEY="test-only", **variables)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SSO], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_no_oidc_variables_leave_sso_off():
    run = _settings_with()

    assert run.returncode == 0, run.stderr
    assert run.stdout.split(" ")[:2] == ["0", "[]"]


def test_oidc_variables_configure_the_provider_with_pkce():
    run = _settings_with(
        OIDC_ISSUER="https://idp.example.org/realms/clinic/",
        OIDC_CLIENT_ID="screening",
        OIDC_CLIENT_SECRET="s3cret",
        OIDC_ROLE_MAP="ketamine-clinicians=clinician,it-admins=user_admin",
        LOCAL_PASSWORDS="false",
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("1 https://idp.example.org/realms/clinic ")
    assert "{'ketamine-clinicians': ['clinician'], 'it-admins': ['user_admin']}" in run.stdout
    assert "False" in run.stdout
    assert "https://idp.example.org" in run.stdout


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"OIDC_ISSUER": "https://idp.example.org"}, "needs OIDC_CLIENT_ID"),
        ({"LOCAL_PASSWORDS": "false"}, "needs single sign-on"),
        ({"OIDC_ROLE_MAP": "clinician"}, "OIDC_ROLE_MAP entries are key=value"),
    ],
)
def test_incomplete_sso_settings_fail_loudly(variables, message):
    run = _settings_with(**variables)

    assert run.returncode != 0
    assert message in run.stderr


def test_without_local_passwords_nobody_is_invited(client, settings, oidc_provider, user_admin):
    oidc_provider.configure(settings, LOCAL_PASSWORDS=False)
    client.force_login(user_admin)

    response = client.post(
        "/people/invite/",
        {
            "username": "newbie",
            "email": "newbie@clinic.example",
            "name": "New Bie",
            "roles": ["clinician"],
        },
    )

    assert response.status_code == 200
    assert b"Invitations are switched off" in response.content
    assert not User.objects.filter(username="newbie").exists()
