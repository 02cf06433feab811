"""Rule administration services: drafts, rule edits, test cases, publishing (PostgreSQL)."""

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from rules import services
from rules.cases import cases_check
from rules.loader import DEFAULT_RULES_FILES, compiled_version, version_spec
from rules.models import ImmutableVersionError, Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.selectors import numbered_version, published_version
from rules.services import (
    DraftExists,
    PublishRefused,
    draft_discard,
    draft_start,
    rule_add,
    rule_case_create,
    rule_case_expectation_update,
    rule_case_update,
    rule_retire,
    rule_set_publish,
    rule_update,
)
from screening.core.errors import LockedError, ServiceError
from screening.core.models import AuditEvent
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
#: What `migrate` leaves: version 2 (50 rules) published, version 1 (44 rules) retired, and the
#: 18 version-2 vignettes as the rule set's test cases.
IN_FORCE, RULES_IN_FORCE, CASES = 2, 50, 18
VIGNETTES_V1 = DEFAULT_RULES_FILES[1].parent / "vignettes"
NEW_BP_MESSAGE = "Blood pressure above 140/90 at intake: recheck before dosing and weigh the risk."


@pytest.fixture
def rule_set():
    return RuleSet.objects.get(name="ketamine")


@pytest.fixture
def draft(rule_set, rule_admin):
    return draft_start(rule_set=rule_set, user=rule_admin)


def draft_rule(draft, rule_id):
    return draft.rules.get(rule_id=rule_id)


def publish(draft, user, note="Reworded the elevated blood pressure message."):
    return rule_set_publish(version=draft, user=user, change_note=note, today=ON)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- the migrated cases ------------------------------------------------------------------------


def test_the_eighteen_version_2_vignettes_are_the_test_cases_and_version_2_passes_them(rule_set):
    cases = list(rule_set.test_cases.order_by("name"))
    assert len(cases) == CASES
    assert {c.name for c in cases} >= {"trd-eligible", "cssrs-q1-unrecorded", "pregnant"}
    assert published_version().number == IN_FORCE
    summary = cases_check(compiled_version(published_version()), cases, today=ON)
    assert summary.passed == CASES
    assert summary.all_pass


def test_the_retired_version_1_still_passes_the_fourteen_version_1_vignettes():
    cases = [
        RuleTestCase(name=v["name"], facts=v["facts"], expected=v["expected"])
        for v in (json.loads(p.read_text()) for p in sorted(VIGNETTES_V1.glob("*.json")))
    ]
    version_1 = numbered_version(1)
    assert version_1.status == RuleSetVersion.Status.RETIRED
    assert version_1.language == 1
    summary = cases_check(compiled_version(version_1), cases, today=ON)
    assert (summary.total, summary.passed) == (14, 14)


# --- drafts ------------------------------------------------------------------------------------


def test_starting_a_draft_copies_every_rule_of_the_published_version(draft, rule_admin):
    published = published_version()
    assert draft.status == RuleSetVersion.Status.DRAFT
    assert draft.number is None
    assert draft.based_on == published
    assert draft.created_by == rule_admin
    fields = ("rule_id", "position", "kind", "condition", "severity", "title", "message")
    fields += ("evidence", "source", "diagnosis_logic", "logic")
    assert list(draft.rules.order_by("position").values_list(*fields)) == list(
        published.rules.order_by("position").values_list(*fields)
    )
    assert version_spec(draft).version == IN_FORCE + 1
    assert draft.language == published.language == 2
    [event] = events("rules.draft_start")
    assert event.actor == rule_admin
    assert event.object_id == str(draft.uuid)
    assert event.detail == {
        "rule_set": "ketamine",
        "version": None,
        "based_on": IN_FORCE,
        "rules": RULES_IN_FORCE,
    }


