"""What the rule editor's help takes from the engine: a label for every name, every operator of
the grammar with an example that compiles, and logic evaluated once with its reasons and the
facts that left it unknown. No database, no Django."""

from typing import Any

import pytest

from rules.engine import (
    DEFINITIONS,
    FACT_LABELS,
    FACTS,
    OPERATORS,
    check_logic,
    evaluate_logic,
    indication_status,
    validate_facts,
)
from rules.engine.glossary import unlabelled
from rules.engine.parser import COMPARE_OPS, KEYWORDS
from tests.engine.data import TODAY


def test_every_name_a_rule_may_use_has_a_label():
    assert unlabelled() == []
    assert set(FACT_LABELS) == {*FACTS, *DEFINITIONS}


def test_every_spelling_and_keyword_of_the_grammar_is_explained():
    spellings = {s for operator in OPERATORS for s in operator.spellings}
    assert set(COMPARE_OPS) <= spellings
    assert spellings >= KEYWORDS
    assert "not in" in spellings


@pytest.mark.parametrize("operator", OPERATORS, ids=lambda o: o.spellings[0])
def test_every_operator_example_compiles(operator):
    assert check_logic(operator.example) == []


def values(**document: Any):
    return validate_facts(document, today=TODAY).values_for(2)


@pytest.mark.parametrize(
    ("text", "document", "value", "unknown"),
    [
        ("systolic_bp > 140", {"systolic_bp": 150, "diastolic_bp": 80}, True, ()),
        ("bp_elevated", {"systolic_bp": 124, "diastolic_bp": 78}, False, ()),
        ("bp_elevated", {}, None, ("diastolic_bp", "systolic_bp")),
        ("takes_maoi and takes_stimulant", {"takes_maoi": False}, False, ()),
        ("takes_maoi or takes_stimulant", {"takes_maoi": False}, None, ("takes_stimulant",)),
        ('suicide_risk = "high"', {}, None, ("cssrs",)),
    ],
)
def test_logic_is_evaluated_once_three_valued_with_the_facts_left_unknown(
    text, document, value, unknown
):
    outcome = evaluate_logic(text, values(**document))
    assert outcome.value is value
    assert outcome.unknown == unknown
    assert outcome.because


@pytest.mark.parametrize(
    ("diagnosed", "met", "status"),
    [
        (False, True, "not_indicated"),
        (False, None, "not_indicated"),
        (None, True, "undetermined"),
        (True, None, "undetermined"),
        (True, True, "indicated"),
        (True, False, "possible"),
    ],
)
def test_indication_status(diagnosed, met, status):
    assert indication_status(diagnosed, met) == status
