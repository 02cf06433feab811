"""The reviewer's journey in the browser: find the screenings whose stop flag was overridden,
open one, read the override's reason and the audit trail, and download the filtered list."""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from screening.core.models import AuditEvent
from tests.screening.review_helpers import overridden_pregnancy, run

pytestmark = pytest.mark.e2e


def test_reviewer_finds_an_overridden_stop_reads_its_trail_and_downloads_the_csv(
    page: Page, live_server, login, reviewer, clinician, password, artifacts_dir
):
    overridden = overridden_pregnancy(clinician, sign=True)
    plain = run(clinician, pregnancy_status="pregnant")  # the stop fired, nobody overrode it
    login(page, live_server, reviewer, password)

    page.get_by_role("link", name="Screenings", exact=True).click()
    expect(page.get_by_test_id("screening-row")).to_have_count(2)
    page.get_by_label("Has an overridden stop flag").check()
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("screening-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-screening", str(overridden.uuid))

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    body = download.path().read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(body)))
    assert [row["screening"] for row in exported] == [str(overridden.uuid)]
    assert str(plain.uuid) not in body

    rows.first.get_by_role("link").click()
    review = page.get_by_test_id("review-row-STOP-PREGNANCY")
    expect(review).to_contain_text("Overridden")
    expect(review).to_contain_text("Obstetric MDT reviewed and approved")
    trail = page.locator("#trail")
    expect(trail).to_contain_text("flag.overridden")
    expect(trail).to_contain_text("screening.sign")
    expect(trail).to_contain_text("screening.view")
    page.screenshot(path=artifacts_dir / "reviewer-journey-detail.png", full_page=True)

    assert AuditEvent.objects.filter(action="export.csv", actor=reviewer).count() == 1
    assert AuditEvent.objects.filter(
        action="screening.view", actor=reviewer, object_id=str(overridden.uuid)
    ).exists()


def test_reviewer_searches_by_mrn_opens_the_record_and_reads_the_audit_trail(
    page: Page, live_server, login, reviewer, clinician, password, artifacts_dir
):
    """Issue 19: the MRN is typed, POSTed and never seen in an address; the trail reads as
    sentences with the raw action codes beside them."""
    clinician.first_name, clinician.last_name = "Ada", "Okafor"
    clinician.save()
    overridden = overridden_pregnancy(clinician, sign=True)
    run(clinician)  # another patient, who must not be found
    mrn = overridden.patient.mrn
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    login(page, live_server, reviewer, password)

    page.get_by_role("link", name="Screenings", exact=True).click()
    expect(page.get_by_test_id("screening-row")).to_have_count(2)
    expect(page.locator("#screening-count")).to_contain_text("2 screenings match")
    page.get_by_label("Patient MRN or name").fill(mrn.lower())
    page.get_by_role("button", name="Search", exact=True).click()
    rows = page.get_by_test_id("screening-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-screening", str(overridden.uuid))
    expect(page.locator("#screening-count")).to_contain_text("1 screening matches")
    expect(page.get_by_role("link", name="Clear search")).to_be_visible()
    assert "search=" in page.url
    page.screenshot(path=artifacts_dir / "reviewer-search.png", full_page=True)

    rows.first.get_by_role("link").click()
    trail = page.locator("#trail")
    expect(trail).to_contain_text("Ada Okafor overrode STOP-PREGNANCY (")
    expect(trail).to_contain_text(f"on the screening of patient {mrn}")
    expect(trail).to_contain_text("Specialist or MDT approval documented")
    expect(trail).to_contain_text("Ada Okafor signed the screening")
    expect(trail).to_contain_text("opened the screening of patient")
    expect(trail).to_contain_text("flag.overridden")  # the raw code, in small type
    trail.screenshot(path=artifacts_dir / "audit-trail.png")

    page.get_by_role("link", name="This screening's events in the audit log").click()
    events = page.get_by_test_id("audit-event")
    expect(events.filter(has_text="overrode STOP-PREGNANCY")).to_have_count(1)
    expect(page.get_by_label("Object", exact=True)).to_have_value("screening.screening")

    for address in addresses:
        assert mrn.lower() not in address.lower(), address
