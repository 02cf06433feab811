"""Running, acknowledging, overriding, signing and amending screenings (services, PostgreSQL)."""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from patients.models import Intake
from rules.selectors import published_version
from screening.core.errors import (
    ConflictError,
    InputInvalid,
    LockedError,
    PermissionDenied,
    ServiceError,
)
from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from screening.services import (
    flag_acknowledge,
    flag_override,
    intake_save,
    pending_flags,
    screening_amend,
    screening_run,
    screening_sign,
)
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1))


def run(intake, user, on=ON):
    return screening_run(intake=intake, user=user, on=on)


def test_running_stores_the_facts_the_result_the_version_and_the_rule_text(patient, clinician):
    screening = run(make_intake(patient=patient, by=clinician), clinician)
    assert screening.disposition == "eligible"
    assert screening.ruleset_version == published_version()
    assert screening.facts["age_years"] == 42
    assert screening.facts["date_of_birth"] == "1984-03-01"
    assert screening.result["ruleset"] == {"name": "ketamine", "version": 2}
    assert screening.rule_texts["REV-BP-ELEVATED"]["message"].startswith("Blood pressure above")
    assert len(screening.rule_texts) == 50
    event = AuditEvent.objects.get(action="screening.run")
    assert event.object_id == str(screening.uuid)
    assert event.detail["disposition"] == "eligible"


def test_age_is_derived_from_the_date_of_birth_at_the_screening_date(clinician):
    patient = make_patient(created_by=clinician, born=date(2008, 11, 25))
    intake = make_intake(patient=patient, by=clinician)
    assert run(intake, clinician, on=date(2026, 11, 24)).facts["age_years"] == 17
    assert run(intake, clinician, on=date(2026, 11, 25)).facts["age_years"] == 18


def test_pregnant_patient_is_contraindicated(patient, clinician):
    screening = run(
        make_intake(patient=patient, by=clinician, pregnancy_status="pregnant"), clinician
    )
    assert screening.disposition == "contraindicated"
    assert [f["rule"] for f in screening.result["flags"]] == ["STOP-PREGNANCY"]


def test_unrecorded_pregnancy_status_of_a_woman_of_30_is_incomplete(clinician):
    patient = make_patient(created_by=clinician, born=date(1996, 1, 1))
    screening = run(make_intake(patient=patient, by=clinician, pregnancy_status=""), clinician)
    assert screening.disposition == "incomplete"
    assert screening.result["missing"] == [
        {"fact": "pregnancy_status", "needed_by": ["STOP-PREGNANCY"]}
    ]


def test_an_invalid_intake_is_refused_by_field_and_nothing_is_stored(patient, clinician):
    intake = make_intake(patient=patient, by=clinician, systolic_bp=120, diastolic_bp=130)
    with pytest.raises(InputInvalid) as caught:
        run(intake, clinician)
    assert "diastolic_bp" in caught.value.errors
    assert not Screening.objects.exists()
    assert not AuditEvent.objects.filter(action="screening.run").exists()


def test_rerunning_supersedes_the_unsigned_screening(patient, clinician):
    intake = make_intake(patient=patient, by=clinician)
    first = run(intake, clinician)
    second = run(intake, clinician)
    first.refresh_from_db()
    assert first.status == Screening.Status.SUPERSEDED
    assert second.status == Screening.Status.UNSIGNED
    with pytest.raises(ConflictError):
        screening_sign(screening=first, user=clinician)


def test_changing_the_intake_after_a_run_supersedes_it_so_it_cannot_be_signed(patient, clinician):
    intake = make_intake(patient=patient, by=clinician)
    shown = run(intake, clinician)
    assert shown.disposition == "eligible"

    intake_save(
        intake=intake,
        user=clinician,
        expected_version=intake.version,
        values={"pregnancy_status": "pregnant"},
        trials=[],
    )

    shown.refresh_from_db()
    assert shown.status == Screening.Status.SUPERSEDED
    with pytest.raises(ConflictError, match="its intake was changed or run again"):
        screening_sign(screening=shown, user=clinician)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.DRAFT


def test_a_clinician_cannot_sign_with_an_unacknowledged_review_flag(clinician):
    patient = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = run(make_intake(patient=patient, by=clinician), clinician)
    assert [f.rule for f in pending_flags(screening)] == ["REV-PEDIATRIC"]
    with pytest.raises(ServiceError, match="“Under 18” still open"):
        screening_sign(screening=screening, user=clinician)
    flag_acknowledge(
        screening=screening, rule_id="REV-PEDIATRIC", user=clinician, reason="Specialist agreed"
    )
    signed = screening_sign(screening=screening, user=clinician)
    assert signed.is_signed
    assert signed.signed_by == clinician


