"""`validate_facts`: a document is accepted whole or rejected whole, every problem named by field."""

from datetime import date
from typing import Any

import pytest

from rules.engine import FactsInvalid, FieldError, validate_facts
from tests.engine.data import TODAY


def errors(document: Any, today: date = TODAY) -> list[FieldError]:
    with pytest.raises(FactsInvalid) as caught:
        validate_facts(document, today=today)
    for error in caught.value.errors:
        assert error.field
        assert error.message
    return caught.value.errors


def error_for(document: Any) -> FieldError:
    [error] = errors(document)
    return error


def accepted(document: dict[str, Any], today: date = TODAY) -> dict[str, Any]:
    return dict(validate_facts(document, today=today).values)


# --- types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        pytest.param({"age_years": "42"}, "age_years", "whole number", id="string-for-int"),
        pytest.param({"age_years": 42.0}, "age_years", "whole number", id="float-for-int"),
        pytest.param({"phq9_total": 9.5}, "phq9_total", "whole number", id="fraction-for-int"),
        pytest.param({"age_years": True}, "age_years", "whole number", id="bool-for-int"),
        pytest.param({"breastfeeding": 1}, "breastfeeding", "true or false", id="one-for-bool"),
        pytest.param({"takes_maoi": "yes"}, "takes_maoi", "true or false", id="text-for-bool"),
        pytest.param(
            {"benzodiazepine_dose_mg_diazepam_eq": "5"},
            "benzodiazepine_dose_mg_diazepam_eq",
            "a number",
            id="text-for-number",
        ),
        pytest.param(
            {"benzodiazepine_dose_mg_diazepam_eq": False},
            "benzodiazepine_dose_mg_diazepam_eq",
            "a number",
            id="bool-for-number",
        ),
        pytest.param(
            {"benzodiazepine_dose_mg_diazepam_eq": float("nan")},
            "benzodiazepine_dose_mg_diazepam_eq",
            "finite",
            id="nan",
        ),
        pytest.param({"diagnoses": "mdd"}, "diagnoses", "a list", id="text-for-set"),
        pytest.param({"cssrs": True}, "cssrs", "an object", id="bool-for-object"),
        pytest.param({"antidepressant_trials": {}}, "antidepressant_trials", "a list", id="trials"),
        pytest.param({"date_of_birth": "24/11/1990"}, "date_of_birth", "YYYY-MM-DD", id="date"),
        pytest.param(
            {"screening_date": "2026-02-30"}, "screening_date", "a date", id="no-such-day"
        ),
        pytest.param({"cssrs": {"plan": "no"}}, "cssrs.plan", "true or false", id="cssrs-answer"),
    ],
)
def test_wrong_type_names_the_field(document: dict[str, Any], field: str, words: str):
    error = error_for(document)

    assert error.field == field
    assert words in error.message


def test_a_number_fact_accepts_whole_and_decimal_numbers():
    assert (
        accepted({"benzodiazepine_dose_mg_diazepam_eq": 8})["benzodiazepine_dose_mg_diazepam_eq"]
        == 8
    )
    assert (
        accepted({"benzodiazepine_dose_mg_diazepam_eq": 7.5})["benzodiazepine_dose_mg_diazepam_eq"]
        == 7.5
    )


# --- ranges ----------------------------------------------------------------------------------

RANGES = [
    ("age_years", 0, 120),
    ("failed_anxiety_treatments", 0, 20),
    ("failed_pain_treatments", 0, 20),
    ("phq9_total", 0, 27),
    ("phq9_item9", 0, 3),
    ("gad7_total", 0, 21),
    ("pcl5_total", 0, 80),
    ("ybocs_total", 0, 40),
    ("pain_nrs", 0, 10),
    ("systolic_bp", 60, 300),
    ("diastolic_bp", 30, 200),
    ("heart_rate", 20, 250),
    ("benzodiazepine_dose_mg_diazepam_eq", 0, 200),
]


@pytest.mark.parametrize(("fact", "low", "high"), RANGES)
def test_both_ends_of_a_range_are_accepted(fact: str, low: int, high: int):
    assert accepted({fact: low})[fact] == low
    assert accepted({fact: high})[fact] == high


@pytest.mark.parametrize(("fact", "low", "high"), RANGES)
def test_just_outside_a_range_is_rejected_naming_the_range(fact: str, low: int, high: int):
    for value in (low - 1, high + 1):
        error = error_for({fact: value})

        assert error.field == fact
        assert error.message == f"must be between {low} and {high} (got {value})"


