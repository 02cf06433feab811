"""A clinician signs in, sees their home page, and signs out; a wrong password is refused."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_clinician_signs_in_sees_home_and_signs_out(
    page: Page, live_server, clinician, password, artifacts_dir
):
    clinician.first_name, clinician.last_name = "Casey", "Okafor"
    clinician.save()

    page.goto(f"{live_server.url}/")

    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text(
        re.compile(r"Signed in as\s+Casey Okafor\s+—\s+Clinician")
    )
    expect(page.locator("#role-clinician")).to_be_visible()
    expect(page.locator("#role-reviewer")).to_have_count(0)
    expect(page.locator("#role-rule-admin")).to_have_count(0)
    expect(page.get_by_test_id("nav-user")).to_contain_text("Casey Okafor")
    page.screenshot(path=artifacts_dir / "home-clinician.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_wrong_password_shows_error_and_stays_on_login(page: Page, live_server, clinician):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_login_helper_signs_in_each_role(page: Page, live_server, login, rule_admin, password):
    login(page, live_server, rule_admin, password)

    expect(page.locator("#role-rule-admin")).to_be_visible()
    expect(page.locator("#role-clinician")).to_have_count(0)


def test_bootstrap_styles_load_from_static(page: Page, live_server, login, reviewer, password):
    login(page, live_server, reviewer, password)

    navbar_background = page.locator("nav.navbar").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    button_padding = page.get_by_role("button", name="Sign out").evaluate(
        "element => getComputedStyle(element).paddingLeft"
    )
    # Unstyled, the navbar is transparent and a button has the browser's 6px padding;
    # Bootstrap makes `.btn-sm`'s 0.5rem, and app.css darkens its primary blue for contrast.
    assert navbar_background == "rgb(10, 88, 202)"
    assert button_padding == "8px"
    stylesheet = page.request.get(f"{live_server.url}/static/vendor/bootstrap/bootstrap.min.css")
    assert stylesheet.ok
    assert "Bootstrap" in stylesheet.text()[:200]
