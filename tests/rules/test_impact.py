"""Impact previews: past screenings re-evaluated under a draft, in the background."""

from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from rules.impact import (
    impact_preview_execute,
    rules_fingerprint,
    screening_change,
    stored_document,
)
from rules.loader import compiled_version
from rules.models import ImpactPreview, Rule, RuleSet
from rules.selectors import numbered_version, published_version
from rules.services import (
    draft_discard,
    draft_start,
    impact_preview_start,
    rule_retire,
    rule_update,
)
from screening.impact import StoredScreenings
from screening.services import screening_run
from tests.factories import (
    NOT_ASKED_BEFORE_VERSION_2,
    VERSION_2_QUESTIONS,
    make_intake,
    make_patient,
)

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)


@pytest.fixture
def screenings(clinician):
    """Three screenings under version 1: a 42-year-old eligible, the same with blood pressure
    150/95 (review: REV-BP-ELEVATED), and a 30-year-old eligible."""
    older = make_patient(created_by=clinician, born=date(1984, 3, 1))
    younger = make_patient(created_by=clinician, born=date(1996, 5, 2))
    return [
        screening_run(intake=make_intake(patient=older, by=clinician), user=clinician, on=ON),
        screening_run(
            intake=make_intake(patient=older, by=clinician, systolic_bp=150, diastolic_bp=95),
            user=clinician,
            on=ON,
        ),
        screening_run(intake=make_intake(patient=younger, by=clinician), user=clinician, on=ON),
    ]


@pytest.fixture
def draft(rule_admin):
    """Older-adult review from 40 instead of 65, and no elevated-blood-pressure review."""
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 40"},
    )
    rule_retire(rule=draft.rules.get(rule_id="REV-BP-ELEVATED"), user=rule_admin)
    return draft


def queued(draft, user):
    return impact_preview_start(draft=draft, user=user)


def test_a_stored_snapshot_with_a_date_of_birth_is_screened_again_by_that_date(screenings):
    facts = screenings[0].facts
    assert facts["date_of_birth"] == "1984-03-01"
    assert facts["age_years"] == 42
    document = stored_document(facts)
    assert "age_years" not in document
    assert document["date_of_birth"] == "1984-03-01"


def test_the_preview_counts_disposition_and_flag_changes(screenings, draft, rule_admin):
    preview = queued(draft, rule_admin)
    assert preview.status == ImpactPreview.Status.QUEUED

    impact_preview_execute(preview_uuid=str(preview.uuid))

    preview.refresh_from_db()
    assert preview.status == ImpactPreview.Status.DONE
    assert (preview.total, preview.processed, preview.unreadable) == (3, 3, 0)
    # eligible → review_required (REV-OLDER-ADULT added); the BP screening stays
    # review_required but swaps REV-BP-ELEVATED for REV-OLDER-ADULT; the 30-year-old is unchanged.
    assert preview.changed_disposition == 1
    assert preview.changed_flags == 2
    by_screening = {example["screening"]: example for example in preview.examples}
    assert set(by_screening) == {str(screenings[0].uuid), str(screenings[1].uuid)}
    older = dict(by_screening[str(screenings[0].uuid)])
    facts = older.pop("facts")
    assert older == {
        "screening": str(screenings[0].uuid),
        "screening_date": "2026-11-24",
        "old_disposition": "eligible",
        "new_disposition": "review_required",
        "flags_added": ["REV-OLDER-ADULT"],
        "flags_removed": [],
        "new_questions": [],
    }
    # The example keeps the facts without the dates that, with the age, identify a patient.
    assert facts["age_years"] == 42
    assert "date_of_birth" not in facts
    assert "screening_date" not in facts
    assert preview.transitions == {"eligible>review_required": 1}
    bp = by_screening[str(screenings[1].uuid)]
    assert (bp["old_disposition"], bp["new_disposition"]) == ("review_required", "review_required")
    assert bp["flags_added"] == ["REV-OLDER-ADULT"]
    assert bp["flags_removed"] == ["REV-BP-ELEVATED"]
    assert preview.started_at <= preview.finished_at


def test_an_unchanged_draft_changes_nothing(screenings, rule_admin):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    preview = queued(draft, rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid))
    preview.refresh_from_db()
    assert (preview.processed, preview.changed_disposition, preview.changed_flags) == (3, 0, 0)
    assert preview.examples == []