def test_a_rule_set_has_one_open_draft_at_a_time(draft, rule_set, rule_admin):
    with pytest.raises(DraftExists) as refused:
        draft_start(rule_set=rule_set, user=rule_admin)
    assert refused.value.draft == draft
    assert "already has an open draft, started by avery" in str(refused.value)
    assert "discard it before starting another" in str(refused.value)
    assert RuleSetVersion.objects.filter(status="draft").count() == 1


def test_the_database_refuses_a_second_open_draft(draft, rule_set):
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleSetVersion.objects.create(rule_set=rule_set)


def test_discarding_a_draft_deletes_it_and_leaves_the_published_version(draft, rule_admin):
    draft_discard(draft=draft, user=rule_admin)
    assert not RuleSetVersion.objects.filter(pk=draft.pk).exists()
    assert not Rule.objects.filter(version_id=draft.pk).exists()
    assert published_version().rules.count() == RULES_IN_FORCE
    [event] = events("rules.draft_discard")
    assert event.detail["rules"] == RULES_IN_FORCE
    assert event.detail["started_by"] == "avery"


def test_a_published_version_cannot_be_discarded(rule_admin):
    with pytest.raises(LockedError):
        draft_discard(draft=published_version(), user=rule_admin)
    assert published_version().number == IN_FORCE


# --- editing rules -----------------------------------------------------------------------------


def test_editing_a_draft_rule_changes_the_draft_only_and_audits_old_and_new_text(draft, rule_admin):
    rule = draft_rule(draft, "REV-BP-ELEVATED")
    old_message = rule.message

    changed = rule_update(
        rule=rule, user=rule_admin, values={"message": NEW_BP_MESSAGE, "title": rule.title}
    )

    assert changed == ["message"]
    assert draft_rule(draft, "REV-BP-ELEVATED").message == NEW_BP_MESSAGE
    assert published_version().rules.get(rule_id="REV-BP-ELEVATED").message == old_message
    [event] = events("rules.rule_update")
    assert event.actor == rule_admin
    assert event.detail["rule"] == "REV-BP-ELEVATED"
    assert event.detail["changes"] == {"message": {"old": old_message, "new": NEW_BP_MESSAGE}}


def test_saving_without_changes_writes_nothing(draft, rule_admin):
    rule = draft_rule(draft, "REV-BP-ELEVATED")
    assert rule_update(rule=rule, user=rule_admin, values={"message": rule.message}) == []
    assert events("rules.rule_update") == []


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        (
            'pregancy_status = "pregnant"',
            "unknown fact 'pregancy_status'; did you mean pregnancy_status? (column 1)",
        ),
        (
            'pregnancy_status = "pregant"',
            "value 'pregant' is not allowed for pregnancy_status",
        ),
        ("bp_elevated and (not bp_crisis", "(column 31)"),
    ],
)
def test_logic_is_checked_with_the_engine_and_refused_by_field_with_its_position(
    draft, rule_admin, logic, expected
):
    rule = draft_rule(draft, "REV-BP-ELEVATED")
    with pytest.raises(ValidationError) as refused:
        rule_update(rule=rule, user=rule_admin, values={"logic": logic})
    [message] = refused.value.message_dict["logic"]
    assert expected in message
    assert draft_rule(draft, "REV-BP-ELEVATED").logic == "bp_elevated and not bp_crisis"
    assert events("rules.rule_update") == []


def test_an_indication_rules_diagnosis_test_is_editable_but_its_condition_is_fixed(
    draft, rule_admin
):
    rule = draft_rule(draft, "IND-GAD")
    rule_update(rule=rule, user=rule_admin, values={"diagnosis_logic": '"gad" in diagnoses'})
    with pytest.raises(ValidationError) as refused:
        rule_update(rule=rule, user=rule_admin, values={"condition": "ptsd"})
    assert "condition" in refused.value.message_dict
    assert draft_rule(draft, "IND-GAD").condition == "gad"


