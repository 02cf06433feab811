"""Set facts known in part (open world): `{"includes": [...], "excludes": [...]}`.

EHR data says a condition is present; no record of it says nothing. A membership test on a value
the document leaves open is unknown, so a rule undetermined by it lists `diagnoses` under
`missing`, and (the property) whatever a rule decides on a set known in part it decides the same
on every completion of that set.
"""

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.engine import FactsInvalid, compile_logic, compile_ruleset, validate_facts
from rules.engine.partial import SetInPart
from tests.engine.data import TODAY, default_ruleset_spec, ruleset_v2_spec, vignette_v2

DIAGNOSES = ("mdd", "bipolar_i", "bipolar_ii", "gad", "ptsd", "ocd", "fibromyalgia", "crps")
RULESETS = {1: compile_ruleset(default_ruleset_spec()), 2: compile_ruleset(ruleset_v2_spec())}


def truth(logic: str, document: dict[str, Any]) -> bool | None:
    return compile_logic(logic).eval(validate_facts(document, today=TODAY).values)


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        ('"mdd" in diagnoses', True),
        ('"mdd" not in diagnoses', False),
        ('"bipolar_i" in diagnoses', None),
        ('"bipolar_i" not in diagnoses', None),
        ('"gad" in diagnoses', False),
        ('"gad" not in diagnoses', True),
        ("bipolar", None),
        ('"mdd" in diagnoses or "bipolar_i" in diagnoses', True),
        ('"gad" in diagnoses and "bipolar_i" in diagnoses', False),
        ('"mdd" in diagnoses and "bipolar_i" in diagnoses', None),
    ],
)
def test_membership_in_a_set_known_in_part_is_three_valued(logic: str, expected: bool | None):
    document = {"diagnoses": {"includes": ["mdd"], "excludes": ["gad"]}}

    assert truth(logic, document) is expected


def test_a_complete_list_still_means_what_is_not_listed_is_absent():
    assert truth('"bipolar_i" in diagnoses', {"diagnoses": ["mdd"]}) is False
    assert truth("bipolar", {"diagnoses": []}) is False


def test_bipolar_is_decided_once_both_bipolar_diagnoses_are_excluded():
    document = {"diagnoses": {"includes": ["mdd"], "excludes": ["bipolar_i", "bipolar_ii"]}}

    assert truth("bipolar", document) is False


def test_includes_and_excludes_naming_every_condition_is_a_known_set():
    document = {"diagnoses": {"includes": ["mdd"], "excludes": list(DIAGNOSES[1:])}}

    assert validate_facts(document, today=TODAY).values["diagnoses"] == frozenset({"mdd"})


def test_the_shape_survives_as_document():
    document = {"diagnoses": {"includes": ["mdd", "ptsd"], "excludes": ["crps"]}}
    facts = validate_facts(document, today=TODAY)

    assert facts.as_document() == {"diagnoses": {"includes": ["mdd", "ptsd"], "excludes": ["crps"]}}
    assert isinstance(facts.values["diagnoses"], SetInPart)


@pytest.mark.parametrize(
    ("diagnoses", "field", "words"),
    [
        ({"includes": ["mdd"], "excludes": ["mdd"]}, "diagnoses.excludes", "also in includes"),
        ({"includes": ["mdd", "depression"]}, "diagnoses.includes[1]", "must be one of"),
        ({"include": ["mdd"]}, "diagnoses.include", "did you mean includes?"),
        ({"includes": "mdd"}, "diagnoses.includes", "must be a list"),
        ("mdd", "diagnoses", "must be a list"),
    ],
)
def test_a_malformed_set_known_in_part_is_rejected_naming_the_field(
    diagnoses: Any, field: str, words: str
):
    with pytest.raises(FactsInvalid) as rejected:
        validate_facts({"diagnoses": diagnoses}, today=TODAY)

    messages = {e.field: e.message for e in rejected.value.errors}
    assert field in messages
    assert words in messages[field]


