"""Derived facts computed by the facts layer: failed adequate trials, suicide risk from the C-SSRS
screener, and the effective pregnancy status."""

from typing import Any

import pytest

from rules.engine import validate_facts
from tests.engine.data import TODAY


def derived(fact: str, **document: Any) -> Any:
    return validate_facts(document, today=TODAY).values[fact]


def trial(weeks: int, outcome: str) -> dict[str, Any]:
    return {"drug": "escitalopram", "weeks_at_adequate_dose": weeks, "outcome": outcome}


# --- failed_adequate_antidepressant_trials -----------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "outcome", "counts"),
    [
        (6, "no_response", 1),
        (6, "partial_response", 1),
        (6, "response", 0),
        (6, "remission", 0),
        (6, "intolerance", 0),
        (6, "ongoing", 0),
        (5, "no_response", 0),
        (5, "partial_response", 0),
        (104, "no_response", 1),
        (0, "no_response", 0),
    ],
)
def test_a_trial_counts_as_failed_and_adequate_only_after_six_weeks_without_response(
    weeks: int, outcome: str, counts: int
):
    trials = [trial(weeks, outcome)]

    assert derived("failed_adequate_antidepressant_trials", antidepressant_trials=trials) == counts


def test_failed_adequate_trials_are_counted():
    trials = [
        trial(8, "no_response"),
        trial(6, "partial_response"),
        trial(12, "response"),
        trial(5, "no_response"),
        trial(10, "no_response"),
    ]

    assert derived("failed_adequate_antidepressant_trials", antidepressant_trials=trials) == 3


def test_no_trial_list_means_failed_trials_are_unknown():
    assert derived("failed_adequate_antidepressant_trials") is None
    assert derived("failed_adequate_antidepressant_trials", antidepressant_trials=None) is None


def test_an_empty_trial_list_means_none_failed():
    assert derived("failed_adequate_antidepressant_trials", antidepressant_trials=[]) == 0


# --- suicide_risk ------------------------------------------------------------------------------

NO = {
    "wish_dead": False,
    "active_thoughts": False,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}
ALL_NO = {**NO, "method": False, "intent": False, "plan": False}
IDEATION = {**ALL_NO, "wish_dead": True, "active_thoughts": True}


@pytest.mark.parametrize(
    ("cssrs", "risk"),
    [
        pytest.param(ALL_NO, "none", id="all-no"),
        pytest.param(NO, "none", id="q2-no-follow-ups-skipped"),
        pytest.param({**NO, "wish_dead": True}, "low", id="wish-dead"),
        pytest.param({**ALL_NO, "active_thoughts": True}, "low", id="active-thoughts"),
        pytest.param({**IDEATION, "method": True}, "moderate", id="method"),
        pytest.param({**NO, "behavior_lifetime": True}, "moderate", id="lifetime-behaviour"),
        pytest.param({**IDEATION, "intent": True}, "high", id="intent"),
        pytest.param({**IDEATION, "plan": True}, "high", id="plan"),
        pytest.param({**NO, "behavior_past_3_months": True}, "high", id="recent-behaviour"),
        pytest.param(
            {**IDEATION, "method": True, "intent": True, "behavior_lifetime": True},
            "high",
            id="highest-level-wins",
        ),
        pytest.param(
            {**NO, "wish_dead": True, "behavior_lifetime": True}, "moderate", id="moderate-over-low"
        ),
    ],
)
def test_suicide_risk_triage(cssrs: dict[str, bool], risk: str):
    assert derived("suicide_risk", cssrs=cssrs) == risk