def test_published_rules_never_change_through_services_models_or_sql(draft, rule_admin):
    published_rule = published_version().rules.get(rule_id="REV-BP-ELEVATED")
    with pytest.raises(LockedError):
        rule_update(rule=published_rule, user=rule_admin, values={"message": "Changed"})
    with pytest.raises(LockedError):
        rule_retire(rule=published_rule, user=rule_admin)
    published_rule.message = "Changed"
    with pytest.raises(ImmutableVersionError):
        published_rule.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        Rule.objects.filter(pk=published_rule.pk).update(message="Changed")
    assert (
        published_version()
        .rules.get(rule_id="REV-BP-ELEVATED")
        .message.startswith("Blood pressure above 140/90")
    )


def test_adding_a_consideration_rule_needs_a_new_id_in_the_engines_pattern(draft, rule_admin):
    rule = rule_add(
        draft=draft,
        user=rule_admin,
        rule_id="REV-HEART-RATE",
        severity="review",
        title="Fast heart rate",
        message="Heart rate above 110 at intake.",
        logic="heart_rate > 110",
    )
    assert rule.position == RULES_IN_FORCE + 1
    assert rule.kind == "consideration"
    assert events("rules.rule_add")[0].detail["text"]["logic"] == "heart_rate > 110"

    with pytest.raises(ValidationError) as refused:
        rule_add(
            draft=draft,
            user=rule_admin,
            rule_id="REV-HEART-RATE",
            severity="review",
            title="Again",
            logic="heart_rate > 120",
        )
    assert "already a rule of this draft" in refused.value.message_dict["rule_id"][0]
    with pytest.raises(ValidationError) as refused:
        rule_add(
            draft=draft,
            user=rule_admin,
            rule_id="rev heart",
            severity="loud",
            title="",
            logic="heart_rate >",
        )
    assert set(refused.value.message_dict) == {"rule_id", "severity", "title", "logic"}
    assert draft.rules.count() == RULES_IN_FORCE + 1


def test_indication_rules_cannot_be_retired(draft, rule_admin):
    with pytest.raises(ServiceError, match="all eight conditions"):
        rule_retire(rule=draft_rule(draft, "IND-CRPS"), user=rule_admin)
    assert draft.rules.filter(kind="indication").count() == 8


def test_retiring_a_consideration_rule_removes_it_from_the_draft_only(draft, rule_admin):
    rule_retire(rule=draft_rule(draft, "INFO-ESCORT"), user=rule_admin)
    assert not draft.rules.filter(rule_id="INFO-ESCORT").exists()
    assert published_version().rules.filter(rule_id="INFO-ESCORT").exists()
    [event] = events("rules.rule_retire")
    assert event.detail["rule"] == "INFO-ESCORT"
    assert (
        event.detail["text"]["title"] == published_version().rules.get(rule_id="INFO-ESCORT").title
    )


# --- publishing --------------------------------------------------------------------------------


def test_publishing_needs_a_change_note(draft, rule_admin):
    with pytest.raises(ValidationError) as refused:
        publish(draft, rule_admin, note="   ")
    assert "change note" in refused.value.message_dict["change_note"][0]
    draft.refresh_from_db()
    assert draft.is_draft
    assert published_version().number == IN_FORCE


def test_publishing_numbers_version_3_and_retires_version_2(draft, rule_admin):
    rule_update(
        rule=draft_rule(draft, "REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": NEW_BP_MESSAGE},
    )
    version_2 = published_version()

    published = publish(draft, rule_admin)

    assert published.number == 3
    assert published.language == 2
    assert published.status == RuleSetVersion.Status.PUBLISHED
    assert published.published_by == rule_admin
    assert published.change_note == "Reworded the elevated blood pressure message."
    version_2.refresh_from_db()
    assert version_2.status == RuleSetVersion.Status.RETIRED
    assert version_2.retired_at == published.published_at
    assert published_version() == published
    retire, publish_event = events("rules.version_retire") + events("rules.version_publish")
    assert retire.object_id == str(version_2.uuid)
    assert retire.detail == {"rule_set": "ketamine", "version": 2, "replaced_by": 3}
    assert publish_event.detail["version"] == 3
    assert publish_event.detail["replaces"] == 2
    assert publish_event.detail["test_cases_passed"] == CASES