def test_decimal_just_above_the_benzodiazepine_range_is_rejected():
    assert error_for({"benzodiazepine_dose_mg_diazepam_eq": 200.5}).field == (
        "benzodiazepine_dose_mg_diazepam_eq"
    )


# --- enums and unknown keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("pregnancy_status", "pregant", "'pregnant', 'not_pregnant' or 'not_applicable'"),
        ("sex_at_birth", "F", "'female', 'male' or 'intersex'"),
        ("hepatic_impairment", "Severe", "'none', 'mild', 'moderate' or 'severe'"),
        ("current_mood_episode", "depressed", "'depressive'"),
    ],
)
def test_value_outside_an_enum_lists_the_allowed_values(field: str, value: str, allowed: str):
    error = error_for({field: value})

    assert error.field == field
    assert allowed in error.message
    assert repr(value) in error.message


def test_diagnosis_that_does_not_exist_is_named_by_position():
    error = error_for({"diagnoses": ["mdd", "depression"]})

    assert error.field == "diagnoses[1]"
    assert "'depression'" in error.message


def test_unknown_key_is_an_error_with_a_typo_suggestion():
    error = error_for({"pregancy_status": "pregnant"})

    assert error.field == "pregancy_status"
    assert error.message == "unknown fact 'pregancy_status'; did you mean pregnancy_status?"


def test_unknown_key_is_named_even_when_it_looks_like_a_validator_tag():
    assert error_for({"literal": 1}).field == "literal"


def test_unknown_nested_key_names_its_path():
    error = error_for({"cssrs": {"wish_dead": False, "foo": True}})

    assert error.field == "cssrs.foo"
    assert "unknown field 'foo'" in error.message


def test_misspelt_nested_key_gets_a_suggestion():
    error = error_for({"cssrs": {"wish_ded": True}})

    assert error.field == "cssrs.wish_ded"
    assert "did you mean wish_dead?" in error.message


# --- antidepressant trials ---------------------------------------------------------------------

TRIAL = {"drug": "sertraline", "weeks_at_adequate_dose": 8, "outcome": "no_response"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"outcome": "failed"}, "antidepressant_trials[1].outcome", "'no_response'"),
        ({"outcome": None}, "antidepressant_trials[1].outcome", "must be one of"),
        (
            {"weeks_at_adequate_dose": 105},
            "antidepressant_trials[1].weeks_at_adequate_dose",
            "0 and 104",
        ),
        (
            {"weeks_at_adequate_dose": -1},
            "antidepressant_trials[1].weeks_at_adequate_dose",
            "0 and 104",
        ),
        (
            {"weeks_at_adequate_dose": 6.5},
            "antidepressant_trials[1].weeks_at_adequate_dose",
            "whole",
        ),
        ({"drug": ""}, "antidepressant_trials[1].drug", "must have at least 1 character"),
        ({"drug": "x" * 81}, "antidepressant_trials[1].drug", "must have at most 80 characters"),
        ({"dose_mg": 50}, "antidepressant_trials[1].dose_mg", "unknown field"),
    ],
)
def test_trial_problems_name_the_trial_and_its_field(
    change: dict[str, Any], field: str, words: str
):
    error = error_for({"antidepressant_trials": [TRIAL, {**TRIAL, **change}]})

    assert error.field == field
    assert words in error.message


def test_trial_fields_are_required():
    found = errors({"antidepressant_trials": [{}]})

    assert {(e.field, e.message) for e in found} == {
        ("antidepressant_trials[0].drug", "is required"),
        ("antidepressant_trials[0].weeks_at_adequate_dose", "is required"),
        ("antidepressant_trials[0].outcome", "is required"),
    }


# --- contradictions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 120), (120, 121), (90, 150)])
def test_diastolic_not_lower_than_systolic_is_rejected(systolic: int, diastolic: int):
    error = error_for({"systolic_bp": systolic, "diastolic_bp": diastolic})

    assert error.field == "diastolic_bp"
    assert f"{systolic}/{diastolic}" in error.message


def test_diastolic_one_below_systolic_is_accepted():
    assert accepted({"systolic_bp": 120, "diastolic_bp": 119})["diastolic_bp"] == 119


