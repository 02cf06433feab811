"""WCAG 2.1 AA, checked by axe-core in Chromium: every page state the journeys reach, as each
role, with no serious or critical finding. Findings of every impact are counted per page and
printed as a table (`pytest -s tests/e2e/test_accessibility.py`), so the next pass starts from
numbers.

To add a page state, add one `PageState` to `PAGE_STATES`: who sees it (`role`) and how to reach
it (`visit`, given the page signed in as that role and the `World` of objects built once).
`A11Y_ONLY="API docs,403"` checks only the states whose names contain one of those words.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from patients.models import Intake
from rules.impact import impact_preview_execute
from rules.models import RuleSet
from rules.services import draft_start, impact_preview_start, rule_retire, rule_update
from screening.api.services import api_token_create
from screening.services import flag_acknowledge, flag_override, screening_run, screening_sign
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e

#: axe-core's rule tags for WCAG 2.0 and 2.1, levels A and AA.
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
#: Every rule axe runs by default (WCAG and best practice), for the counts.
ALL_RULES: dict[str, Any] = {}
BLOCKING = {"serious", "critical"}
IMPACTS = ("critical", "serious", "moderate", "minor")


def axe_findings(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands, every rule and impact."""
    return Axe().run(page, options=ALL_RULES).response["violations"]


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['help']} at "
        f"{[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page: Page, what: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    violations = results.response["violations"]
    for violation in violations:
        if violation["impact"] not in BLOCKING:
            print(f"{what}: {violation['impact']} {violation['id']}: {violation['help']}")
    found = blocking(violations)
    assert not found, f"{what}: {found}"


# --- the page states -------------------------------------------------------------------------------


@dataclass
class World:
    """What the page states show, built once through the services."""

    url: str
    patient: Any
    draft_intake: Any
    flagged: Any  # review required, three flags, nothing reviewed yet
    stopped: Any  # a stop flag overridden, signed
    incomplete: Any  # information missing
    signed: Any
    rule_set: Any
    published: Any
    draft: Any
    preview: Any

    def go(self, page: Page, name: str, *args: Any) -> None:
        page.goto(self.url + reverse(name, args=args))


@dataclass(frozen=True)
class PageState:
    name: str
    role: str  # "anonymous", "clinician", "reviewer" or "rule_admin"
    visit: Callable[[Page, World], None]


def _login_error(page: Page, world: World) -> None:
    page.goto(world.url + reverse("login"))
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert-danger, .errorlist, .invalid-feedback").first).to_be_visible()


def _patient_search(page: Page, world: World) -> None:
    world.go(page, "patients:list")
    page.get_by_role("searchbox").fill(world.patient.family_name)
    page.get_by_role("button", name="Search").click()
    expect(
        page.get_by_role("link", name=re.compile(world.patient.family_name, re.I))
    ).to_be_visible()


def _register_errors(page: Page, world: World) -> None:
    world.go(page, "patients:register")
    page.locator("form").get_by_role("button").last.evaluate("b => b.form.noValidate = true")
    page.locator("form").get_by_role("button").last.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def _intake_errors(page: Page, world: World) -> None:
    world.go(page, "patients:intake_edit", world.draft_intake.uuid)
    page.get_by_label("Systolic blood pressure").fill("120")
    page.get_by_label("Diastolic blood pressure").fill("130")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#form-errors")).to_be_focused()


def _flag_review_errors(page: Page, world: World) -> None:
    world.go(page, "screening:detail", world.flagged.uuid)
    flag = page.locator("#flag-REV-BP-ELEVATED")
    flag.get_by_role("button").first.click()
    expect(page.locator("#flag-REV-BP-ELEVATED .invalid-feedback").first).to_be_visible()


def _sign_errors(page: Page, world: World) -> None:
    world.go(page, "screening:detail", world.incomplete.uuid)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#sign-errors")).to_be_focused()


def _token_created(page: Page, world: World) -> None:
    world.go(page, "api_tokens:list")
    page.get_by_label("Name").fill("Reporting script")
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page.get_by_role("status").first).to_be_visible()


def _rule_logic_error(page: Page, world: World) -> None:
    world.go(page, "rules:rule_edit", world.draft.uuid, "REV-OLDER-ADULT")
    page.get_by_label("Logic").fill("bp_elevated and not bp_crissis")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#id_logic_error")).to_be_visible()


