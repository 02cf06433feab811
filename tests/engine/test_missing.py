"""`missing`: each unrecorded input fact that left a rule undetermined, with the rules it
blocked, sorted by fact; derived facts are reported as the inputs they come from."""

from typing import Any

import pytest

from rules.engine import CompiledRuleSet, ScreeningResult, compile_logic, validate_facts
from tests.engine.data import TODAY, Screen, vignette


def missing(result: ScreeningResult) -> dict[str, tuple[str, ...]]:
    return {m.fact: m.needed_by for m in result.missing}


def test_missing_facts_are_sorted_by_fact(ruleset: CompiledRuleSet):
    result = ruleset.screen(vignette("sparse-intake")["facts"], today=TODAY)
    facts = [m.fact for m in result.missing]

    assert len(facts) > 20
    assert facts == sorted(facts)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"cssrs": None}, {"cssrs": ("URG-SUICIDE-RISK", "REV-SUICIDE-RISK")}, id="cssrs"
        ),
        pytest.param(
            {
                "cssrs": {
                    "wish_dead": True,
                    "active_thoughts": True,
                    "behavior_past_3_months": False,
                    "behavior_lifetime": False,
                }
            },
            {"cssrs": ("URG-SUICIDE-RISK", "REV-SUICIDE-RISK")},
            id="cssrs-follow-ups-unanswered",
        ),
        pytest.param(
            {"antidepressant_trials": None},
            {"antidepressant_trials": ("IND-MDD", "IND-TRD")},
            id="trials",
        ),
        pytest.param(
            {"diagnoses": None},
            {
                "diagnoses": (
                    "IND-MDD",
                    "IND-TRD",
                    "IND-BIPOLAR",
                    "IND-GAD",
                    "IND-PTSD",
                    "IND-OCD",
                    "IND-FIBROMYALGIA",
                    "IND-CRPS",
                    "REV-BIPOLAR-SWITCH",
                    "REV-BIPOLAR-NO-STABILISER",
                )
            },
            id="diagnoses",
        ),
        pytest.param(
            {"systolic_bp": None},
            {"systolic_bp": ("STOP-BP-CRISIS", "REV-BP-ELEVATED")},
            id="systolic-only",
        ),
        pytest.param(
            {"diastolic_bp": None},
            {"diastolic_bp": ("STOP-BP-CRISIS", "REV-BP-ELEVATED")},
            id="diastolic-only",
        ),
        pytest.param(
            {"systolic_bp": None, "diastolic_bp": None},
            {
                "diastolic_bp": ("STOP-BP-CRISIS", "REV-BP-ELEVATED"),
                "systolic_bp": ("STOP-BP-CRISIS", "REV-BP-ELEVATED"),
            },
            id="both-pressures",
        ),
        pytest.param(
            {"systolic_bp": None, "diastolic_bp": 95},
            {"systolic_bp": ("STOP-BP-CRISIS", "REV-BP-ELEVATED")},
            id="elevated-known-crisis-open",
        ),
        pytest.param(
            {"age_years": None},
            {"age_years": ("REV-PEDIATRIC", "REV-OLDER-ADULT", "INFO-YOUNG-ADULT")},
            id="age",
        ),
        pytest.param(
            {"pregnancy_status": None, "breastfeeding": None},
            {
                "breastfeeding": ("REV-BREASTFEEDING",),
                "pregnancy_status": ("STOP-PREGNANCY", "REV-BREASTFEEDING"),
            },
            id="pregnancy-and-breastfeeding",
        ),
        pytest.param(
            {"phq9_total": None},
            {"phq9_total": ("IND-MDD", "IND-TRD")},
            id="criterion-of-a-diagnosed-condition",
        ),
        pytest.param(
            {"diagnoses": ["bipolar_ii"], "takes_mood_stabilizer": None},
            {"takes_mood_stabilizer": ("REV-BIPOLAR-NO-STABILISER",)},
            id="bipolar-and-unknown-stabiliser",
        ),
    ],
)
def test_missing_reports_input_facts_and_the_rules_they_blocked(
    screen: Screen, changes: dict[str, Any], expected: dict[str, tuple[str, ...]]
):
    result = screen(**changes)

    assert missing(result) == expected
    assert [m.fact for m in result.missing] == sorted(expected)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"sex_at_birth": "male", "pregnancy_status": None, "breastfeeding": None},
            id="breastfeeding-absent-for-a-male",
        ),
        pytest.param(
            {"age_years": 60, "pregnancy_status": None, "planning_pregnancy": None},
            id="planning-absent-at-60",
        ),
        pytest.param({"takes_mood_stabilizer": None}, id="false-and-unknown"),
        pytest.param({"takes_stimulant": True, "takes_maoi": None}, id="true-or-unknown"),
        pytest.param(
            {"takes_opioid": True, "benzodiazepine_dose_mg_diazepam_eq": 9}, id="all-known"
        ),
        pytest.param(
            {"phq9_total": 9, "antidepressant_trials": None},
            id="criteria-already-false",
        ),
        pytest.param({"diagnoses": [], "phq9_total": None, "gad7_total": None}, id="no-diagnosis"),
        pytest.param({"heart_rate": None}, id="fact-no-rule-reads"),
        pytest.param({"cssrs": {"behavior_past_3_months": True}}, id="risk-decided-high"),
    ],
)
def test_unknown_fact_that_did_not_change_an_outcome_is_not_missing(
    screen: Screen, changes: dict[str, Any]
):
    assert screen(**changes).missing == ()


def test_a_fact_shared_by_rules_lists_each_rule_it_blocked_once(screen: Screen):
    result = screen(takes_opioid=None, benzodiazepine_dose_mg_diazepam_eq=None)

    assert missing(result) == {
        "benzodiazepine_dose_mg_diazepam_eq": ("REV-BENZODIAZEPINE", "REV-SEDATION"),
        "takes_opioid": ("REV-SEDATION",),
    }


def test_sparse_intake_lists_every_blocked_input(ruleset: CompiledRuleSet):
    case = vignette("sparse-intake")

    result = ruleset.screen(case["facts"], today=TODAY)

    assert [m.fact for m in result.missing] == case["expected"]["missing"]
    assert missing(result)["gad7_total"] == ("IND-GAD",)
    assert missing(result)["systolic_bp"] == ("STOP-BP-CRISIS", "REV-BP-ELEVATED")


@pytest.mark.parametrize(
    ("text", "document", "blamed"),
    [
        ("takes_maoi and takes_opioid", {}, {"takes_maoi", "takes_opioid"}),
        ("takes_maoi and takes_opioid", {"takes_maoi": True}, {"takes_opioid"}),
        ("takes_maoi and takes_opioid", {"takes_maoi": False}, set()),
        ("takes_maoi or takes_opioid", {"takes_maoi": True}, set()),
        ("not takes_maoi", {}, {"takes_maoi"}),
        (
            "(takes_maoi or takes_stimulant) and takes_opioid",
            {"takes_stimulant": True},
            {"takes_opioid"},
        ),
        ("bp_elevated and not bp_crisis", {"systolic_bp": 150}, {"diastolic_bp"}),
        ('suicide_risk = "high" or bipolar', {}, {"cssrs", "diagnoses"}),
        ("failed_adequate_antidepressant_trials >= 2", {}, {"antidepressant_trials"}),
    ],
)
def test_only_facts_that_leave_the_logic_open_are_blamed(
    text: str, document: dict[str, Any], blamed: set[str]
):
    values = validate_facts(document, today=TODAY).values

    assert compile_logic(text).blame(values) == blamed