def test_age_and_date_of_birth_together_are_rejected():
    error = error_for({"age_years": 36, "date_of_birth": "1990-01-01"})

    assert error.field == "date_of_birth"
    assert "not both" in error.message


@pytest.mark.parametrize(
    ("document", "on"),
    [
        ({"date_of_birth": "2026-11-25"}, "2026-11-24"),
        ({"date_of_birth": "2000-01-02", "screening_date": "2000-01-01"}, "2000-01-01"),
    ],
)
def test_date_of_birth_after_the_screening_date_is_rejected(document: dict[str, Any], on: str):
    error = error_for(document)

    assert error.field == "date_of_birth"
    assert on in error.message


def test_date_of_birth_giving_an_age_over_120_is_rejected():
    assert error_for({"date_of_birth": "1905-11-24"}).field == "date_of_birth"
    assert accepted({"date_of_birth": "1905-11-25"})["age_years"] == 120


def test_pregnant_male_is_rejected():
    error = error_for({"sex_at_birth": "male", "pregnancy_status": "pregnant"})

    assert error.field == "pregnancy_status"
    assert "male" in error.message


@pytest.mark.parametrize("follow_up", ["method", "intent", "plan"])
def test_cssrs_follow_up_yes_while_q2_no_is_rejected(follow_up: str):
    error = error_for({"cssrs": {"active_thoughts": False, follow_up: True}})

    assert error.field == f"cssrs.{follow_up}"
    assert "Q2" in error.message


def test_cssrs_follow_ups_answered_no_after_q2_no_are_accepted():
    cssrs = {
        "wish_dead": False,
        "active_thoughts": False,
        "method": False,
        "intent": False,
        "plan": False,
        "behavior_past_3_months": False,
        "behavior_lifetime": False,
    }

    assert accepted({"cssrs": cssrs})["suicide_risk"] == "none"


@pytest.mark.parametrize("document", [[], ["age_years", 42], "age_years=42", 42, None, True])
def test_a_document_that_is_not_an_object_is_rejected(document: Any):
    error = error_for(document)

    assert error.field == "(document)"
    assert "object" in error.message


def test_every_problem_is_listed_at_once():
    found = errors(
        {
            "age_years": "forty",
            "phq9_total": 28,
            "pregancy_status": "pregnant",
            "cssrs": {"foo": True},
            "antidepressant_trials": [{**TRIAL, "outcome": "bad"}],
            "systolic_bp": 100,
            "diastolic_bp": 110,
            "sex_at_birth": "male",
            "pregnancy_status": "pregnant",
        }
    )

    assert sorted(e.field for e in found) == [
        "age_years",
        "antidepressant_trials[0].outcome",
        "cssrs.foo",
        "diastolic_bp",
        "phq9_total",
        "pregancy_status",
        "pregnancy_status",
    ]


def test_errors_serialise_as_field_and_message():
    with pytest.raises(FactsInvalid) as caught:
        validate_facts({"phq9_total": 28}, today=TODAY)

    assert caught.value.as_list() == [
        {"field": "phq9_total", "message": "must be between 0 and 27 (got 28)"}
    ]


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "age"),
    [
        ("1990-11-25", 35),  # birthday tomorrow
        ("1990-11-24", 36),  # birthday today
        ("1990-11-23", 36),
        ("2026-11-24", 0),  # born today
    ],
)
def test_date_of_birth_gives_the_age_on_the_screening_date(born: str, age: int):
    assert accepted({"date_of_birth": born})["age_years"] == age


def test_screening_date_in_the_document_wins_over_today():
    document = {"date_of_birth": "1990-11-25", "screening_date": "2026-11-25"}

    assert accepted(document, today=date(2030, 1, 1))["age_years"] == 36


def test_leap_day_birthday_turns_over_on_the_first_of_march():
    assert accepted({"date_of_birth": "2008-02-29"}, today=date(2026, 2, 28))["age_years"] == 17
    assert accepted({"date_of_birth": "2008-02-29"}, today=date(2026, 3, 1))["age_years"] == 18


def test_dates_are_not_rule_facts():
    values = accepted({"date_of_birth": "1990-11-24", "screening_date": "2026-11-24"})

    assert "date_of_birth" not in values
    assert "screening_date" not in values


def test_nothing_recorded_is_a_valid_document():
    values = accepted({})

    assert values["age_years"] is None
    assert values["diagnoses"] is None
