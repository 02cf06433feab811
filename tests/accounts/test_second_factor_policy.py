"""Who must enrol a second factor: every role by default in production, nobody (but offered) in
development; the enrolment pages stay reachable while everything else waits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _required_roles(**env: str) -> str:
    """MFA_REQUIRED_ROLES as the settings compute it from a clean environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "MFA_REQUIRED_ROLES")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import screening.settings as s; print(sorted(s.MFA_REQUIRED_ROLES))",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings_module_root(),
    ).stdout.strip()


def settings_module_root() -> str:
    from django.conf import settings

    return str(settings.BASE_DIR)


def test_production_requires_every_role_by_default_and_development_none():
    production = _required_roles(DEBUG="false")
    for role in ("clinician", "reviewer", "rule_admin", "user_admin"):
        assert repr(role) in production
    assert _required_roles(DEBUG="true") == "[]"
    assert _required_roles(DEBUG="false", MFA_REQUIRED_ROLES="reviewer") == "['reviewer']"


def test_a_role_that_needs_a_second_factor_sees_only_enrolment(client, clinician, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    client.force_login(clinician)

    assert client.get(reverse("patients:list"))["Location"] == reverse("mfa_index")
    assert client.get(reverse("mfa_index")).status_code == 200
    # A role not listed goes on as before.
    settings.MFA_REQUIRED_ROLES = ["reviewer"]
    assert client.get(reverse("patients:list")).status_code == 200


def test_with_a_second_factor_the_pages_open(client, clinician, settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    Authenticator.objects.create(user=clinician, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(clinician)

    assert client.get(reverse("patients:list")).status_code == 200


def test_in_development_the_demo_users_are_offered_a_second_factor(clinician, password, settings):
    settings.DEBUG = True
    browser = Client()
    browser.post(reverse("login"), {"username": "casey", "password": password})

    home = browser.get(reverse("home")).content.decode()
    assert "You can protect your account with a second factor" in home
    assert browser.get(reverse("patients:list")).status_code == 200
