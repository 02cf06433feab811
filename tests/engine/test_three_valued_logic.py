"""Kleene's three-valued logic: unknown (not recorded) is never false."""

from typing import Any

import pytest

from rules.engine import compile_logic, validate_facts
from tests.engine.data import TODAY

T, F, U = True, False, None


def evaluate(text: str, **document: Any) -> bool | None:
    return compile_logic(text).eval(validate_facts(document, today=TODAY).values)


@pytest.mark.parametrize(
    ("maoi", "stimulant", "expected"),
    [
        (T, T, T),
        (T, F, F),
        (T, U, U),
        (F, T, F),
        (F, F, F),
        (F, U, F),
        (U, T, U),
        (U, F, F),
        (U, U, U),
    ],
)
def test_and_truth_table(maoi: bool | None, stimulant: bool | None, expected: bool | None):
    got = evaluate("takes_maoi and takes_stimulant", takes_maoi=maoi, takes_stimulant=stimulant)

    assert got is expected


@pytest.mark.parametrize(
    ("maoi", "stimulant", "expected"),
    [
        (T, T, T),
        (T, F, T),
        (T, U, T),
        (F, T, T),
        (F, F, F),
        (F, U, U),
        (U, T, T),
        (U, F, U),
        (U, U, U),
    ],
)
def test_or_truth_table(maoi: bool | None, stimulant: bool | None, expected: bool | None):
    got = evaluate("takes_maoi or takes_stimulant", takes_maoi=maoi, takes_stimulant=stimulant)

    assert got is expected


@pytest.mark.parametrize(("opioid", "expected"), [(T, F), (F, T), (U, U)])
def test_not_truth_table(opioid: bool | None, expected: bool | None):
    assert evaluate("not takes_opioid", takes_opioid=opioid) is expected


@pytest.mark.parametrize(
    ("maoi", "stimulant", "expected"),
    [
        (T, T, F),
        (T, F, T),
        (T, U, U),
        (F, T, F),
        (F, F, F),
        (F, U, F),
        (U, T, F),
        (U, F, U),
        (U, U, U),
    ],
)
def test_and_not_truth_table(maoi: bool | None, stimulant: bool | None, expected: bool | None):
    got = evaluate("takes_maoi and not takes_stimulant", takes_maoi=maoi, takes_stimulant=stimulant)

    assert got is expected


def test_not_binds_tighter_than_and_which_binds_tighter_than_or():
    # read as (not takes_maoi) or (takes_opioid and takes_stimulant)
    text = "not takes_maoi or takes_opioid and takes_stimulant"

    assert evaluate(text, takes_maoi=True, takes_opioid=True, takes_stimulant=False) is False
    assert evaluate(text, takes_maoi=False, takes_opioid=False, takes_stimulant=False) is True


def test_absent_and_null_are_both_not_recorded():
    assert evaluate("takes_maoi or takes_stimulant", takes_stimulant=False) is None
    assert evaluate("takes_maoi or takes_stimulant", takes_maoi=None, takes_stimulant=False) is None


@pytest.mark.parametrize(
    "text",
    [
        "phq9_total >= 10",
        "phq9_total < 10",
        "phq9_total = 10",
        "phq9_total != 10",
        'pregnancy_status = "pregnant"',
        'pregnancy_status != "pregnant"',
        "phq9_total in (9, 10)",
        "phq9_total not in (9, 10)",
        'current_mood_episode in ("manic", "mixed")',
        'current_mood_episode not in ("manic", "mixed")',
        '"mdd" in diagnoses',
        '"mdd" not in diagnoses',
        "takes_maoi = true",
        "takes_maoi = false",
        "systolic_bp > diastolic_bp",
    ],
)
def test_anything_about_an_unrecorded_fact_is_unknown(text: str):
    assert evaluate(text) is None


@pytest.mark.parametrize(
    ("text", "document", "expected"),
    [
        ("phq9_total >= 10", {"phq9_total": 10}, T),
        ("phq9_total >= 10", {"phq9_total": 9}, F),
        ("phq9_total in (9, 10)", {"phq9_total": 9}, T),
        ("phq9_total in (9, 10)", {"phq9_total": 11}, F),
        ("phq9_total not in (9, 10)", {"phq9_total": 11}, T),
        ('current_mood_episode in ("manic", "mixed")', {"current_mood_episode": "mixed"}, T),
        ('current_mood_episode in ("manic", "mixed")', {"current_mood_episode": "hypomanic"}, F),
        ('current_mood_episode not in ("manic", "mixed")', {"current_mood_episode": "manic"}, F),
        ('"mdd" in diagnoses', {"diagnoses": ["gad", "mdd"]}, T),
        ('"mdd" in diagnoses', {"diagnoses": ["gad"]}, F),
        ('"mdd" in diagnoses', {"diagnoses": []}, F),
        ('"mdd" not in diagnoses', {"diagnoses": []}, T),
        ('"mdd" not in diagnoses', {"diagnoses": ["mdd"]}, F),
        ("takes_maoi = false", {"takes_maoi": False}, T),
        ("takes_maoi != true", {"takes_maoi": True}, F),
        ("systolic_bp > diastolic_bp", {"systolic_bp": 120, "diastolic_bp": 80}, T),
        ("systolic_bp > diastolic_bp", {"systolic_bp": 120}, U),
        ("10 <= phq9_total", {"phq9_total": 10}, T),
        ("10 < phq9_total", {"phq9_total": 10}, F),
    ],
)
def test_comparisons_lists_and_sets_with_recorded_facts(
    text: str, document: dict[str, Any], expected: bool | None
):
    assert evaluate(text, **document) is expected


def test_empty_diagnoses_means_none_of_these_not_unknown():
    assert evaluate('"mdd" in diagnoses or "gad" in diagnoses', diagnoses=[]) is False


def test_unknown_set_membership_combines_by_kleene_rules():
    assert evaluate('"mdd" in diagnoses and takes_maoi', takes_maoi=False) is False
    assert evaluate('"mdd" in diagnoses or takes_maoi', takes_maoi=True) is True
    assert evaluate('"mdd" in diagnoses or takes_maoi', takes_maoi=False) is None


@pytest.mark.parametrize(
    ("document", "elevated", "crisis"),
    [
        ({"systolic_bp": 140, "diastolic_bp": 90}, F, F),
        ({"systolic_bp": 141, "diastolic_bp": 90}, T, F),
        ({"systolic_bp": 140, "diastolic_bp": 91}, T, F),
        ({"systolic_bp": 180, "diastolic_bp": 120}, T, F),
        ({"systolic_bp": 181, "diastolic_bp": 80}, T, T),
        ({"systolic_bp": 150, "diastolic_bp": 121}, T, T),
        ({"systolic_bp": 150}, T, U),
        ({"diastolic_bp": 95}, T, U),
        ({"diastolic_bp": 125}, T, T),
        ({"systolic_bp": 120}, U, U),
        ({"diastolic_bp": 80}, U, U),
        ({}, U, U),
    ],
)
def test_blood_pressure_definitions_use_kleene_or(
    document: dict[str, Any], elevated: bool | None, crisis: bool | None
):
    assert evaluate("bp_elevated", **document) is elevated
    assert evaluate("bp_crisis", **document) is crisis


@pytest.mark.parametrize(
    ("diagnoses", "expected"),
    [(["bipolar_i"], T), (["bipolar_ii", "gad"], T), (["mdd"], F), ([], F), (None, U)],
)
def test_bipolar_definition(diagnoses: list[str] | None, expected: bool | None):
    assert evaluate("bipolar", diagnoses=diagnoses) is expected