def _palette_searched(page: Page, world: World) -> None:
    world.go(page, "rules:rule_edit", world.draft.uuid, "REV-OLDER-ADULT")
    page.get_by_role("searchbox", name="Search facts and operators").fill("pressure")
    expect(page.get_by_test_id("palette-fact-systolic_bp")).to_be_visible()


def _rule_tried(page: Page, world: World, logic: str = "age_years >= 65 or bp_elevated") -> None:
    world.go(page, "rules:rule_edit", world.draft.uuid, "REV-OLDER-ADULT")
    page.get_by_label("Logic").fill(logic)
    page.get_by_label("Test case").select_option(label="v1-intake-without-v2-facts")
    button = page.get_by_role("button", name="Try the logic")
    button.click()
    expect(page.get_by_test_id("try-outcome")).to_be_visible()
    # Checked as the page rests: the button enabled again, the pointer off it, no transition.
    expect(button).to_be_enabled()
    page.mouse.move(0, 0)
    page.wait_for_function("() => document.getAnimations().length === 0")


def _rule_tried_with_error(page: Page, world: World) -> None:
    _rule_tried(page, world, "bp_elevated and not bp_crissis")
    expect(page.locator("#try-result .logic-pointer")).to_be_visible()


def _rule_tried_without_js(page: Page, world: World) -> None:
    """The try-it answer as the server renders it (the page a browser without JavaScript gets)."""
    url = world.url + reverse("rules:rule_edit", args=[world.draft.uuid, "REV-OLDER-ADULT"])
    page.goto(url)
    page.locator("#rule-form").evaluate(
        "form => form.addEventListener('submit', e => e.stopImmediatePropagation(), true)"
    )
    page.get_by_label("Logic").fill("respiratory_compromise")
    page.get_by_label("Test case").select_option(label="v1-intake-without-v2-facts")
    page.get_by_role("button", name="Try the logic").click()
    page.wait_for_url("**/try/#try-it")
    expect(page.get_by_test_id("try-answer")).to_have_text("unknown")


def _rules_filtered(page: Page, world: World) -> None:
    world.go(page, "rules:version", world.draft.uuid)
    search = page.get_by_role("search", name="Rules of this version")
    search.get_by_label("Search rules").fill("age")
    search.get_by_label(re.compile("Changed in this draft")).check()
    search.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("jump-list")).to_be_visible()


def _publish_errors(page: Page, world: World) -> None:
    # Publishing waits for approval (its button is disabled with the reasons): the form with
    # errors is the submission's, sent with no change note.
    world.go(page, "rules:submit", world.draft.uuid)
    page.get_by_label("Change note").evaluate("field => field.form.noValidate = true")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()


def _compare_draft(page: Page, world: World) -> None:
    """The draft compared with the published version: word-level marks, both versions' records."""
    url = reverse("rules:compare", args=[world.rule_set.uuid])
    page.goto(f"{world.url}{url}?old={world.published.uuid}&new={world.draft.uuid}")
    expect(page.get_by_test_id("record-new")).to_be_visible()


def _case_edit(page: Page, world: World) -> None:
    case = world.rule_set.test_cases.get(name="pregnant")
    world.go(page, "rules:case_edit", case.uuid)


def _case_errors(page: Page, world: World) -> None:
    """A new test case whose facts are not JSON."""
    world.go(page, "rules:case_add", world.rule_set.uuid)
    page.locator("#id_name").fill("broken-case")
    page.locator("#id_facts").fill('{\n  "age_years" 30\n}')
    page.locator("#id_disposition").select_option("eligible")
    page.get_by_role("button", name="Add case").click()
    expect(page.locator("#id_facts_error")).to_contain_text("line 2, column")


def _phone_menu_open(page: Page, world: World) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    world.go(page, "home")
    page.get_by_role("button", name="Toggle navigation").click()
    menu = page.get_by_role("navigation", name="Main navigation")
    expect(menu.get_by_role("link", name="Patients")).to_be_visible()


def _url(name: str, *attrs: str) -> Callable[[Page, World], None]:
    """Visit URL `name` with the listed `World` attributes' UUIDs (or literal arguments)."""

    def visit(page: Page, world: World) -> None:
        args = []
        for attr in attrs:
            value = getattr(world, attr, attr)
            args.append(getattr(value, "uuid", value))
        world.go(page, name, *args)

    return visit