#: What `WatchedScreenings` saw of the preview's progress before each batch.
PROGRESS_SEEN: list[int] = []


class WatchedScreenings(StoredScreenings):
    """The stored screenings, noting the preview's progress as each batch is handed out."""

    def batches(self, batch_size):
        for rows in super().batches(batch_size):
            PROGRESS_SEEN.append(ImpactPreview.objects.get().processed)
            yield rows


def test_the_preview_records_progress_after_every_batch(screenings, draft, rule_admin, settings):
    settings.RULES_PAST_SCREENINGS = f"{__name__}.WatchedScreenings"
    PROGRESS_SEEN.clear()
    preview = queued(draft, rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid), batch_size=1)

    preview.refresh_from_db()
    assert PROGRESS_SEEN == [0, 1, 2]
    assert preview.processed == 3
    assert preview.percent == 100


def test_without_a_provider_of_past_screenings_a_preview_compares_nothing(
    screenings, draft, rule_admin, settings
):
    settings.RULES_PAST_SCREENINGS = ""
    preview = queued(draft, rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid))
    preview.refresh_from_db()
    assert (preview.status, preview.total, preview.processed) == ("done", 0, 0)


def test_a_queued_preview_is_run_by_the_database_worker(screenings, draft, rule_admin, monkeypatch):
    preview = queued(draft, rule_admin)
    task = DBTaskResult.objects.get(id=preview.task_id)
    assert task.task_path == "rules.tasks.impact_preview_run"
    assert task.status == "READY"
    # The worker drops connections whose autocommit state differs from the settings' between
    # tasks; inside this test's transaction that would close the connection under the test.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    preview.refresh_from_db()
    assert preview.status == ImpactPreview.Status.DONE
    assert (preview.changed_disposition, preview.changed_flags) == (1, 2)


def test_a_draft_that_does_not_compile_fails_its_preview_with_the_reason(
    screenings, draft, rule_admin
):
    preview = queued(draft, rule_admin)
    Rule.objects.filter(version=draft, rule_id="STOP-ICP").update(logic="raised_icp")
    impact_preview_execute(preview_uuid=str(preview.uuid))
    preview.refresh_from_db()
    assert preview.status == ImpactPreview.Status.FAILED
    assert "STOP-ICP.logic: unknown fact 'raised_icp'" in preview.error
    assert preview.processed == 0


def test_a_preview_of_a_discarded_draft_is_skipped(screenings, draft, rule_admin):
    preview = queued(draft, rule_admin)
    draft_discard(draft=draft, user=rule_admin)
    assert impact_preview_execute(preview_uuid=str(preview.uuid)) == {"processed": 0}
    assert not ImpactPreview.objects.filter(pk=preview.pk).exists()


def test_editing_the_draft_after_a_preview_makes_the_preview_out_of_date(draft, rule_admin):
    preview = queued(draft, rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid))
    preview.refresh_from_db()
    assert preview.fingerprint == rules_fingerprint(draft)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 45"},
    )
    assert preview.fingerprint != rules_fingerprint(draft)


# --- version 1 → version 2: past screenings that only need the new questions -----------------


@pytest.fixture
def version_1_screenings(clinician, version_1_in_force):
    """Past screenings run under version 1 (then version 2 is published):
    - `unasked`: eligible, saved before the version-2 questions existed;
    - `breastfeeding`: eligible under version 1 although breastfeeding after a hysterectomy
      (pregnancy not applicable), saved before the version-2 questions;
    - `answered`: eligible, the version-2 questions already answered;
    - `pregnant`: contraindicated, saved before the version-2 questions."""
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))

    def run(**answers):
        intake = make_intake(patient=patient, by=clinician, **answers)
        return screening_run(intake=intake, user=clinician, on=ON)

    made = {
        "unasked": run(**NOT_ASKED_BEFORE_VERSION_2),
        "breastfeeding": run(
            pregnancy_status="not_applicable", breastfeeding=True, **NOT_ASKED_BEFORE_VERSION_2
        ),
        "answered": run(),
        "pregnant": run(pregnancy_status="pregnant", **NOT_ASKED_BEFORE_VERSION_2),
    }
    version_1_in_force()  # version 2 is in force again
    assert {s.ruleset_version.number for s in made.values()} == {1}
    return made