def test_a_stop_flag_is_overridden_with_a_coded_reason_not_acknowledged(patient, clinician):
    screening = run(
        make_intake(patient=patient, by=clinician, pregnancy_status="pregnant"), clinician
    )
    with pytest.raises(ServiceError, match="overridden"):
        flag_acknowledge(screening=screening, rule_id="STOP-PREGNANCY", user=clinician, reason="ok")
    with pytest.raises(ServiceError, match="coded reason"):
        flag_override(
            screening=screening,
            rule_id="STOP-PREGNANCY",
            user=clinician,
            reason_code="",
            reason="x",
        )
    with pytest.raises(ServiceError, match="Give a reason"):
        flag_override(
            screening=screening,
            rule_id="STOP-PREGNANCY",
            user=clinician,
            reason_code="other",
            reason="  ",
        )
    review = flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="Obstetric MDT reviewed",
    )
    assert review.kind == FlagReview.Kind.OVERRIDDEN
    assert screening_sign(screening=screening, user=clinician).is_signed
    assert (
        AuditEvent.objects.filter(action="flag.overridden").get().detail["reason"]
        == "Obstetric MDT reviewed"
    )


def test_a_reviewer_cannot_sign_run_or_acknowledge(patient, clinician, reviewer):
    intake = make_intake(patient=patient, by=clinician)
    with pytest.raises(PermissionDenied):
        run(intake, reviewer)
    screening = run(intake, clinician)
    with pytest.raises(PermissionDenied):
        screening_sign(screening=screening, user=reviewer)
    with pytest.raises(PermissionDenied):
        flag_acknowledge(screening=screening, rule_id="X", user=reviewer, reason="x")


def test_nobody_can_change_a_signed_screening(patient, clinician, other_clinician):
    intake = make_intake(patient=patient, by=clinician)
    screening = screening_sign(screening=run(intake, clinician), user=clinician)
    with pytest.raises(LockedError):
        screening_sign(screening=screening, user=other_clinician)
    with pytest.raises(LockedError):
        run(intake, other_clinician)
    with pytest.raises(LockedError):
        intake_save(
            intake=intake,
            user=clinician,
            expected_version=intake.version,
            values={"phq9_total": 3},
            trials=[],
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE screening_screening SET disposition = 'eligible', status = 'unsigned'",
        "UPDATE screening_screening SET signed_at = now()",
        "DELETE FROM screening_screening",
        "UPDATE patients_intake SET phq9_total = 3",
        "DELETE FROM patients_antidepressanttrial",
    ],
)
def test_the_database_refuses_changes_to_a_signed_screening(patient, clinician, statement):
    screening_sign(
        screening=run(make_intake(patient=patient, by=clinician), clinician), user=clinician
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_database_refuses_to_rewrite_what_an_unsigned_screening_showed(patient, clinician):
    screening = run(make_intake(patient=patient, by=clinician), clinician)
    with pytest.raises(DatabaseError), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(disposition="contraindicated")


def test_amending_copies_the_intake_into_a_linked_draft(patient, clinician):
    original = screening_sign(
        screening=run(make_intake(patient=patient, by=clinician, phq9_total=18), clinician),
        user=clinician,
    )
    draft = screening_amend(screening=original, user=clinician, reason="Mistyped answer")
    assert draft.status == Intake.Status.DRAFT
    assert draft.amends == original
    assert draft.phq9_total == 18
    assert draft.trials.count() == 2
    amended = run(draft, clinician)
    assert amended.amends == original
    assert list(original.amended_by.all()) == [amended]


def test_saving_a_draft_records_who_saved_it_and_when(patient, clinician, other_clinician):
    intake = make_intake(patient=patient, by=clinician)
    opened = Intake.objects.get(pk=intake.pk)

    saved = intake_save(
        intake=intake,
        user=other_clinician,
        expected_version=intake.version,
        values={"phq9_total": 20},
        trials=[],
    )

    stored = Intake.objects.get(pk=intake.pk)
    assert stored.updated_at > opened.updated_at
    assert (stored.updated_by, stored.version, stored.phq9_total) == (
        other_clinician,
        opened.version + 1,
        20,
    )
    assert (saved.updated_at, saved.updated_by, saved.version) == (
        stored.updated_at,
        other_clinician,
        stored.version,
    )


def test_the_second_of_two_concurrent_draft_saves_is_refused(patient, clinician, other_clinician):
    intake = make_intake(patient=patient, by=clinician)
    opened_at = intake.version
    intake_save(
        intake=intake,
        user=clinician,
        expected_version=opened_at,
        values={"phq9_total": 20},
        trials=[],
    )
    with pytest.raises(ConflictError, match="Another clinician saved"):
        intake_save(
            intake=intake,
            user=other_clinician,
            expected_version=opened_at,
            values={"phq9_total": 5},
            trials=[],
        )
    intake.refresh_from_db()
    assert intake.phq9_total == 20