def _api_docs(page: Page, world: World) -> None:
    world.go(page, "api:openapi-view")
    expect(page.locator(".opblock").first).to_be_visible()


def _api_docs_try_out(page: Page, world: World) -> None:
    _api_docs(page, world)
    page.locator(".opblock-summary-control").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table")).to_be_visible()


def _reviewer_search(page: Page, world: World) -> None:
    """The reviewer's list after a patient search by MRN (POSTed; the URL carries a key)."""
    world.go(page, "screening:list")
    page.get_by_label("Patient MRN or name").fill(world.stopped.patient.mrn.lower())
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("screening-row")).to_have_count(1)
    expect(page.locator("#screening-count")).to_contain_text("1 screening matches")


def _path(path: str) -> Callable[[Page, World], None]:
    def visit(page: Page, world: World) -> None:
        page.goto(world.url + path)

    return visit


def _path_of_draft(query: str) -> Callable[[Page, World], None]:
    def visit(page: Page, world: World) -> None:
        page.goto(world.url + reverse("rules:version", args=[world.draft.uuid]) + query)

    return visit


MISSING = "00000000-0000-4000-8000-000000000000"

#: Every page state, grouped by role. The merger of new pages adds rows here.
PAGE_STATES: list[PageState] = [
    # Nobody signed in.
    PageState("login", "anonymous", _url("login")),
    PageState("login with an error", "anonymous", _login_error),
    PageState("API docs", "anonymous", _api_docs),
    PageState("API docs, an operation tried out", "anonymous", _api_docs_try_out),
    PageState("404 signed out", "anonymous", _path("/no-such-page/")),
    # The clinician.
    PageState("home", "clinician", _url("home")),
    PageState("phone menu open", "clinician", _phone_menu_open),
    PageState("patient list", "clinician", _url("patients:list")),
    PageState("patient search results", "clinician", _patient_search),
    PageState("register a patient", "clinician", _url("patients:register")),
    PageState("register with errors", "clinician", _register_errors),
    PageState("patient detail", "clinician", _url("patients:detail", "patient")),
    PageState("intake form", "clinician", _url("patients:intake_edit", "draft_intake")),
    PageState("intake with errors", "clinician", _intake_errors),
    PageState("result with flags", "clinician", _url("screening:detail", "flagged")),
    PageState("result with a flag review error", "clinician", _flag_review_errors),
    PageState("result, information missing", "clinician", _url("screening:detail", "incomplete")),
    PageState("result with a sign-off error", "clinician", _sign_errors),
    PageState("signed result", "clinician", _url("screening:detail", "signed")),
    PageState("signed result, stop overridden", "clinician", _url("screening:detail", "stopped")),
    PageState("API tokens", "clinician", _url("api_tokens:list")),
    PageState("API token created", "clinician", _token_created),
    PageState("API docs signed in", "clinician", _api_docs),
    PageState("403 (rule sets)", "clinician", _url("rules:list")),
    PageState("404 (no such screening)", "clinician", _url("screening:detail", MISSING)),
    # The reviewer.
    PageState("reviewer home", "reviewer", _url("home")),
    PageState("screening list", "reviewer", _url("screening:list")),
    PageState("screening list filtered", "reviewer", _path("/screenings/review/?overridden=1")),
    PageState("screening list, patient search", "reviewer", _reviewer_search),
    PageState(
        "screening list, a rule picked",
        "reviewer",
        _path("/screenings/review/?rule_id=STOP-PREGNANCY&sort=oldest"),
    ),
    PageState("screening review", "reviewer", _url("screening:review", "stopped")),
    PageState("re-evaluation", "reviewer", _url("screening:reevaluate", "signed")),
    PageState("audit log", "reviewer", _url("screening:audit")),
    PageState(
        "audit log, a kind and an object picked",
        "reviewer",
        _path("/screenings/review/audit/?action=flag.&object_type=screening.screening"),
    ),
    PageState("audit verification", "reviewer", _url("screening:audit_verify")),
    PageState("rule analytics", "reviewer", _url("screening:analytics")),
    PageState(
        "rule analytics with superseded runs",
        "reviewer",
        _path("/screenings/review/analytics/?include_superseded=on"),
    ),
    PageState("reviewer patient list", "reviewer", _url("patients:list")),
    PageState("403 (intake form)", "reviewer", _url("patients:register")),
    # The rule admin.
    PageState("rule admin home", "rule_admin", _url("home")),
    PageState("rule sets", "rule_admin", _url("rules:list")),
    PageState("draft rule set", "rule_admin", _url("rules:version", "draft")),
    PageState("published rule set", "rule_admin", _url("rules:version", "published")),
    PageState("edit a rule", "rule_admin", _url("rules:rule_edit", "draft", "REV-OLDER-ADULT")),
    PageState("rule with a logic error", "rule_admin", _rule_logic_error),
    PageState("rule editor, palette searched", "rule_admin", _palette_searched),
    PageState("rule editor, logic tried", "rule_admin", _rule_tried),
    PageState("rule editor, logic tried with an error", "rule_admin", _rule_tried_with_error),
    PageState("rule editor, logic tried without JS", "rule_admin", _rule_tried_without_js),
    PageState("draft rule set, rules searched and filtered", "rule_admin", _rules_filtered),
    PageState("draft rule set, no rule matches", "rule_admin", _path_of_draft("?q=no+such+rule")),
    PageState("add a rule", "rule_admin", _url("rules:rule_add", "draft")),
    PageState("retire a rule", "rule_admin", _url("rules:rule_retire", "draft", "REV-IOP")),
    PageState("compare versions", "rule_admin", _url("rules:compare", "rule_set")),
    PageState("test cases", "rule_admin", _url("rules:case_list", "rule_set")),
    PageState("add a test case", "rule_admin", _url("rules:case_add", "rule_set")),
    PageState("test case results", "rule_admin", _url("rules:case_results", "draft")),
    PageState("impact preview", "rule_admin", _url("rules:impact", "preview")),
    PageState("impact example", "rule_admin", _url("rules:impact_example", "preview", "1")),
    PageState("compare draft with published", "rule_admin", _compare_draft),
    PageState("edit a test case", "rule_admin", _case_edit),
    PageState("test case with errors", "rule_admin", _case_errors),
    PageState("publish", "rule_admin", _url("rules:publish", "draft")),
    PageState("submit for approval with errors", "rule_admin", _publish_errors),
    PageState("submit for approval", "rule_admin", _url("rules:submit", "draft")),
    PageState("approval", "rule_admin", _url("rules:approval", "draft")),
    PageState("discard a draft", "rule_admin", _url("rules:draft_discard", "draft")),
    PageState("403 (patients)", "rule_admin", _url("patients:list")),
]