def test_a_preview_of_version_2_on_version_1_screenings_sets_apart_those_needing_the_new_questions(
    version_1_screenings, rule_admin
):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    assert draft.language == 2
    assert {s.disposition for s in version_1_screenings.values()} == {
        "eligible",
        "contraindicated",
    }

    impact_preview_execute(preview_uuid=str(queued(draft, rule_admin).uuid))

    preview = ImpactPreview.objects.get()
    assert (preview.processed, preview.changed_disposition) == (4, 2)
    assert preview.needs_new_questions == 1
    assert preview.new_questions == sorted(VERSION_2_QUESTIONS)
    by_screening = {example["screening"]: example for example in preview.examples}
    unasked = by_screening[str(version_1_screenings["unasked"].uuid)]
    assert (unasked["old_disposition"], unasked["new_disposition"]) == ("eligible", "incomplete")
    assert (unasked["flags_added"], unasked["flags_removed"]) == ([], [])
    assert unasked["new_questions"] == sorted(VERSION_2_QUESTIONS)
    # A real clinical change is not hidden in the group, even though it needs the questions too.
    breastfeeding = by_screening[str(version_1_screenings["breastfeeding"].uuid)]
    assert breastfeeding["flags_added"] == ["REV-BREASTFEEDING"]
    assert breastfeeding["new_questions"] == []
    assert str(version_1_screenings["answered"].uuid) not in by_screening
    assert str(version_1_screenings["pregnant"].uuid) not in by_screening


def test_a_change_that_newly_misses_a_question_the_old_version_asked_is_not_set_apart(clinician):
    version_1 = compiled_version(numbered_version(1))
    version_2 = compiled_version(published_version())
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    screening = screening_run(
        intake=make_intake(patient=patient, by=clinician), user=clinician, on=ON
    )
    facts = dict(screening.facts)
    del facts["bp_rise_serious_hazard"]
    common = {
        "uuid": screening.uuid,
        "screening_date": ON,
        "facts": facts,
        "disposition": "eligible",
        "flags": [],
        "missing": [],
    }

    new_question = screening_change(version_2, asked=version_1.inputs, **common)
    asked_before = screening_change(version_2, asked=version_2.inputs, **common)
    unknown_version = screening_change(version_2, asked=None, **common)

    assert new_question is not None
    assert new_question.new_questions == ["bp_rise_serious_hazard"]
    assert asked_before is not None
    assert asked_before.new_questions == []
    assert unknown_version is not None
    assert unknown_version.new_questions == []
    assert new_question.new_disposition == "incomplete"


def test_the_preview_page_reads_the_new_questions_group_as_needing_answers(
    client, version_1_screenings, rule_admin
):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    preview = queued(draft, rule_admin)
    impact_preview_execute(preview_uuid=str(preview.uuid))
    client.force_login(rule_admin)

    page = client.get(reverse("rules:impact", args=[preview.uuid])).content.decode()
    progress = client.get(reverse("rules:impact_progress", args=[preview.uuid])).json()

    assert 'data-testid="needs-new-questions">1<' in page
    note = page[page.index('data-testid="new-questions-note"') :]
    note = note[: note.index("</section>")]
    assert "1 of these only need the new questions" in note
    assert "<code>bp_rise_serious_hazard</code>" in note
    assert "until those questions are answered" in note
    assert "1 other screening would change disposition for another reason" in note
    preview.refresh_from_db()
    numbers = {example["screening"]: n for n, example in enumerate(preview.examples, 1)}

    def link(screening):
        number = numbers[str(screening.uuid)]
        return f'href="{reverse("rules:impact_example", args=[preview.uuid, number])}"'

    grouped = page[page.index('data-testid="impact-new-question-examples"') :]
    assert link(version_1_screenings["unasked"]) in grouped.split("</table>")[0]
    others = page[page.index('data-testid="impact-examples"') :].split("</table>")[0]
    assert link(version_1_screenings["breastfeeding"]) in others
    assert str(version_1_screenings["breastfeeding"].uuid) not in page  # no raw references
    transitions = page[page.index('data-testid="impact-transitions"') :].split("</section>")[0]
    assert "Eligible → Incomplete: <strong>" in transitions
    assert progress["needs_new_questions"] == 1