@pytest.mark.parametrize(
    "cssrs",
    [
        pytest.param(None, id="no-screener"),
        pytest.param({}, id="nothing-answered"),
        pytest.param({**ALL_NO, "active_thoughts": None}, id="q2-unknown"),
        pytest.param({**ALL_NO, "active_thoughts": None, "method": None}, id="q2-and-q3-unknown"),
        pytest.param({**NO, "active_thoughts": True}, id="q2-yes-follow-ups-unasked"),
        pytest.param(
            {**NO, "wish_dead": True, "active_thoughts": None}, id="q2-unknown-follow-ups-unasked"
        ),
        pytest.param({**IDEATION, "plan": None}, id="plan-unknown"),
        pytest.param({**ALL_NO, "behavior_past_3_months": None}, id="recent-behaviour-unknown"),
        pytest.param({**ALL_NO, "behavior_lifetime": None}, id="lifetime-unknown"),
        pytest.param({**ALL_NO, "wish_dead": None}, id="wish-dead-unknown"),
        pytest.param(
            {**NO, "behavior_lifetime": True, "behavior_past_3_months": None}, id="mod-or-high"
        ),
    ],
)
def test_suicide_risk_is_unknown_when_an_answer_needed_to_decide_is_missing(
    cssrs: dict[str, Any] | None,
):
    assert derived("suicide_risk", cssrs=cssrs) is None


@pytest.mark.parametrize(
    ("cssrs", "risk"),
    [
        pytest.param({**NO, "wish_dead": None, "behavior_past_3_months": True}, "high", id="high"),
        pytest.param(
            {**NO, "wish_dead": None, "behavior_lifetime": True}, "moderate", id="moderate"
        ),
        pytest.param(
            {**ALL_NO, "active_thoughts": None, "behavior_past_3_months": True}, "high", id="q2"
        ),
    ],
)
def test_suicide_risk_is_decided_when_the_unknown_answer_cannot_change_it(
    cssrs: dict[str, Any], risk: str
):
    assert derived("suicide_risk", cssrs=cssrs) == risk


# --- effective pregnancy_status ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "status"),
    [
        pytest.param({"sex_at_birth": "male"}, "not_applicable", id="male"),
        pytest.param({"sex_at_birth": "male", "age_years": 30}, "not_applicable", id="male-30"),
        pytest.param({"sex_at_birth": "female", "age_years": 9}, "not_applicable", id="age-9"),
        pytest.param({"sex_at_birth": "female", "age_years": 10}, None, id="age-10"),
        pytest.param({"sex_at_birth": "female", "age_years": 55}, None, id="age-55"),
        pytest.param({"sex_at_birth": "female", "age_years": 56}, "not_applicable", id="age-56"),
        pytest.param({"age_years": 56}, "not_applicable", id="age-56-sex-unrecorded"),
        pytest.param({"sex_at_birth": "female", "age_years": 30}, None, id="female-30"),
        pytest.param({"sex_at_birth": "intersex", "age_years": 30}, None, id="intersex-30"),
        pytest.param({"sex_at_birth": "female"}, None, id="female-age-unrecorded"),
        pytest.param({}, None, id="nothing-recorded"),
        pytest.param(
            {"sex_at_birth": "female", "date_of_birth": "1970-11-24"}, "not_applicable", id="dob-56"
        ),
        pytest.param({"sex_at_birth": "female", "date_of_birth": "1970-11-25"}, None, id="dob-55"),
    ],
)
def test_effective_pregnancy_status_when_none_was_entered(
    document: dict[str, Any], status: str | None
):
    assert derived("pregnancy_status", **document) == status


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"sex_at_birth": "male", "pregnancy_status": "not_pregnant"}, "not_pregnant"),
        ({"sex_at_birth": "female", "age_years": 60, "pregnancy_status": "pregnant"}, "pregnant"),
        (
            {"sex_at_birth": "female", "age_years": 8, "pregnancy_status": "not_pregnant"},
            "not_pregnant",
        ),
        (
            {"sex_at_birth": "female", "age_years": 30, "pregnancy_status": "not_applicable"},
            "not_applicable",
        ),
    ],
)
def test_an_entered_pregnancy_status_wins(document: dict[str, Any], status: str):
    assert derived("pregnancy_status", **document) == status