def test_ehr_diagnoses_leave_the_bipolar_rules_open_and_say_so_under_missing():
    facts = dict(vignette_v2("trd-eligible")["facts"])
    facts["diagnoses"] = {"includes": ["mdd"]}

    result = RULESETS[2].screen(facts, today=TODAY)

    missing = {m.fact: m.needed_by for m in result.missing}
    assert "diagnoses" in missing
    statuses = {i.condition: i.status for i in result.indications}
    assert statuses["mdd"] == "indicated"  # decided by what was recorded
    assert statuses["bipolar_depression"] == "undetermined"
    assert result.disposition != "eligible"  # never as if every other condition were "no"


def test_ehr_diagnoses_with_bipolar_ruled_out_screen_like_the_complete_list():
    facts = dict(vignette_v2("trd-eligible")["facts"])
    complete = RULESETS[2].screen(facts, today=TODAY)
    facts["diagnoses"] = {"includes": ["mdd"], "excludes": list(DIAGNOSES[1:])}

    assert RULESETS[2].screen(facts, today=TODAY) == complete


# --- the property: decided on partial facts ⇒ decided the same on every completion ----------

partial_sets = st.dictionaries(
    st.sampled_from(DIAGNOSES), st.sampled_from(["in", "out"]), max_size=len(DIAGNOSES)
)
other_facts = st.fixed_dictionaries(
    {},
    optional={
        "current_mood_episode": st.sampled_from(["depressive", "manic", "hypomanic", "euthymic"]),
        "phq9_total": st.integers(0, 27),
        "gad7_total": st.integers(0, 21),
        "pcl5_total": st.integers(0, 80),
        "ybocs_total": st.integers(0, 40),
        "pain_nrs": st.integers(0, 10),
        "failed_anxiety_treatments": st.integers(0, 5),
        "failed_pain_treatments": st.integers(0, 5),
        "takes_mood_stabilizer": st.booleans(),
        "takes_lamotrigine": st.booleans(),
        "age_years": st.integers(12, 80),
        "sex_at_birth": st.sampled_from(["female", "male"]),
        "antidepressant_trials": st.just(
            [{"drug": "sertraline", "weeks_at_adequate_dose": 8, "outcome": "no_response"}] * 2
        ),
    },
)


def completions(known: dict[str, str]) -> list[list[str]]:
    """Every complete list that agrees with what is known (2^open of them)."""
    members = [d for d, where in known.items() if where == "in"]
    open_ = [d for d in DIAGNOSES if d not in known]
    return [
        members + [d for d, keep in zip(open_, picks, strict=True) if keep]
        for picks in itertools.product((False, True), repeat=len(open_))
    ]


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(known=partial_sets, rest=other_facts, version=st.sampled_from([1, 2]), pick=st.randoms())
def test_whatever_a_rule_decides_on_partial_facts_holds_on_every_completion(
    known: dict[str, str], rest: dict[str, Any], version: int, pick: Any
):
    ruleset = RULESETS[version]
    partial = {
        **rest,
        "diagnoses": {
            "includes": [d for d, where in known.items() if where == "in"],
            "excludes": [d for d, where in known.items() if where == "out"],
        },
    }
    before = validate_facts(partial, today=TODAY).values_for(ruleset.language)
    fired = {f.rule for f in ruleset.evaluate(validate_facts(partial, today=TODAY)).flags}
    every = completions(known)
    for complete in pick.sample(every, min(len(every), 12)):
        facts = validate_facts({**rest, "diagnoses": complete}, today=TODAY)
        after = facts.values_for(ruleset.language)
        for rule in ruleset.considerations:
            decided = rule.logic.eval(before)
            if decided is not None:
                assert rule.logic.eval(after) is decided, (rule.spec.id, complete)
        for indication in ruleset.indications:
            for expr in (indication.diagnosis, indication.criteria):
                decided = expr.eval(before)
                if decided is not None:
                    assert expr.eval(after) is decided, (indication.spec.id, complete)
        assert fired <= {f.rule for f in ruleset.evaluate(facts).flags}
