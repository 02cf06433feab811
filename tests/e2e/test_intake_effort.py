"""How many interactions the typical journey takes, counted in the browser: register a patient,
fill the typical intake, run it, review the flags, sign.

The typical intake is the repository's "trd-eligible" vignette (rules/data/vignettes/) for a
34-year-old woman with major depressive disorder, two failed adequate antidepressant trials and a
blood pressure of 150/95 mmHg: every question the vignette answers is answered.

Every click, typed field and chosen option is one interaction; assertions are not. The journey is
driven twice: question by question and flag by flag, as the page allowed before (the baseline:
this way also runs on code without the shortcuts), and with the shortcuts ("None of these" per
section, one reason for several review flags). The counts are printed (`pytest -s`) for the
issue's note; the intake with shortcuts must take at most 30.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from screening.models import FlagReview, Screening
from tests.e2e.test_intake_journey import UUID

pytestmark = pytest.mark.e2e

INTAKE_TARGET = 30

#: The typical intake's yes/no answers, by section, as the page orders them.
NO_BY_SECTION = {
    "demographics": ["breastfeeding", "planning_pregnancy"],
    "suicide-risk": [
        "cssrs_wish_dead",
        "cssrs_active_thoughts",
        "cssrs_behavior_past_3_months",
        "cssrs_behavior_lifetime",
    ],
    "medical": [
        "hypersensitivity_to_ketamine",
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "hypertensive_encephalopathy_history",
        "elevated_intracranial_pressure",
        "elevated_intraocular_pressure",
        "cognitive_impairment",
        "bp_rise_serious_hazard",
        "respiratory_compromise",
        "bladder_symptoms_or_cystitis",
    ],
    "psychiatric": [
        "psychosis_current",
        "psychosis_history",
        "family_history_schizophrenia",
        "ketamine_misuse_history",
    ],
    "medications": [
        "takes_maoi",
        "takes_stimulant",
        "takes_opioid",
        "other_cns_depressant_use",
        "takes_lamotrigine",
        "takes_mood_stabilizer",
    ],
}
YES = ["engaged_in_psychotherapy", "has_escort_home"]


class Interactions:
    """Drives the page and counts what a user would do: clicks, typed fields, chosen options."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.counts: Counter[str] = Counter()

    def click(self, target: Locator) -> None:
        target.click()
        self.counts["clicks"] += 1

    def type(self, target: Locator, text: str) -> None:
        target.fill(text)
        self.counts["typed"] += 1

    def choose(self, target: Locator, value: str) -> None:
        target.select_option(value)
        self.counts["dropdowns"] += 1

    def answer(self, name: str, label: str) -> None:
        self.click(self.page.locator(f"#id_{name}").get_by_label(label, exact=True))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return (
            f"{self.total} ({self.counts['clicks']} clicks, {self.counts['typed']} typed fields, "
            f"{self.counts['dropdowns']} dropdowns)"
        )


def born_years_ago(years: int) -> str:
    """A birthday on 1 January: `years` old all year."""
    return date(timezone.localdate().year - years, 1, 1).isoformat()


def register(ui: Interactions, live_server) -> None:
    page = ui.page
    page.goto(f"{live_server.url}/patients/")
    ui.click(page.get_by_role("link", name="Register a patient"))
    ui.type(page.get_by_label("Medical record number (MRN)"), "MRN-EFFORT-1")
    ui.type(page.get_by_label("Family name"), "Haddad")
    ui.type(page.get_by_label("Given names"), "Leila")
    ui.type(page.get_by_label("Date of birth"), born_years_ago(34))
    ui.answer("sex_at_birth", "Female")
    ui.click(page.get_by_role("button", name="Register patient"))
    expect(page).to_have_url(re.compile(rf"/patients/{UUID}/$"))


def add_trial(ui: Interactions, index: int, drug: str, weeks: str, outcome: str) -> None:
    page = ui.page
    if not page.locator(f"#id_trials-{index}-drug").count():
        ui.click(page.get_by_role("button", name="Add a trial"))
    ui.type(page.locator(f"#id_trials-{index}-drug"), drug)
    ui.type(page.locator(f"#id_trials-{index}-weeks_at_adequate_dose"), weeks)
    ui.choose(page.locator(f"#id_trials-{index}-outcome"), outcome)