def test_publishing_is_one_transaction_so_a_failure_changes_nothing(draft, rule_admin, monkeypatch):
    def audit_fails(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(services, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        publish(draft, rule_admin)

    assert published_version().number == IN_FORCE
    assert published_version().retired_at is None
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.number is None


def test_a_published_version_cannot_be_published_again(draft, rule_admin):
    published = publish(draft, rule_admin)
    with pytest.raises(LockedError):
        publish(published, rule_admin)


def test_a_draft_that_does_not_compile_cannot_be_published(draft, rule_admin):
    # Only a direct write can store broken logic: the services refuse it.
    Rule.objects.filter(version=draft, rule_id="STOP-ICP").update(logic="raised_icp")
    with pytest.raises(PublishRefused) as refused:
        publish(draft, rule_admin)
    assert "does not compile" in str(refused.value)
    assert any(
        p.startswith("STOP-ICP.logic: unknown fact 'raised_icp'") for p in refused.value.problems
    )
    assert published_version().number == IN_FORCE


def test_a_failing_case_blocks_publishing_until_its_expectation_is_updated_with_a_reason(
    draft, rule_set, rule_admin
):
    rule_retire(rule=draft_rule(draft, "REV-BREASTFEEDING"), user=rule_admin)

    with pytest.raises(PublishRefused) as refused:
        publish(draft, rule_admin, note="Breastfeeding is no longer flagged.")
    assert refused.value.problems == ["breastfeeding-after-hysterectomy"]
    assert "1 of 18 test cases fail" in str(refused.value)

    case = rule_set.test_cases.get(name="breastfeeding-after-hysterectomy")
    with pytest.raises(ValidationError):
        rule_case_expectation_update(case=case, draft=draft, user=rule_admin, reason=" ", today=ON)
    rule_case_expectation_update(
        case=case,
        draft=draft,
        user=rule_admin,
        reason="Governance decision: lactation advice is given at every consultation instead.",
        today=ON,
    )

    case.refresh_from_db()
    assert case.expected["flags"] == []
    assert case.expected["disposition"] == "eligible"
    assert case.updated_by == rule_admin
    [event] = events("rules.case_expectation_update")
    assert event.detail["reason"].startswith("Governance decision")
    assert event.detail["old"]["flags"] == ["REV-BREASTFEEDING"]
    assert event.detail["new"]["flags"] == []
    assert set(event.detail["differences"]) == {"disposition", "flags"}

    assert publish(draft, rule_admin, note="Breastfeeding is no longer flagged.").number == 3


def test_a_passing_case_has_no_expectation_to_update(draft, rule_set, rule_admin):
    case = rule_set.test_cases.get(name="trd-eligible")
    with pytest.raises(ServiceError, match="already passes"):
        rule_case_expectation_update(case=case, draft=draft, user=rule_admin, reason="x", today=ON)
    assert events("rules.case_expectation_update") == []


def test_a_screening_keeps_the_text_of_its_version_after_publishing(draft, rule_admin, clinician):
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    before = screening_run(
        intake=make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95),
        user=clinician,
        on=ON,
    )
    rule_update(
        rule=draft_rule(draft, "REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": NEW_BP_MESSAGE},
    )
    publish(draft, rule_admin)
    after = screening_run(
        intake=make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95),
        user=clinician,
        on=ON,
    )

    before.refresh_from_db()
    assert before.ruleset_version.number == IN_FORCE
    assert before.rule_texts["REV-BP-ELEVATED"]["message"].startswith("Blood pressure above")
    [old_flag] = [f for f in before.result["flags"] if f["rule"] == "REV-BP-ELEVATED"]
    assert old_flag["message"] != NEW_BP_MESSAGE
    assert after.ruleset_version.number == IN_FORCE + 1
    assert after.rule_texts["REV-BP-ELEVATED"]["message"] == NEW_BP_MESSAGE
    [new_flag] = [f for f in after.result["flags"] if f["rule"] == "REV-BP-ELEVATED"]
    assert new_flag["message"] == NEW_BP_MESSAGE


