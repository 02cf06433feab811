"""The Content-Security-Policy breaks no page: the browser reports no violation on the sign-in
page, a clinician's pages (the intake form runs its own script) and the API docs (Swagger UI)."""

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e


def csp_violations(page: Page) -> list[str]:
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", note)
    return violations


def test_api_docs_render_under_the_policy(page: Page, live_server):
    violations = csp_violations(page)

    page.goto(f"{live_server.url}/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Ketamine screening API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []


def test_clinician_pages_raise_no_violation(page: Page, live_server, login, clinician, password):
    intake = make_intake(patient=make_patient(created_by=clinician), by=clinician)
    violations = csp_violations(page)

    page.goto(f"{live_server.url}/login/")
    login(page, live_server, clinician, password)
    for path in ("/", "/patients/", "/patients/new/", f"/intakes/{intake.uuid}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")

    assert violations == []
