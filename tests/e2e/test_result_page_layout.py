"""The result page in Chromium at 1280 px and on a 390 px phone: nothing scrolls sideways
(the "Needed by" lines, the conditions table), and the PDF downloads under the screening's
UUID. Screenshots of both widths go to the artefacts."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from screening.services import flag_acknowledge, screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e
ON = date(2026, 11, 24)


@pytest.fixture
def typical(clinician):
    """A 34-year-old woman, MDD, two failed trials, BP 150/95; pregnancy status and the PHQ-9
    item 9 not recorded, so missing information needed by several rules."""
    patient = make_patient(
        created_by=clinician,
        born=date(1992, 5, 17),
        family_name="Okonkwo-Delacroix",
        given_names="Adaeze",
    )
    intake = make_intake(
        patient=patient,
        by=clinician,
        systolic_bp=150,
        diastolic_bp=95,
        pregnancy_status="",
        phq9_item9=None,
        engaged_in_psychotherapy=False,
    )
    screening = screening_run(intake=intake, user=clinician, on=ON)
    flag_acknowledge(
        screening=screening,
        rule_id="REV-BP-ELEVATED",
        user=clinician,
        reason="Rechecked after 10 minutes: 138/86",
    )
    return screening


def scroll_width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def overflowing(page: Page) -> list[str]:
    """Elements of the result that reach past the viewport's right edge (inside a scrolling
    box, say, where the page itself would not scroll but the reader would have to)."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('main *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + '#' + e.id + '.' + e.className)"""
        )
    )


def broken_words(page: Page, selector: str) -> list[str]:
    """Words inside `selector` that the layout split across two lines (a column squeezed
    narrower than its longest word). A break after a hyphen is a line break, not a split."""
    return list(
        page.evaluate(
            """(selector) => Array.from(document.querySelectorAll(selector)).flatMap(cell => {
                const broken = [];
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (const word of node.data.matchAll(/[^\\s-]+/g)) {
                        const range = document.createRange();
                        range.setStart(node, word.index);
                        range.setEnd(node, word.index + word[0].length);
                        if (range.getClientRects().length > 1) broken.push(word[0]);
                    }
                }
                return broken;
            })""",
            selector,
        )
    )


def test_the_result_page_fits_a_phone_and_reads_as_prose(
    page: Page, live_server, login, clinician, password, artifacts_dir, typical
):
    login(page, live_server, clinician, password)
    url = f"{live_server.url}/screenings/{typical.uuid}/"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    expect(page.locator("#conditions")).to_contain_text("Meets screening criteria")
    expect(page.locator("#flag-REV-BP-ELEVATED")).to_contain_text(
        "Systolic blood pressure 150 mmHg (above 140)"
    )
    expect(page.locator("#missing section").first).to_have_id("missing-stop")
    assert scroll_width(page) <= 1280
    assert broken_words(page, "#conditions th, #conditions td") == []
    page.screenshot(path=artifacts_dir / "result-1280.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert scroll_width(page) <= 390
    assert overflowing(page) == []
    expect(page.locator("#missing .app-needed-by").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "result-390.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.get_by_test_id("link-pdf").click()
    assert download.value.suggested_filename == f"screening-{typical.uuid}.pdf"

    page.get_by_test_id("link-patient").click()
    expect(page).to_have_url(re.compile(rf"/patients/{typical.patient.uuid}/$"))
