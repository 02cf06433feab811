"""Properties over generated documents: validation never fails in any other way than
`FactsInvalid` with named fields, and every valid document screens to a well-formed result."""

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.engine import (
    FACTS,
    CompiledRuleSet,
    FactsInvalid,
    FieldError,
    IntakeFacts,
    validate_facts,
)
from rules.engine.facts import AntidepressantTrial, Cssrs
from tests.engine.data import CONDITIONS, DISPOSITIONS, TODAY

INPUT_NAMES = sorted(IntakeFacts.model_fields)
NESTED_NAMES = sorted({*Cssrs.model_fields, *AntidepressantTrial.model_fields})

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2026-01-01", "1990-02-30", "mdd", "pregnant", "no_response", ""])
)
keys = st.sampled_from(INPUT_NAMES) | st.sampled_from(NESTED_NAMES) | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=12,
)
documents = st.dictionaries(keys, json_values, max_size=12)

# No example database: the suite leaves nothing behind in the working tree.
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def rejection(document: Any) -> list[FieldError] | None:
    """The errors a document is rejected with, or None when it is accepted."""
    try:
        validate_facts(document, today=TODAY)
    except FactsInvalid as rejected:
        return rejected.errors
    return None


@SETTINGS
@given(documents)
def test_any_json_document_validates_or_is_rejected_field_by_field(document: dict[str, Any]):
    errors = rejection(document)  # any other exception fails the test

    if errors is not None:
        assert errors
        for error in errors:
            assert isinstance(error.field, str)
            assert error.field  # a key is named as given, even a blank one such as "\r"
            assert isinstance(error.message, str)
            assert error.message.strip()


@SETTINGS
@given(st.one_of(json_scalars, st.lists(json_values, max_size=3)))
def test_a_non_object_document_is_rejected_as_a_whole(document: Any):
    with pytest.raises(FactsInvalid) as rejected:
        validate_facts(document, today=TODAY)

    assert [e.field for e in rejected.value.errors] == ["(document)"]


# --- valid documents, built from the schema -----------------------------------------------------


def _value(name: str) -> st.SearchStrategy[Any]:
    fact = FACTS[name]
    if fact.kind == "boolean":
        return st.booleans()
    if fact.kind == "integer":
        return st.integers(min_value=int(fact.minimum or 0), max_value=int(fact.maximum or 0))
    if fact.kind == "number":
        low, high = fact.minimum or 0, fact.maximum or 0
        return st.integers(min_value=int(low), max_value=int(high)) | st.floats(
            min_value=low, max_value=high, allow_nan=False
        )
    if fact.kind == "enum":
        return st.sampled_from(fact.values)
    return st.lists(st.sampled_from(fact.values), unique=True)


SIMPLE_FACTS = [name for name in INPUT_NAMES if name in FACTS]
trials = st.lists(
    st.fixed_dictionaries(
        {
            # Any text a database column can hold (a NUL is refused, by another test).
            "drug": st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=80),
            "weeks_at_adequate_dose": st.integers(min_value=0, max_value=104),
            "outcome": st.sampled_from(
                [
                    "no_response",
                    "partial_response",
                    "response",
                    "remission",
                    "intolerance",
                    "ongoing",
                ]
            ),
        }
    ),
    max_size=5,
)
cssrs = st.fixed_dictionaries(
    {}, optional={name: st.none() | st.booleans() for name in Cssrs.model_fields}
)
born = st.dates(min_value=TODAY - timedelta(days=120 * 365), max_value=TODAY)


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                **{name: st.none() | _value(name) for name in SIMPLE_FACTS},
                "antidepressant_trials": st.none() | trials,
                "cssrs": st.none() | cssrs,
            },
        )
    )
    if draw(st.booleans()):
        document.pop("age_years", None)
        document["date_of_birth"] = draw(born).isoformat()
    # Keep the document free of the contradictions the data dictionary rejects.
    systolic, diastolic = document.get("systolic_bp"), document.get("diastolic_bp")
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        del document["diastolic_bp"]
    if document.get("sex_at_birth") == "male" and document.get("pregnancy_status") == "pregnant":
        del document["pregnancy_status"]
    answers = document.get("cssrs")
    if answers and answers.get("active_thoughts") is False:
        for follow_up in ("method", "intent", "plan"):
            if answers.get(follow_up):
                del answers[follow_up]
    return document


@SETTINGS
@given(valid_documents())
def test_every_valid_document_screens_to_a_well_formed_result(
    ruleset: CompiledRuleSet, document: dict[str, Any]
):
    result = ruleset.screen(document, today=TODAY)

    assert [i.condition for i in result.indications] == CONDITIONS
    assert {i.status for i in result.indications} <= {
        "indicated",
        "possible",
        "not_indicated",
        "undetermined",
    }
    assert result.disposition in DISPOSITIONS
    severities = {f.severity for f in result.flags}
    assert (result.disposition == "contraindicated") == ("stop" in severities)
    assert result.urgent == ("urgent" in severities)
    facts = [m.fact for m in result.missing]
    assert facts == sorted(set(facts))
    assert set(facts) <= set(IntakeFacts.model_fields)  # derived facts appear as their inputs
    assert all(m.needed_by for m in result.missing)
    if result.disposition == "eligible":
        assert "indicated" in {i.status for i in result.indications}
        assert severities <= {"info"}


def test_the_valid_document_strategy_covers_every_input_fact():
    # Built from the schema: every input except the dates and the two nested objects, which
    # have strategies of their own.
    assert (
        sorted({*SIMPLE_FACTS, "date_of_birth", "screening_date", "antidepressant_trials", "cssrs"})
        == INPUT_NAMES
    )
