"""Clinicians never lose work and never sign a result they should not (services, PostgreSQL):
saving unchanged answers changes nothing, reviews carry forward only when their flag fired again
for the same reasons, a result computed under retired rules needs a re-run or a reason, an
incomplete result needs reasons, an amendment needs a reason, and autosave keeps a working copy
without touching the intake."""

from datetime import date

import pytest

from patients.models import Intake, IntakeAutosave
from patients.services import intake_autosave
from rules.models import RuleSet
from rules.services import draft_start, rule_set_publish, rule_update
from screening.core.errors import ConflictError, InputInvalid, LockedError
from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from screening.services import (
    flag_acknowledge,
    flag_override,
    intake_save,
    screening_amend,
    screening_run,
    screening_sign,
    sign_off,
)
from tests.factories import ELIGIBLE_TRD, TWO_FAILED_TRIALS, make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1))


@pytest.fixture
def flagged(patient, clinician):
    """Pregnant (STOP-PREGNANCY) with raised blood pressure (REV-BP-ELEVATED), both reviewed."""
    intake = make_intake(
        patient=patient, by=clinician, pregnancy_status="pregnant", systolic_bp=150, diastolic_bp=95
    )
    screening = screening_run(intake=intake, user=clinician, on=ON)
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="MDT approved",
    )
    flag_acknowledge(
        screening=screening, rule_id="REV-BP-ELEVATED", user=clinician, reason="Rechecked"
    )
    return Intake.objects.get(pk=intake.pk), screening


def answers_of(intake: Intake, **changes):
    values = {name: getattr(intake, name) for name in ELIGIBLE_TRD}
    return {**values, **changes}


def save(intake, user, **changes):
    return intake_save(
        intake=intake,
        user=user,
        expected_version=intake.version,
        values=answers_of(intake, **changes),
        trials=[dict(t) for t in TWO_FAILED_TRIALS],
    )


def test_saving_unchanged_answers_keeps_the_pending_result_and_its_reviews(flagged, clinician):
    intake, screening = flagged
    events = AuditEvent.objects.count()
    saved = save(intake, clinician)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED
    assert screening.reviews.count() == 2
    assert saved.version == intake.version
    assert AuditEvent.objects.count() == events


def test_saving_changed_answers_supersedes_the_pending_result(flagged, clinician):
    intake, screening = flagged
    before = intake.version
    saved = save(intake, clinician, phq9_total=21)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUPERSEDED
    assert saved.version == before + 1


def test_a_rerun_carries_forward_reviews_whose_flags_fired_for_the_same_reasons(
    flagged, clinician, other_clinician
):
    intake, first = flagged
    # The blood pressure changes (so REV-BP-ELEVATED fires for another reason); the pregnancy
    # does not (so STOP-PREGNANCY fires for the same one).
    intake = save(intake, clinician, systolic_bp=152)
    second = screening_run(intake=intake, user=other_clinician, on=ON)

    carried = second.reviews.get(rule_id="STOP-PREGNANCY")
    original = first.reviews.get(rule_id="STOP-PREGNANCY")
    assert carried.carried_from == original
    assert (carried.kind, carried.reason_code, carried.reason) == (
        "overridden",
        "specialist_approval",
        "MDT approved",
    )
    assert carried.reviewed_by == clinician
    assert not second.reviews.filter(rule_id="REV-BP-ELEVATED").exists()
    assert [f.rule for f in second.outcome.flags if f.severity != "info"] == [
        "STOP-PREGNANCY",
        "REV-BP-ELEVATED",
    ]
    flag = second.fired_flags.get(rule_id="STOP-PREGNANCY")
    assert flag.review_kind == "overridden"
    run = AuditEvent.objects.filter(action="screening.run").latest("seq")
    assert run.detail["carried_forward"] == ["STOP-PREGNANCY"]
    assert run.detail["carried_from"] == str(first.uuid)


def test_a_flag_that_fires_again_with_a_new_severity_is_not_carried(patient, clinician):
    assert flag_review_carried(patient, clinician, same=True)
    assert not flag_review_carried(patient, clinician, same=False)


def flag_review_carried(patient, clinician, *, same: bool) -> bool:
    intake = make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95)
    first = screening_run(intake=intake, user=clinician, on=ON)
    flag_acknowledge(screening=first, rule_id="REV-BP-ELEVATED", user=clinician, reason="Seen")
    intake = Intake.objects.get(pk=intake.pk)
    if not same:
        intake = save(intake, clinician, systolic_bp=149)
    second = screening_run(intake=intake, user=clinician, on=ON)
    return second.reviews.filter(rule_id="REV-BP-ELEVATED", carried_from__isnull=False).exists()


