"""A user administrator at work in a real browser: invites a colleague, who follows the e-mailed
link, chooses a password and signs in; then deactivates a clinician who is signed in elsewhere
with an API token: their next page and their next API call are both refused."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from screening.api.services import api_token_create

pytestmark = pytest.mark.e2e

CHOSEN = "a-long-passphrase-nobody-would-guess-2026"


def test_invite_accept_and_sign_in(
    page: Page, browser: Browser, live_server, login, user_admin, password
):
    login(page, live_server, user_admin, password)
    page.goto(f"{live_server.url}/people/")
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Username").fill("jo")
    page.get_by_label("Full name").fill("Jo Mensah")
    page.get_by_label("E-mail address").fill("jo@clinic.example")
    page.get_by_label("Clinician").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to jo.")).to_be_visible()
    expect(page.get_by_test_id("person-jo")).to_contain_text("Clinician")
    expect(page.get_by_test_id("person-jo")).to_contain_text("Never")

    [message] = mail.outbox
    link = re.search(r"https?://\S+/people/invitation/\S+/", message.body).group(0)
    invitee = browser.new_context().new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Choose your password")).to_be_visible()
    invitee.locator("#id_new_password1").fill(CHOSEN)
    invitee.locator("#id_new_password2").fill(CHOSEN)
    invitee.get_by_role("button", name="Set password").click()
    expect(invitee).to_have_url(f"{live_server.url}/login/")
    invitee.get_by_label("Username").fill("jo")
    invitee.get_by_label("Password").fill(CHOSEN)
    invitee.get_by_role("button", name="Sign in").click()
    expect(invitee).to_have_url(f"{live_server.url}/")
    # The link worked once.
    invitee.goto(link)
    expect(
        invitee.get_by_role("heading", name="This invitation link cannot be used")
    ).to_be_visible()


def test_deactivation_ends_a_live_session_and_token(
    page: Page, browser: Browser, live_server, login, user_admin, clinician, password
):
    their_page = browser.new_context().new_page()
    login(their_page, live_server, clinician, password)
    their_page.goto(f"{live_server.url}/patients/")
    expect(their_page).to_have_url(f"{live_server.url}/patients/")
    _row, token = api_token_create(user=clinician, name="laptop")
    api = their_page.request
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"{live_server.url}/api/v1/screenings", headers=headers).status == 200

    login(page, live_server, user_admin, password)
    page.goto(f"{live_server.url}/people/{clinician.pk}/")
    page.get_by_role("button", name="Deactivate account").click()
    expect(page.get_by_test_id("status")).to_have_text("Deactivated")

    their_page.reload()
    expect(their_page).to_have_url(re.compile(r"/login/\?next=/patients/$"))
    assert api.get(f"{live_server.url}/api/v1/screenings", headers=headers).status == 401