# --- test cases --------------------------------------------------------------------------------

CASE_FACTS = {"age_years": 29, "sex_at_birth": "male", "diagnoses": ["gad"]}


def test_creating_and_editing_a_case_is_audited_with_old_and_new_values(rule_set, rule_admin):
    sparse = rule_set.test_cases.get(name="crps")
    expected = dict(sparse.expected, flags=["REV-PEDIATRIC", "INFO-ESCORT", "REV-PEDIATRIC"])

    case = rule_case_create(
        rule_set=rule_set,
        user=rule_admin,
        name="sparse-gad",
        description="Sparse GAD intake.",
        facts=CASE_FACTS,
        expected=expected,
        today=ON,
    )
    assert case.expected["flags"] == ["INFO-ESCORT", "REV-PEDIATRIC"]  # sorted, no repeats
    assert events("rules.case_create")[0].detail["case"] == "sparse-gad"

    changed = rule_case_update(
        case=case,
        user=rule_admin,
        name="sparse-gad",
        description="Only age, sex and a GAD diagnosis.",
        facts=CASE_FACTS,
        expected=sparse.expected,
        today=ON,
    )
    assert changed == ["expected", "description"]
    [event] = events("rules.case_update")
    assert event.detail["changes"]["description"] == {
        "old": "Sparse GAD intake.",
        "new": "Only age, sex and a GAD diagnosis.",
    }
    assert event.detail["changes"]["expected"]["old"]["flags"] == ["INFO-ESCORT", "REV-PEDIATRIC"]
    assert event.detail["changes"]["expected"]["new"]["flags"] == []


def test_a_case_with_unknown_facts_or_a_malformed_expectation_is_refused(rule_set, rule_admin):
    with pytest.raises(ValidationError) as refused:
        rule_case_create(
            rule_set=rule_set,
            user=rule_admin,
            name="trd-eligible",
            description="",
            facts={"pregancy_status": "pregnant"},
            expected={"disposition": "cured", "urgent": False},
            today=ON,
        )
    errors = refused.value.message_dict
    assert "already has a case called trd-eligible" in errors["name"][0]
    assert any("pregancy_status unknown fact" in m for m in errors["facts"])
    assert any(m.startswith("disposition:") for m in errors["expected"])
    assert RuleTestCase.objects.filter(rule_set=rule_set).count() == CASES


# --- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["clinician", "reviewer", "outsider"])
def test_only_rule_admins_may_use_the_rule_services(person, request, rule_set, draft):
    user = request.getfixturevalue(person)
    rule = draft_rule(draft, "REV-BP-ELEVATED")
    case = rule_set.test_cases.get(name="bladder-symptoms")
    attempts = [
        lambda: draft_start(rule_set=rule_set, user=user),
        lambda: draft_discard(draft=draft, user=user),
        lambda: rule_update(rule=rule, user=user, values={"message": "x"}),
        lambda: rule_add(
            draft=draft, user=user, rule_id="REV-X", severity="info", title="x", logic="bipolar"
        ),
        lambda: rule_retire(rule=rule, user=user),
        lambda: rule_case_create(
            rule_set=rule_set, user=user, name="x", description="", facts={}, expected={}
        ),
        lambda: rule_case_update(
            case=case, user=user, name="x", description="", facts={}, expected={}
        ),
        lambda: rule_case_expectation_update(case=case, draft=draft, user=user, reason="x"),
        lambda: services.impact_preview_start(draft=draft, user=user),
        lambda: publish(draft, user),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft_rule(draft, "REV-BP-ELEVATED").message == rule.message
    assert not AuditEvent.objects.filter(action__startswith="rules.", actor=user).exists()