def build_world(url: str, clinician: Any, rule_admin: Any) -> World:
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    draft_intake = Intake.objects.create(
        patient=patient, created_by=clinician, updated_by=clinician
    )
    flagged = screening_run(
        intake=make_intake(
            patient=patient,
            by=clinician,
            systolic_bp=150,
            diastolic_bp=95,
            takes_stimulant=True,
            benzodiazepine_dose_mg_diazepam_eq=20,
            takes_lamotrigine=True,
        ),
        user=clinician,
    )
    stopped = screening_run(
        intake=make_intake(
            patient=make_patient(created_by=clinician), by=clinician, pregnancy_status="pregnant"
        ),
        user=clinician,
    )
    flag_override(
        screening=stopped,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="Obstetric MDT reviewed and approved",
    )
    stopped = screening_sign(screening=stopped, user=clinician)
    incomplete = screening_run(
        intake=make_intake(patient=patient, by=clinician, pregnancy_status="", phq9_total=None),
        user=clinician,
    )
    signed = screening_run(
        intake=make_intake(
            patient=make_patient(created_by=clinician),
            by=clinician,
            systolic_bp=150,
            diastolic_bp=95,
        ),
        user=clinician,
    )
    flag_acknowledge(
        screening=signed, rule_id="REV-BP-ELEVATED", user=clinician, reason="Rechecked: 138/86."
    )
    signed = screening_sign(screening=signed, user=clinician)
    api_token_create(user=clinician, name="Chart sync")

    rule_set = RuleSet.objects.get(name="ketamine")
    published = rule_set.versions.get(status="published")
    draft = draft_start(rule_set=rule_set, user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 40"},
    )
    rule_retire(rule=draft.rules.get(rule_id="REV-BP-ELEVATED"), user=rule_admin)
    preview = impact_preview_start(draft=draft, user=rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid))
    return World(
        url=url,
        patient=patient,
        draft_intake=draft_intake,
        flagged=flagged,
        stopped=stopped,
        incomplete=incomplete,
        signed=signed,
        rule_set=rule_set,
        published=published,
        draft=draft,
        preview=preview,
    )