def test_an_amendment_needs_a_reason_and_carries_the_signed_reviews_forward(flagged, clinician):
    _intake, screening = flagged
    screening = screening_sign(screening=screening, user=clinician)
    with pytest.raises(InputInvalid) as refused:
        screening_amend(screening=screening, user=clinician, reason="  ")
    assert "reason" in refused.value.errors

    draft = screening_amend(screening=screening, user=clinician, reason="Wrong blood pressure")
    assert draft.amendment_reason == "Wrong blood pressure"
    assert (
        AuditEvent.objects.get(action="screening.amend").detail["reason"] == "Wrong blood pressure"
    )
    amending = screening_run(intake=draft, user=clinician, on=ON)
    assert set(amending.reviews.values_list("rule_id", flat=True)) == {
        "STOP-PREGNANCY",
        "REV-BP-ELEVATED",
    }
    assert {r.carried_from.screening_id for r in amending.reviews.all()} == {screening.pk}


def publish_new_version(rule_admin):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": "Blood pressure above 140/90 mmHg: recheck before treating."},
    )
    return rule_set_publish(version=draft, user=rule_admin, change_note="Reworded", today=ON)


def test_a_result_computed_under_retired_rules_is_signed_only_with_a_reason(
    patient, clinician, rule_admin
):
    screening = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician)
    assert not sign_off(screening).stale
    was = screening.ruleset_version.number
    newer = publish_new_version(rule_admin)
    assert newer.number == was + 1

    required = sign_off(screening)
    assert required.stale
    assert required.current == newer
    with pytest.raises(InputInvalid) as refused:
        screening_sign(screening=screening, user=clinician)
    assert "stale_reason" in refused.value.errors
    assert f"version {was}, and version {was + 1} is published now" in str(refused.value)
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.UNSIGNED

    signed = screening_sign(
        screening=screening, user=clinician, stale_reason="Only a message was reworded"
    )
    assert signed.stale_rules_reason == "Only a message was reworded"
    detail = AuditEvent.objects.get(action="screening.sign").detail
    assert detail["stale_rules"] == {
        "version": was,
        "published": was + 1,
        "reason": "Only a message was reworded",
    }


def test_running_a_stale_result_again_uses_the_current_rules_and_keeps_its_reviews(
    flagged, clinician, rule_admin
):
    intake, screening = flagged
    newer = publish_new_version(rule_admin)
    rerun = screening_run(intake=intake, user=clinician, on=ON)
    assert rerun.ruleset_version == newer
    assert newer.number == screening.ruleset_version.number + 1
    assert not sign_off(rerun).stale
    # The new version reworded REV-BP-ELEVATED's message: what the clinician acknowledged is
    # not what is shown now, so only the unchanged rule's review is carried.
    assert list(rerun.reviews.values_list("rule_id", flat=True)) == ["STOP-PREGNANCY"]
    flag_acknowledge(
        screening=rerun, rule_id="REV-BP-ELEVATED", user=clinician, reason="Read the new advice"
    )
    assert screening_sign(screening=rerun, user=clinician).is_signed


def test_an_incomplete_result_is_signed_only_with_a_reason_for_each_safety_fact(patient, clinician):
    intake = make_intake(patient=patient, by=clinician, pregnancy_status="")
    screening = screening_run(intake=intake, user=clinician, on=ON)
    assert screening.disposition == "incomplete"
    assert sign_off(screening).reasons_for == ("pregnancy_status",)

    with pytest.raises(InputInvalid) as refused:
        screening_sign(screening=screening, user=clinician, incomplete_reasons={"other": "x"})
    assert "pregnancy_status" in str(refused.value)

    signed = screening_sign(
        screening=screening,
        user=clinician,
        incomplete_reasons={"*": "Patient declined to answer"},
    )
    assert signed.incomplete_reasons == {"pregnancy_status": "Patient declined to answer"}
    detail = AuditEvent.objects.get(action="screening.sign").detail
    assert detail["incomplete_reasons"] == {"pregnancy_status": "Patient declined to answer"}


def test_autosave_keeps_a_working_copy_and_never_touches_the_intake(flagged, clinician):
    intake, screening = flagged
    data = {"phq9_total": ["23"], "version": [str(intake.version)]}
    intake_autosave(intake=intake, user=clinician, data=data, base_version=intake.version)
    intake_autosave(intake=intake, user=clinician, data=data, base_version=intake.version)

    assert IntakeAutosave.objects.get(intake=intake, saved_by=clinician).data == data
    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.version, stored.phq9_total) == (intake.version, intake.phq9_total)
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED


def test_an_autosave_after_someone_saved_is_refused_and_saving_discards_it(flagged, clinician):
    intake, _screening = flagged
    data = {"phq9_total": ["23"]}
    opened = intake.version
    intake_autosave(intake=intake, user=clinician, data=data, base_version=opened)
    saved = save(intake, clinician, phq9_total=22)
    assert not IntakeAutosave.objects.filter(intake=intake).exists()
    with pytest.raises(ConflictError):
        intake_autosave(intake=intake, user=clinician, data=data, base_version=opened)
    intake_autosave(intake=saved, user=clinician, data=data, base_version=saved.version)


def test_an_autosave_of_a_signed_intake_is_refused(flagged, clinician):
    intake, screening = flagged
    screening_sign(screening=screening, user=clinician)
    with pytest.raises(LockedError):
        intake_autosave(intake=intake, user=clinician, data={}, base_version=intake.version)
    assert not FlagReview.objects.filter(carried_from__isnull=False).exists()
