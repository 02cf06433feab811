"""Single sign-on in a real browser: the sign-in page's button, the identity provider's own
sign-in form (the suite's OpenID Connect provider, `tests/oidc_provider`), and back on the app's
home page signed in, with the role the provider's claim gives."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_sign_in_through_the_identity_provider(page: Page, live_server, settings, oidc_provider):
    oidc_provider.configure(settings)
    oidc_provider.person("nia", "idp-pass-e2e", ["ketamine-reviewers"], name="Nia Okoro")

    page.goto(f"{live_server.url}/login/")
    page.get_by_role("button", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("IdP username").fill("nia")
    page.get_by_label("IdP password").fill("idp-pass-e2e")
    page.get_by_role("button", name="Sign in to the identity provider").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("nav-user")).to_contain_text("Nia Okoro")
    expect(page.get_by_test_id("nav-user")).to_contain_text("Reviewer")
    expect(page.locator("#role-reviewer")).to_be_visible()
    expect(page.locator("#role-clinician")).to_have_count(0)
    expect(page.get_by_role("link", name="Your sessions").first).to_be_visible()
