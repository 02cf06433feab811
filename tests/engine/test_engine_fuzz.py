"""Hostile fact documents through the whole engine door (`validate_facts` and
`CompiledRuleSet.screen`): whatever the keys, types and values, the only exception is
`FactsInvalid`, and each of its errors names a key the document holds (or the document itself)
with a readable sentence.

`test_properties.py` covers ordinary JSON; this adds what a hostile caller sends: integers past
Python's string-conversion limit, NaN and infinities, lone surrogates and NUL characters in keys
and values, very long text, and wrong shapes inside `cssrs` and `antidepressant_trials`.
"""

import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rules.engine import CompiledRuleSet, FactsInvalid, IntakeFacts, validate_facts
from rules.engine.facts import AntidepressantTrial, Cssrs
from tests.engine.data import TODAY

FACT_NAMES = sorted(IntakeFacts.model_fields)
NESTED_NAMES = sorted({*Cssrs.model_fields, *AntidepressantTrial.model_fields})

#: Past `sys.get_int_max_str_digits()`, `repr()` of an integer raises ValueError.
HUGE = 10 ** (sys.get_int_max_str_digits() + 10)

any_text = st.text(st.characters(exclude_categories=()), max_size=20)
hostile_text = st.one_of(
    any_text,
    st.sampled_from(["\x00", "mdd\x00", "\ud800", "pregnant\udfff", "1e309", "NaN", "-0", ""]),
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["a", "é", "\x00"]),
        st.integers(81, 5000),
    ),
)
hostile_numbers = st.one_of(
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1]),
    # Mapped, not sampled: Hypothesis would print the sample list, and cannot print these.
    st.integers(-3, 3).map(lambda offset: HUGE + offset),
    st.integers(-3, 3).map(lambda offset: -HUGE + offset),
    st.floats(),  # NaN, ±inf, -0.0, subnormals
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e309, 5e-324]),
)
scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_text)
keys = st.one_of(
    st.sampled_from(FACT_NAMES),
    st.sampled_from(NESTED_NAMES),
    any_text,
    st.sampled_from(["cssrs.method", "antidepressant_trials[0]", "function-after", "[key]"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=10,
)
#: Right keys with wrong insides: the nested objects and lists the schema descends into.
nested = st.fixed_dictionaries(
    {},
    optional={
        "cssrs": st.dictionaries(keys, values, max_size=6) | values,
        "antidepressant_trials": st.lists(
            st.dictionaries(keys, values, max_size=4) | values, max_size=4
        ),
        "diagnoses": st.lists(scalars, max_size=4),
        "date_of_birth": scalars,
        "screening_date": scalars,
        "age_years": hostile_numbers,
    },
)
documents = st.one_of(
    st.dictionaries(keys, values, max_size=10),
    st.builds(
        lambda a, b: {**a, **b},
        st.dictionaries(st.sampled_from(FACT_NAMES), values, max_size=8),
        nested,
    ),
)

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,  # leave nothing behind in the working tree
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_names_the_fields(document: dict[str, Any], rejected: FactsInvalid) -> None:
    assert rejected.errors
    for error in rejected.errors:
        assert isinstance(error.field, str)
        assert error.field
        assert isinstance(error.message, str)
        assert error.message.strip()
        if error.field != "(document)":
            assert any(
                error.field == key or error.field.startswith((f"{key}.", f"{key}["))
                for key in document
            ), (error.field, list(document))
        str(rejected)  # the exception's own text can be formatted too


def screen_or_reject(ruleset: CompiledRuleSet, document: dict[str, Any]) -> None:
    for check in (
        lambda: validate_facts(document, today=TODAY),
        lambda: ruleset.screen(document, today=TODAY),
    ):
        try:
            check()
        except FactsInvalid as rejected:  # anything else fails the test
            assert_names_the_fields(document, rejected)


@SETTINGS
@given(documents)
@example({"phq9_total": HUGE})  # once raised ValueError while the message was formatted
@example({"cssrs": {"wish_dead": -HUGE}})
@example({"antidepressant_trials": [{"drug": "x", "weeks_at_adequate_dose": HUGE, "outcome": 1}]})
@example({"pregnancy_status": HUGE})
@example({"\ud800": 1, "phq9_total": 3})
@example({"diagnoses": ["mdd\ud800"], "benzodiazepine_dose_mg_diazepam_eq": float("nan")})
@example({"": {"age_years": "\x00"}})  # once named "age_years", a key not in the document
def test_hostile_documents_are_screened_or_rejected_naming_their_fields(
    ruleset: CompiledRuleSet, document: dict[str, Any]
):
    screen_or_reject(ruleset, document)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"phq9_total": HUGE}, "phq9_total"),
        ({"benzodiazepine_dose_mg_diazepam_eq": -HUGE}, "benzodiazepine_dose_mg_diazepam_eq"),
        ({"cssrs": {"intent": HUGE}}, "cssrs.intent"),
        ({"sex_at_birth": HUGE}, "sex_at_birth"),
        ({"date_of_birth": HUGE}, "date_of_birth"),
    ],
)
def test_an_integer_too_long_to_print_is_a_field_error(document, field):
    with pytest.raises(FactsInvalid) as rejected:
        validate_facts(document, today=TODAY)

    assert [e.field for e in rejected.value.errors] == [field]
    assert "digits" in rejected.value.errors[0].message


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"\ud800": 1}, "(document)"),
        ({"cssrs": {"x\udfff": True}}, "cssrs"),
        ({"diagnoses": ["\ud800"]}, "diagnoses[0]"),
    ],
)
def test_text_that_is_not_valid_unicode_is_named_as_such(document, field):
    with pytest.raises(FactsInvalid) as rejected:
        validate_facts(document, today=TODAY)

    [error] = rejected.value.errors
    assert error.field == field
    assert "not valid Unicode" in error.message
