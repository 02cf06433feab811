"""`because`: explanations come from the rule's own logic, naming the facts and values that
decided it, and unrecorded facts as "<fact> not recorded"."""

from typing import Any

import pytest

from rules.engine import ScreeningResult, compile_logic, compile_ruleset, validate_facts
from tests.engine.data import TODAY, Screen, default_ruleset_spec


def because_of_flag(result: ScreeningResult, rule: str) -> tuple[str, ...]:
    [flag] = [f for f in result.flags if f.rule == rule]
    return flag.because


def because_of_indication(result: ScreeningResult, condition: str) -> tuple[str, ...]:
    [indication] = [i for i in result.indications if i.condition == condition]
    return indication.because


@pytest.mark.parametrize(
    ("changes", "rule", "because"),
    [
        ({"age_years": 16}, "REV-PEDIATRIC", ("age_years = 16 (< 18)",)),
        ({"age_years": 65}, "REV-OLDER-ADULT", ("age_years = 65 (≥ 65)",)),
        ({"age_years": 18}, "INFO-YOUNG-ADULT", ("age_years = 18 (≥ 18)", "age_years = 18 (≤ 24)")),
        ({"pregnancy_status": "pregnant"}, "STOP-PREGNANCY", ("pregnancy_status = pregnant",)),
        (
            {"current_mood_episode": "mixed"},
            "STOP-MANIA",
            ("current_mood_episode = mixed (in manic, mixed)",),
        ),
        ({"diastolic_bp": 121}, "STOP-BP-CRISIS", ("diastolic_bp = 121 (> 120)",)),
        (
            {"systolic_bp": 150},
            "REV-BP-ELEVATED",
            ("systolic_bp = 150 (> 140)", "systolic_bp = 150 (≤ 180)", "diastolic_bp = 78 (≤ 120)"),
        ),
        (
            {"breastfeeding": True},
            "REV-BREASTFEEDING",
            ("pregnancy_status = not_pregnant (≠ not_applicable)", "breastfeeding = true"),
        ),
        (
            {"engaged_in_psychotherapy": False},
            "INFO-PSYCHOTHERAPY",
            ("engaged_in_psychotherapy = false",),
        ),
        ({"has_escort_home": False}, "INFO-ESCORT", ("has_escort_home = false",)),
        (
            {"diagnoses": ["bipolar_i"]},
            "REV-BIPOLAR-NO-STABILISER",
            ("diagnoses includes bipolar_i", "takes_mood_stabilizer = false"),
        ),
        ({"takes_opioid": True}, "REV-SEDATION", ("takes_opioid = true",)),
        (
            {"benzodiazepine_dose_mg_diazepam_eq": 8.5},
            "REV-BENZODIAZEPINE",
            ("benzodiazepine_dose_mg_diazepam_eq = 8.5 (> 8)",),
        ),
        (
            {
                "cssrs": {
                    "wish_dead": False,
                    "active_thoughts": False,
                    "behavior_past_3_months": True,
                }
            },
            "URG-SUICIDE-RISK",
            ("suicide_risk = high",),
        ),
    ],
)
def test_flag_explains_itself_from_its_logic(
    screen: Screen, changes: dict[str, Any], rule: str, because: tuple[str, ...]
):
    assert because_of_flag(screen(**changes), rule) == because


def test_indicated_condition_lists_every_criterion_that_was_met(screen: Screen):
    assert because_of_indication(screen(), "trd") == (
        "diagnoses includes mdd",
        "current_mood_episode = depressive",
        "phq9_total = 19 (≥ 10)",
        "failed_adequate_antidepressant_trials = 2 (≥ 2)",
    )


def test_possible_condition_names_only_the_criterion_that_was_not_met(screen: Screen):
    assert because_of_indication(screen(phq9_total=9), "trd") == (
        "diagnoses includes mdd",
        "phq9_total = 9 (< 10)",
    )


def test_not_indicated_condition_names_the_missing_diagnosis(screen: Screen):
    assert because_of_indication(screen(), "gad") == ("diagnoses does not include gad",)
    assert because_of_indication(screen(), "bipolar_depression") == (
        "diagnoses does not include bipolar_i",
        "diagnoses does not include bipolar_ii",
    )


@pytest.mark.parametrize(
    ("changes", "condition", "because"),
    [
        (
            {"antidepressant_trials": None},
            "trd",
            ("diagnoses includes mdd", "antidepressant_trials not recorded"),
        ),
        ({"diagnoses": None}, "crps", ("diagnoses not recorded",)),
        ({"phq9_total": None}, "mdd", ("diagnoses includes mdd", "phq9_total not recorded")),
    ],
)
def test_undetermined_condition_says_what_was_not_recorded(
    screen: Screen, changes: dict[str, Any], condition: str, because: tuple[str, ...]
):
    assert because_of_indication(screen(**changes), condition) == because


@pytest.mark.parametrize(
    ("text", "document", "because"),
    [
        ("phq9_total >= 10", {"phq9_total": 9}, ["phq9_total = 9 (< 10)"]),
        ("phq9_total = 10", {"phq9_total": 10}, ["phq9_total = 10"]),
        ("phq9_total != 10", {"phq9_total": 10}, ["phq9_total = 10"]),
        ("10 <= phq9_total", {"phq9_total": 12}, ["phq9_total = 12 (≥ 10)"]),
        ("not takes_opioid", {"takes_opioid": True}, ["takes_opioid = true"]),
        ('"mdd" not in diagnoses', {"diagnoses": ["gad"]}, ["diagnoses does not include mdd"]),
        ("age_years in (16, 17)", {"age_years": 16}, ["age_years = 16 (in 16, 17)"]),
        ("age_years not in (16, 17)", {"age_years": 18}, ["age_years = 18 (not in 16, 17)"]),
        (
            "systolic_bp > diastolic_bp",
            {"systolic_bp": 120, "diastolic_bp": 80},
            ["systolic_bp = 120 (> diastolic_bp = 80)"],
        ),
        (
            "benzodiazepine_dose_mg_diazepam_eq > 0",
            {"benzodiazepine_dose_mg_diazepam_eq": 8.0},
            ["benzodiazepine_dose_mg_diazepam_eq = 8 (> 0)"],
        ),
        ("takes_maoi or takes_stimulant", {"takes_maoi": True}, ["takes_maoi = true"]),
        ("takes_maoi and takes_stimulant", {"takes_maoi": False}, ["takes_maoi = false"]),
        (
            "takes_maoi and takes_stimulant",
            {},
            ["takes_maoi not recorded", "takes_stimulant not recorded"],
        ),
        ('suicide_risk = "high"', {}, ["cssrs not recorded"]),
        ("failed_adequate_antidepressant_trials >= 2", {}, ["antidepressant_trials not recorded"]),
        ("bp_crisis", {"diastolic_bp": 80}, ["systolic_bp not recorded"]),
        ("bipolar", {}, ["diagnoses not recorded"]),
    ],
)
def test_explanation_of_logic(text: str, document: dict[str, Any], because: list[str]):
    values = validate_facts(document, today=TODAY).values

    assert compile_logic(text).explain(values) == because


def test_rewording_the_logic_rewords_the_explanation():
    spec = default_ruleset_spec()
    for rule in spec["rules"]:
        if rule["id"] == "REV-PEDIATRIC":
            rule["logic"] = "age_years <= 17"

    result = compile_ruleset(spec).screen({"age_years": 16, "diagnoses": []}, today=TODAY)

    assert because_of_flag(result, "REV-PEDIATRIC") == ("age_years = 16 (≤ 17)",)
