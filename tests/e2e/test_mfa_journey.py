"""Second factors in a real browser: a clinician whose role requires one enrols an authenticator
app (codes computed with pyotp) at first sign-in, then signs in with a code; a code used once is
refused the second time; a recovery code signs in once; a security key (Chromium's virtual
authenticator over CDP) is added and then signs in."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_factor_required(settings):
    settings.MFA_REQUIRED_ROLES = ["clinician"]
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the live server is http://localhost


def password_step(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def code_step(page: Page, code: str) -> None:
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Sign In").click()


def sign_out(page: Page, live_server) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")


def fresh_window(seconds_left: float = 20) -> None:
    """Wait, if need be, for a new 30-second TOTP window with time enough for a sign-in."""
    left = 30 - time.time() % 30
    if left < seconds_left:
        time.sleep(left + 0.5)


def confirm_password(page: Page, password: str) -> None:
    """Adding a factor asks for the password again (allauth's reauthentication)."""
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Confirm").click()


def enrol_totp(page: Page, live_server, password: str) -> tuple[str, list[str]]:
    """From the enrolment page: activate an authenticator app; its secret and recovery codes."""
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    expect(page.get_by_text("Your role needs a second factor")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    confirm_password(page, password)
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/recovery-codes/")
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    return secret, codes


def test_enrol_an_authenticator_app_then_sign_in_with_it_and_a_code_works_once(
    page: Page, live_server, clinician, password, second_factor_required
):
    password_step(page, live_server, "casey", password)
    # Nothing else opens before a second factor is set up.
    page.goto(f"{live_server.url}/patients/")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    secret, _codes = enrol_totp(page, live_server, password)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/")
    sign_out(page, live_server)

    fresh_window()
    code = pyotp.TOTP(secret).now()
    password_step(page, live_server, "casey", password)
    code_step(page, code)
    expect(page).to_have_url(f"{live_server.url}/")
    sign_out(page, live_server)

    # The same code again, within its 30 seconds: refused.
    assert pyotp.TOTP(secret).now() == code, "the window ended too soon for this check"
    password_step(page, live_server, "casey", password)
    code_step(page, code)
    expect(page.get_by_text("That code is not right, or was already used")).to_be_visible()
    # Still not signed in: the home page sends the browser back to the code step.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_recovery_code_signs_in_once_and_the_codes_are_shown_once(
    page: Page, live_server, clinician, password, second_factor_required
):
    password_step(page, live_server, "casey", password)
    _secret, codes = enrol_totp(page, live_server, password)
    page.reload()
    expect(page.locator("#recovery_codes")).to_have_count(0)  # shown once, when made
    sign_out(page, live_server)

    password_step(page, live_server, "casey", password)
    code_step(page, codes[0])
    expect(page).to_have_url(f"{live_server.url}/")
    sign_out(page, live_server)

    password_step(page, live_server, "casey", password)
    code_step(page, codes[0])
    expect(page.get_by_text("That code is not right, or was already used")).to_be_visible()


def test_wrong_codes_count_towards_the_lock_out(
    page: Page, live_server, clinician, password, second_factor_required
):
    password_step(page, live_server, "casey", password)
    secret, _codes = enrol_totp(page, live_server, password)
    sign_out(page, live_server)

    password_step(page, live_server, "casey", password)
    for _ in range(5):
        code_step(page, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()
    # Locked: starting again with the right password is refused too.
    page.context.clear_cookies()
    password_step(page, live_server, "casey", password)
    expect(page.get_by_role("heading", name="Sign-in locked")).to_be_visible()


def test_a_security_key_is_added_and_signs_in(
    page: Page, live_server, clinician, password, second_factor_required
):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    password_step(page, live_server, "casey", password)
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    confirm_password(page, password)
    page.locator("input[name=name]").fill("Desk key")
    page.locator("#mfa_webauthn_add").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/")
    sign_out(page, live_server)

    password_step(page, live_server, "casey", password)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("nav-user")).to_contain_text("Casey")