def summary_table(rows: list[tuple[str, str, Counter[str]]]) -> str:
    width = max(len(name) for _, name, _ in rows)
    lines = [f"{'role':<11} {'page state':<{width}} " + " ".join(f"{i:>8}" for i in IMPACTS)]
    for role, name, counts in rows:
        lines.append(f"{role:<11} {name:<{width}} " + " ".join(f"{counts[i]:>8}" for i in IMPACTS))
    total: Counter[str] = sum((c for _, _, c in rows), Counter())
    lines.append(
        f"{'total':<11} {len(rows):<{width}} " + " ".join(f"{total[i]:>8}" for i in IMPACTS)
    )
    return "\n".join(lines)


def test_every_page_state_has_no_serious_or_critical_finding(
    browser: Browser, live_server, login, clinician, reviewer, rule_admin, password
):
    world = build_world(live_server.url, clinician, rule_admin)
    people = {"clinician": clinician, "reviewer": reviewer, "rule_admin": rule_admin}
    pages: dict[str, Page] = {}
    rows: list[tuple[str, str, Counter[str]]] = []
    problems: list[str] = []
    only = [word for word in os.environ.get("A11Y_ONLY", "").split(",") if word]
    for state in PAGE_STATES:
        if only and not any(word in state.name for word in only):
            continue
        if state.role not in pages:
            pages[state.role] = browser.new_context().new_page()
            if state.role in people:
                login(pages[state.role], live_server, people[state.role], password)
        page = pages[state.role]
        page.set_viewport_size({"width": 1280, "height": 800})
        try:
            state.visit(page, world)
            page.wait_for_load_state("load")
        except Exception as exc:  # reported with the others at the end
            problems.append(f"{state.name} ({state.role}): not reached: {exc}")
            continue
        violations = axe_findings(page)
        counts: Counter[str] = Counter()
        for violation in violations:
            counts[violation["impact"]] += len(violation["nodes"])
        rows.append((state.role, state.name, counts))
        problems += [f"{state.name} ({state.role}): {found}" for found in blocking(violations)]
    print("\naxe-core findings (nodes) per page state\n" + summary_table(rows))
    for page in pages.values():
        page.context.close()
    assert not problems, "\n".join(problems)