def fill_typical_intake(ui: Interactions, *, shortcuts: bool) -> None:
    page = ui.page

    def section_none(slug: str) -> None:
        if shortcuts:
            ui.click(page.locator(f"[data-none-of-these='{slug}']"))
            for name in NO_BY_SECTION[slug]:
                expect(page.locator(f"#id_{name}").get_by_label("No", exact=True)).to_be_checked()
        else:
            for name in NO_BY_SECTION[slug]:
                ui.answer(name, "No")

    ui.choose(page.get_by_label("Pregnancy status"), "not_pregnant")
    section_none("demographics")
    ui.answer("diagnoses", "Major depressive disorder")
    ui.choose(page.get_by_label("Current mood episode"), "depressive")
    add_trial(ui, 0, "sertraline", "8", "no_response")
    add_trial(ui, 1, "venlafaxine", "6", "partial_response")
    ui.type(page.get_by_label("Failed first-line anxiety treatments"), "0")
    ui.type(page.get_by_label("Failed conventional pain treatments"), "0")
    ui.type(page.get_by_label("PHQ-9 total"), "19")
    ui.type(page.get_by_label("PHQ-9 item 9"), "0")
    section_none("suicide-risk")
    ui.type(page.get_by_label("Systolic blood pressure"), "150")
    ui.type(page.get_by_label("Diastolic blood pressure"), "95")
    ui.type(page.get_by_label("Heart rate"), "72")
    section_none("medical")
    ui.choose(page.get_by_label("Cardiovascular disease"), "none")
    ui.choose(page.get_by_label("Hepatic impairment"), "none")
    section_none("psychiatric")
    ui.choose(page.get_by_label("Substance use disorder"), "none")
    ui.choose(page.get_by_label("Prior ketamine treatment"), "none")
    ui.type(page.get_by_label("Benzodiazepine dose"), "0")
    section_none("medications")
    for name in YES:
        ui.answer(name, "Yes")


def review_flags(ui: Interactions, *, shortcuts: bool) -> None:
    """Acknowledge every flag that needs it with a reason (this intake fires no stop flag)."""
    page = ui.page
    reason = "BP rechecked and discussed; plan agreed."
    bulk = page.locator("#acknowledge-several")
    if shortcuts and bulk.count():
        for box in bulk.get_by_role("checkbox").all():
            ui.click(box)
        ui.type(bulk.get_by_label("Reason for acknowledging these flags"), reason)
        ui.click(bulk.get_by_role("button", name="Acknowledge selected flags"))
        expect(page.locator("[data-testid='pending']")).to_have_count(0)
    while page.locator("form.app-flag-form[action*='/acknowledge/']").count():
        pending = page.locator("[data-testid='pending'] a").first
        if not pending.count():
            break
        rule = (pending.get_attribute("href") or "").removeprefix("#flag-")
        flag = page.locator(f"#flag-{rule}")
        ui.type(flag.get_by_label("Reason for acknowledging"), reason)
        ui.click(flag.get_by_role("button", name="Acknowledge"))
        expect(page.get_by_test_id(f"review-{rule}")).to_be_visible()


@pytest.mark.parametrize("shortcuts", [False, True], ids=["one-by-one", "with-shortcuts"])
def test_typical_intake_interactions_are_counted(
    page: Page, live_server, login, clinician, password, shortcuts
):
    login(page, live_server, clinician, password)
    ui = Interactions(page)
    register(ui, live_server)
    ui.click(page.get_by_role("button", name="New intake"))
    expect(page).to_have_url(re.compile(rf"/intakes/{UUID}/$"))

    before_intake = ui.counts.copy()
    fill_typical_intake(ui, shortcuts=shortcuts)
    ui.click(page.get_by_role("button", name="Run screening"))
    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))
    intake = Interactions(page)
    intake.counts = ui.counts - before_intake

    review_flags(ui, shortcuts=shortcuts)
    ui.click(page.get_by_role("button", name="Sign", exact=True))
    expect(page.get_by_test_id("signature")).to_contain_text("locked")

    screening = Screening.objects.get()
    assert screening.status == Screening.Status.SIGNED
    facts = screening.facts
    assert (facts["age_years"], facts["systolic_bp"], facts["diastolic_bp"]) == (34, 150, 95)
    assert facts["hypersensitivity_to_ketamine"] is False
    assert facts["has_escort_home"] is True
    reviewed = FlagReview.objects.filter(screening=screening).count()

    mode = "with shortcuts" if shortcuts else "one by one"
    print(
        f"\n[interaction count, {mode}] intake: {intake.summary()}; "
        f"whole journey register → sign: {ui.summary()}; flags reviewed: {reviewed}"
    )
    if shortcuts:
        assert intake.total <= INTAKE_TARGET, intake.summary()
