"""Issue 16, findings 1, 2 and 5 at the engine: every document costs bounded work whoever sends it
(form, API, command), and a date is an ISO date. No timings are asserted here (bench/ measures);
what is checked is what bounds the work: how many problems and suggestions are produced."""

from typing import Any

import pytest

from rules.engine import FactsInvalid, FieldError, parse_document, validate_facts
from rules.engine.facts import MAX_DEPTH, MAX_FACTS, MAX_PROBLEMS, MAX_SUGGESTIONS
from tests.engine.data import TODAY


def errors(document: Any) -> list[FieldError]:
    with pytest.raises(FactsInvalid) as caught:
        validate_facts(document, today=TODAY)
    return caught.value.errors


def test_a_document_with_50000_unknown_keys_is_refused_whole_in_one_sentence():
    document = {f"unknown_fact_{i:05d}": True for i in range(50_000)}
    [problem] = errors(document)
    assert problem.field == "(document)"
    assert problem.message == f"has 50,000 keys; a facts document has at most {MAX_FACTS}"


def test_problems_stop_after_the_cap_and_say_how_many_more():
    document = {f"unknown_fact_{i:03d}": True for i in range(MAX_FACTS)}
    found = errors(document)
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == FieldError("(document)", f"and {MAX_FACTS - MAX_PROBLEMS:,} more problems")


def test_only_the_first_few_unknown_keys_get_a_suggestion():
    document = {f"phq9_totl{'x' * i}": 3 for i in range(20)}
    found = errors(document)
    assert len(found) == 20
    assert sum("did you mean" in problem.message for problem in found) == MAX_SUGGESTIONS
    assert "did you mean phq9_total?" in found[0].message


def test_too_many_values_nested_in_one_fact_are_refused_before_checking_them():
    [problem] = errors({"cssrs": {f"q{i}": True for i in range(5_000)}})
    assert problem.field == "(document)"
    assert "more than 2,000 values" in problem.message


def test_nesting_deeper_than_the_limit_is_a_field_error_not_a_recursion_error():
    deep: Any = True
    for _ in range(2_000):
        deep = [deep]
    [problem] = errors({"diagnoses": deep})
    assert problem.field.startswith("diagnoses[0]")
    assert f"at most {MAX_DEPTH} levels" in problem.message


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_text_nested_past_what_json_can_read_is_refused_in_one_sentence(depth):
    with pytest.raises(FactsInvalid) as caught:
        parse_document('{"diagnoses": ' + "[" * depth + "]" * depth + "}")
    [problem] = caught.value.errors
    assert problem.field == "(document)"
    assert "nested too deeply" in problem.message


def test_text_larger_than_the_limit_is_refused_before_parsing():
    with pytest.raises(FactsInvalid) as caught:
        parse_document(" " * (300 * 1024) + "{}")
    assert caught.value.errors[0].message.startswith("is larger than 256 KB")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (
            {
                "antidepressant_trials": [
                    {"drug": "a\x00b", "weeks_at_adequate_dose": 8, "outcome": "no_response"}
                ]
            },
            "antidepressant_trials[0].drug",
        ),
        ({"sex_at_birth": "female\x00"}, "sex_at_birth"),
        ({"bad\x00key": 1}, "(document)"),
    ],
)
def test_nul_characters_are_a_field_error(document, field):
    [problem] = errors(document)
    assert problem.field == field
    assert "NUL" in problem.message


# --- finding 5: a date is an ISO date -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        631152000,
        631152000.0,
        "1990-01-01T00:00:00+05:00",
        "1990-01-01T00:00:00",
        "19900101",
        "1990-1-1",
        " 1990-01-01",
        True,
    ],
)
def test_a_date_of_birth_that_is_not_an_iso_date_is_refused(value):
    [problem] = errors({"date_of_birth": value, "screening_date": "2026-01-01"})
    assert problem.field == "date_of_birth"
    assert "ISO date" in problem.message or "must be" in problem.message


def test_an_iso_date_that_is_not_in_the_calendar_is_refused():
    [problem] = errors({"screening_date": "2026-02-30"})
    assert problem == FieldError(
        "screening_date", "is not a date in the calendar (got '2026-02-30')"
    )


def test_iso_dates_are_accepted():
    facts = validate_facts(
        {"date_of_birth": "1990-01-01", "screening_date": "2026-01-01"}, today=TODAY
    )
    assert facts.values["age_years"] == 36