def test_pages_that_keep_work_and_ask_for_reasons_have_no_serious_finding(
    page: Page, live_server, login, clinician, password
):
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    incomplete = screening_run(
        intake=make_intake(patient=patient, by=clinician, pregnancy_status=""), user=clinician
    )

    # The sign-in page that says answers are kept.
    page.goto(live_server.url + reverse("patients:intake_edit", args=[intake.uuid]))
    login(page, live_server, clinician, password)
    edit = live_server.url + reverse("patients:intake_edit", args=[intake.uuid])
    page.goto(edit)
    page.get_by_label("PHQ-9 total").fill("21")
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#held-post-notice")).to_be_visible()
    assert_accessible(page, "sign-in with held answers")

    page.get_by_label("Username").fill(clinician.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#restored-alert")).to_be_visible()
    assert_accessible(page, "intake with restored answers")

    # The intake with an error summary.
    page.get_by_label("Systolic blood pressure").fill("120")
    page.get_by_label("Diastolic blood pressure").fill("130")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#form-errors")).to_be_focused()
    assert_accessible(page, "intake with an error summary")

    # An incomplete result whose sign-off asks for reasons, with its error summary.
    page.goto(live_server.url + reverse("screening:detail", args=[incomplete.uuid]))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#sign-errors")).to_be_focused()
    assert_accessible(page, "result with a sign-off error summary")


# --- visible focus ---------------------------------------------------------------------------------

#: For the focused element: its outline (style, width, colour) and the colour behind the outline
#: (the first opaque background among its ancestors), as WCAG 1.4.11 compares them.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let node = el.parentElement, behind = "rgb(255, 255, 255)";
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== "transparent" && !bg.startsWith("rgba(0, 0, 0, 0)")) {
      const alpha = bg.startsWith("rgba") ? parseFloat(bg.split(",")[3]) : 1;
      if (alpha >= 0.5) { behind = bg; break; }
    }
    node = node.parentElement;
  }
  return {
    what: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + (el.textContent || el.name || "").trim().slice(0, 30),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    colour: style.outlineColor,
    behind: behind,
  };
}"""


def _luminance(colour: str) -> float:
    channels = [float(c) / 255 for c in re.findall(r"[\d.]+", colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def focus_problems(page: Page, stops: int = 40) -> list[str]:
    """Tab through the page's first `stops` focusable elements; each must show a solid outline
    at least 2 px wide with at least 3:1 against the colour behind it."""
    problems = []
    page.locator("body").focus()
    for _ in range(stops):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        if focus["what"].startswith("body"):
            break
        ratio = contrast(focus["colour"], focus["behind"])
        if focus["style"] in ("none", "hidden") or focus["width"] < 2 or ratio < 3:
            problems.append(
                f"{focus['what']!r}: {focus['style']} {focus['width']}px, {ratio:.1f}:1"
            )
    return problems


def test_keyboard_focus_is_visible_on_links_buttons_and_fields(
    browser: Browser, live_server, login, clinician, rule_admin, password
):
    world = build_world(live_server.url, clinician, rule_admin)
    problems = []
    for person, visits in (
        (
            clinician,
            [
                _url("home"),
                _url("patients:intake_edit", "draft_intake"),
                _url("screening:detail", "flagged"),
            ],
        ),
        (rule_admin, [_url("rules:version", "draft")]),
    ):
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        login(page, live_server, person, password)
        for visit in visits:
            visit(page, world)
            problems += [f"{page.url}: {problem}" for problem in focus_problems(page)]
        page.context.close()
    assert not problems, "\n".join(problems)


# --- the phone layout ------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}

#: Elements reaching past the right edge of the viewport whose parent does not: what makes the
#: page scroll sideways. Inside a box that scrolls sideways itself only absolutely positioned
#: elements count (they escape it unless it is positioned).
OVERFLOWING = """(limit) => {
  const scrolls = (el) => { const o = getComputedStyle(el).overflowX; return o === "auto" || o === "scroll"; };
  const inScroller = (el) => { for (let n = el.parentElement; n; n = n.parentElement) if (scrolls(n)) return true; return false; };
  const past = (el) => el.getBoundingClientRect().right > limit + 1;
  return [...document.body.querySelectorAll("*")]
    .filter((el) => past(el) && !(el.parentElement && past(el.parentElement)))
    .filter((el) => !inScroller(el) || getComputedStyle(el).position === "absolute")
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + "." + [...el.classList].join(".") + " " + (el.textContent || "").trim().slice(0, 40));
}"""


def test_shared_chrome_and_list_pages_fit_a_phone_without_sideways_scrolling(
    browser: Browser, live_server, login, clinician, reviewer, rule_admin, password
):
    world = build_world(live_server.url, clinician, rule_admin)
    too_wide = []
    for person, visits in (
        (None, [_url("login"), _path("/no-such-page/")]),
        (
            clinician,
            [
                _url("home"),
                _url("patients:list"),
                _url("patients:detail", "patient"),
                _url("api_tokens:list"),
                _url("rules:list"),
            ],
        ),
        (
            reviewer,
            [
                _url("screening:list"),
                _url("screening:audit"),
                _url("screening:analytics"),
                _url("screening:review", "stopped"),
            ],
        ),
        (
            rule_admin,
            [
                _url("rules:list"),
                _url("rules:version", "draft"),
                _url("rules:compare", "rule_set"),
                _url("rules:case_results", "draft"),
                _url("rules:impact", "preview"),
            ],
        ),
    ):
        page = browser.new_context(viewport=PHONE).new_page()
        if person is not None:
            login(page, live_server, person, password)
            # The navigation folds into a menu button.
            menu = page.get_by_role("navigation", name="Main navigation")
            expect(menu.get_by_role("button", name="Toggle navigation")).to_be_visible()
            expect(menu.get_by_role("link", name="Home")).to_be_hidden()
        for visit in visits:
            visit(page, world)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                culprits = page.evaluate(OVERFLOWING, PHONE["width"])
                too_wide.append(f"{page.url}: {width}px wide, by {culprits}")
        page.context.close()
    assert not too_wide, "\n".join(too_wide)
