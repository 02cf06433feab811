"""Comparisons on `suicide_risk` from partial C-SSRS answers (rule language level 2; data
dictionary, "Added in version 2"), exhaustively over every pattern of the seven answers
(recorded yes, recorded no, not recorded: 3⁷ = 2187):

- the closed form agrees with the definition, the levels the version-1 triage gives to every
  completion of the answers;
- every comparison (`=`, `!=`, `in`, `not in`, on any set of levels) is decided by the engine
  exactly as the definition says, and only an undecided one puts `cssrs` under `missing`;
- one level exactly when version 1 knows `suicide_risk`, and then the same level;

and, as properties: adding a recorded answer never turns a decided comparison undecided, and
documents whose screener is fully answered give the same result under both language levels.
"""

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.engine import (
    CONDITIONS,
    CompiledRuleSet,
    FactsInvalid,
    IntakeFacts,
    ScreeningResult,
    compile_logic,
    compile_ruleset,
    validate_facts,
)
from rules.engine.facts import Cssrs, suicide_risk, suicide_risk_levels
from rules.engine.partial import Possible
from tests.engine.data import TODAY, default_ruleset_spec, ruleset_v2_spec

ANSWERS = (
    "wish_dead",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "behavior_past_3_months",
    "behavior_lifetime",
)
FOLLOW_UPS = ("method", "intent", "plan")
LEVELS = ("none", "low", "moderate", "high")


def patterns() -> Iterator[dict[str, bool]]:
    """Every C-SSRS answer pattern: each answer yes, no or not recorded (left out)."""
    for values in itertools.product((True, False, None), repeat=len(ANSWERS)):
        yield {
            name: value for name, value in zip(ANSWERS, values, strict=True) if value is not None
        }


def valid(answers: dict[str, bool]) -> bool:
    """A yes to Q3–Q5 after a no to Q2 is rejected (the screener never asks them)."""
    return not (answers.get("active_thoughts") is False and any(answers.get(n) for n in FOLLOW_UPS))


VALID = [answers for answers in patterns() if valid(answers)]
INVALID = [answers for answers in patterns() if not valid(answers)]


def triage(answers: dict[str, bool]) -> str:
    """Version 1's triage of a complete set of answers (data dictionary, "Derived facts")."""
    if answers["intent"] or answers["plan"] or answers["behavior_past_3_months"]:
        return "high"
    if answers["method"] or answers["behavior_lifetime"]:
        return "moderate"
    if answers["wish_dead"] or answers["active_thoughts"]:
        return "low"
    return "none"


def by_enumeration(answers: dict[str, bool] | None) -> frozenset[str]:
    """The definition: the levels of every completion of `answers` (unrecorded answers yes or
    no, recorded ones kept, Q3–Q5 no whenever Q2 is no)."""
    answers = answers or {}
    open_answers = [name for name in ANSWERS if name not in answers]
    levels = set()
    for values in itertools.product((True, False), repeat=len(open_answers)):
        completion = {**answers, **dict(zip(open_answers, values, strict=True))}
        if not completion["active_thoughts"] and any(completion[n] for n in FOLLOW_UPS):
            continue
        levels.add(triage(completion))
    return frozenset(levels)


def test_there_are_3_to_the_7_patterns():
    assert len(VALID) + len(INVALID) == 3**7 == 2187
    assert len(INVALID) == 513  # Q2 no with a yes to Q3, Q4 or Q5


@pytest.mark.parametrize("answers", [None, *VALID], ids=lambda a: "absent" if a is None else None)
def test_the_closed_form_agrees_with_the_enumeration_over_completions(answers):
    cssrs = None if answers is None else Cssrs(**answers)
    assert suicide_risk_levels(cssrs) == by_enumeration(answers)


def test_the_patterns_the_enumeration_has_no_completion_for_are_rejected_as_invalid():
    for answers in INVALID:
        assert by_enumeration(answers) == frozenset()
        with pytest.raises(FactsInvalid):
            validate_facts({"cssrs": answers}, today=TODAY)


def test_one_level_exactly_when_version_1_knows_the_risk_and_then_the_same_level():
    for answers in [None, *VALID]:
        cssrs = None if answers is None else Cssrs(**answers)
        levels = suicide_risk_levels(cssrs)
        known = suicide_risk(cssrs)
        assert (len(levels) == 1) == (known is not None), answers
        if known is not None:
            assert levels == {known}


# --- every comparison, decided by the engine as the definition says ------------------------------

SUBSETS = [
    frozenset(combo) for size in range(1, 5) for combo in itertools.combinations(LEVELS, size)
]


def _quoted(levels: frozenset[str]) -> str:
    return ", ".join(f'"{level}"' for level in LEVELS if level in levels)


#: One consideration rule per comparison form, with the test it stands for on a known level.
COMPARISONS: dict[str, tuple[str, Any]] = {}
for _level in LEVELS:
    COMPARISONS[f"EQ-{_level.upper()}"] = (f'suicide_risk = "{_level}"', frozenset({_level}))
    COMPARISONS[f"NE-{_level.upper()}"] = (
        f'suicide_risk != "{_level}"',
        frozenset(LEVELS) - {_level},
    )
for _n, _subset in enumerate(SUBSETS):
    COMPARISONS[f"IN-{_n}"] = (f"suicide_risk in ({_quoted(_subset)})", _subset)
    COMPARISONS[f"NOT-IN-{_n}"] = (
        f"suicide_risk not in ({_quoted(_subset)})",
        frozenset(LEVELS) - _subset,
    )


def comparisons_ruleset(language: int) -> CompiledRuleSet:
    never = [
        {
            "id": f"IND-{n}",
            "kind": "indication",
            "condition": condition,
            "title": condition,
            "diagnosis": "false",
            "logic": "true",
        }
        for n, condition in enumerate(CONDITIONS)
    ]
    rules = [
        {"id": f"R-{rule_id}", "kind": "consideration", "severity": "review", "title": rule_id}
        | {"logic": logic}
        for rule_id, (logic, _) in COMPARISONS.items()
    ]
    return compile_ruleset(
        {"name": "comparisons", "version": 1, "language": language, "rules": never + rules}
    )


LEVEL_1 = comparisons_ruleset(1)
LEVEL_2 = comparisons_ruleset(2)


def outcomes(result: ScreeningResult) -> dict[str, bool | None]:
    """Each comparison's value: fired → true, blocked by a missing fact → unknown, else false."""
    fired = {flag.rule for flag in result.flags}
    blocked = {rule for item in result.missing for rule in item.needed_by}
    return {
        rule_id: True if f"R-{rule_id}" in fired else None if f"R-{rule_id}" in blocked else False
        for rule_id in COMPARISONS
    }


def expected(levels: frozenset[str], holds_on: frozenset[str]) -> bool | None:
    if levels <= holds_on:
        return True
    if not levels & holds_on:
        return False
    return None


def document(answers: dict[str, bool] | None) -> dict[str, Any]:
    return {} if answers is None else {"cssrs": answers}


@pytest.mark.parametrize("answers", [None, *VALID], ids=lambda a: "absent" if a is None else None)
def test_every_comparison_is_decided_as_the_consistent_levels_say(answers):
    levels = by_enumeration(answers) if answers is not None else frozenset(LEVELS)
    result = LEVEL_2.screen(document(answers), today=TODAY)

    got = outcomes(result)

    assert got == {rule_id: expected(levels, on) for rule_id, (_, on) in COMPARISONS.items()}
    blocked = {rule for item in result.missing for rule in item.needed_by}
    assert {item.fact for item in result.missing} <= {"cssrs"}
    assert blocked == {f"R-{rule_id}" for rule_id, value in got.items() if value is None}


@pytest.mark.parametrize("answers", VALID[::7], ids=lambda a: None)
def test_level_1_reads_every_comparison_all_or_nothing_as_before(answers):
    known = suicide_risk(Cssrs(**answers))
    got = outcomes(LEVEL_1.screen(document(answers), today=TODAY))
    if known is None:
        assert set(got.values()) == {None}
    else:
        assert got == {rule_id: known in on for rule_id, (_, on) in COMPARISONS.items()}


# --- the data dictionary's examples, with their explanations --------------------------------------

NO = {name: False for name in ANSWERS if name not in FOLLOW_UPS}


@pytest.mark.parametrize(
    ("answers", "levels"),
    [
        ({**NO, "wish_dead": None}, {"none", "low"}),
        ({**NO, "wish_dead": True, "behavior_lifetime": None}, {"low", "moderate"}),
        ({**NO, "behavior_past_3_months": None}, {"none", "high"}),
        ({**NO, "active_thoughts": None}, set(LEVELS)),
    ],
)
def test_the_data_dictionary_examples(answers, levels):
    answers = {name: value for name, value in answers.items() if value is not None}
    assert suicide_risk_levels(Cssrs(**answers)) == levels


def rule_set(language: int, logic: str) -> CompiledRuleSet:
    return compile_ruleset(
        {
            "name": "t",
            "version": 1,
            "language": language,
            "rules": [
                *(
                    {
                        "id": f"IND-{n}",
                        "kind": "indication",
                        "condition": c,
                        "title": c,
                        "diagnosis": "false",
                        "logic": "true",
                    }
                    for n, c in enumerate(CONDITIONS)
                ),
                {"id": "R", "kind": "consideration", "severity": "review", "title": "R"}
                | {"logic": logic},
            ],
        }
    )


def because(language: int, logic: str, answers: dict[str, bool]) -> tuple[str, ...]:
    result = rule_set(language, logic).screen({"cssrs": answers}, today=TODAY)
    assert [flag.rule for flag in result.flags] == ["R"], result
    return result.flags[0].because


Q1_UNRECORDED = {
    "active_thoughts": False,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}


def test_high_risk_ruled_out_names_the_answers_that_rule_it_out():
    assert because(2, 'not (suicide_risk = "high")', Q1_UNRECORDED) == (
        "suicide_risk is not high (cssrs.intent, cssrs.plan, cssrs.behavior_past_3_months = no)",
    )


def test_a_decided_in_names_every_answer_that_excludes_the_other_levels():
    answers = {
        "wish_dead": True,
        "active_thoughts": False,
        "behavior_past_3_months": False,
    }
    assert because(2, 'suicide_risk in ("low", "moderate")', answers) == (
        "suicide_risk is low or moderate (cssrs.wish_dead = yes; "
        "cssrs.intent, cssrs.plan, cssrs.behavior_past_3_months = no)",
    )


def test_a_decided_not_in_names_the_answers_that_exclude_the_listed_levels():
    answers = {"wish_dead": False, "active_thoughts": False, "behavior_lifetime": False}
    assert because(2, 'not (suicide_risk in ("low", "moderate"))', answers) == (
        "suicide_risk is not low or moderate (cssrs.wish_dead, cssrs.active_thoughts = no; "
        "cssrs.method, cssrs.behavior_lifetime = no)",
    )


def test_an_undecided_comparison_says_what_is_possible_and_what_is_not_recorded():
    result = rule_set(2, 'suicide_risk in ("low", "moderate")').screen(
        {"cssrs": Q1_UNRECORDED, "diagnoses": []}, today=TODAY
    )
    [gap] = result.missing
    assert (gap.fact, gap.needed_by) == ("cssrs", ("R",))
    values = validate_facts({"cssrs": Q1_UNRECORDED}, today=TODAY).values_for(2)
    assert compile_logic('suicide_risk in ("low", "moderate")').explain(values) == [
        "suicide_risk could be none or low (cssrs.wish_dead not recorded)"
    ]


def test_each_comparison_is_decided_on_its_own_so_one_in_decides_where_an_or_cannot():
    # Q1 and Q2 yes, Q3–Q6 not recorded: low, moderate or high.
    answers = {"wish_dead": True, "active_thoughts": True}
    split = rule_set(2, 'suicide_risk = "high" or suicide_risk in ("low", "moderate")')
    whole = rule_set(2, 'suicide_risk in ("low", "moderate", "high")')
    assert split.screen({"cssrs": answers}, today=TODAY).flags == ()
    assert [m.fact for m in split.screen({"cssrs": answers}, today=TODAY).missing] == ["cssrs"]
    assert [f.rule for f in whole.screen({"cssrs": answers}, today=TODAY).flags] == ["R"]
    assert because(2, 'suicide_risk in ("low", "moderate", "high")', answers) == (
        "suicide_risk is low or moderate or high (cssrs.wish_dead, cssrs.active_thoughts = yes)",
    )


def test_a_known_level_is_explained_as_in_version_1():
    answers = {**NO, "wish_dead": True}
    assert because(2, 'suicide_risk in ("low", "moderate")', answers) == because(
        1, 'suicide_risk in ("low", "moderate")', answers
    )
    assert because(2, 'suicide_risk in ("low", "moderate")', answers) == (
        "suicide_risk = low (in low, moderate)",
    )


def test_level_1_leaves_q1_unrecorded_undetermined_as_it_always_did():
    result = rule_set(1, 'suicide_risk = "high"').screen({"cssrs": Q1_UNRECORDED}, today=TODAY)
    assert [(m.fact, m.needed_by) for m in result.missing] == [("cssrs", ("R",))]
    level_2 = rule_set(2, 'suicide_risk = "high"').screen({"cssrs": Q1_UNRECORDED}, today=TODAY)
    assert level_2.missing == ()


def test_a_partly_known_risk_is_a_possible_value_only_at_level_2():
    facts = validate_facts({"cssrs": Q1_UNRECORDED}, today=TODAY)
    assert facts.values["suicide_risk"] is None
    partial = facts.values_for(2)["suicide_risk"]
    assert isinstance(partial, Possible)
    assert partial.candidates == {"none", "low"}
    assert partial.unrecorded == ("cssrs.wish_dead",)


# --- properties -------------------------------------------------------------------------------

answer_values = st.sampled_from([True, False, None])
answer_patterns = st.fixed_dictionaries(dict.fromkeys(ANSWERS, answer_values)).map(
    lambda answers: {name: value for name, value in answers.items() if value is not None}
)
SETTINGS = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(answers=answer_patterns.filter(valid), data=st.data())
def test_adding_a_recorded_answer_never_turns_a_decided_comparison_undecided(answers, data):
    open_answers = [name for name in ANSWERS if name not in answers]
    if not open_answers:
        return
    name = data.draw(st.sampled_from(open_answers))
    value = data.draw(st.booleans())
    more = {**answers, name: value}
    if not valid(more):
        return
    before = outcomes(LEVEL_2.screen(document(answers), today=TODAY))
    after = outcomes(LEVEL_2.screen(document(more), today=TODAY))
    for rule_id, decided in before.items():
        if decided is not None:
            assert after[rule_id] is decided, (rule_id, answers, more)


def _value_strategy(name: str) -> st.SearchStrategy[Any]:
    """Values of one input fact (its type and range from the data dictionary's model)."""
    from rules.engine.schema import FACTS

    fact = FACTS[name]
    if fact.kind == "boolean":
        return st.booleans()
    if fact.kind == "enum":
        return st.sampled_from(fact.values)
    if fact.kind == "set":
        return st.lists(st.sampled_from(fact.values), unique=True, max_size=3)
    if fact.kind == "integer":
        return st.integers(int(fact.minimum or 0), int(fact.maximum or 0))
    return st.floats(fact.minimum or 0, fact.maximum or 0, allow_nan=False).map(
        lambda x: round(x, 1)
    )


SIMPLE_FACTS = [
    name
    for name in IntakeFacts.model_fields
    if name not in ("date_of_birth", "screening_date", "cssrs", "antidepressant_trials")
    and name != "breastfeeding"
]
trials = st.lists(
    st.fixed_dictionaries(
        {
            "drug": st.sampled_from(["sertraline", "venlafaxine", "bupropion"]),
            "weeks_at_adequate_dose": st.integers(0, 16),
            "outcome": st.sampled_from(
                ["no_response", "partial_response", "response", "remission", "intolerance"]
            ),
        }
    ),
    max_size=3,
)
complete_screeners = st.fixed_dictionaries({name: st.booleans() for name in ANSWERS}).map(
    lambda a: a if a["active_thoughts"] else {**a, **dict.fromkeys(FOLLOW_UPS, False)}
)
full_documents = st.fixed_dictionaries(
    {"cssrs": complete_screeners, "breastfeeding": st.booleans()},
    optional={
        **{name: _value_strategy(name) for name in SIMPLE_FACTS},
        "antidepressant_trials": trials,
    },
)

V1_AT_LEVEL_1 = compile_ruleset(default_ruleset_spec())
V1_AT_LEVEL_2 = compile_ruleset({**default_ruleset_spec(), "language": 2})
V2_AT_LEVEL_1 = compile_ruleset({**ruleset_v2_spec(), "language": 1})
V2_AT_LEVEL_2 = compile_ruleset(ruleset_v2_spec())


@SETTINGS
@given(document=full_documents)
def test_a_fully_answered_screener_gives_the_same_result_under_both_language_levels(document):
    """Partial knowledge changes nothing once every C-SSRS answer is recorded (breastfeeding is
    recorded too: its default for men is level 2's other, separate change)."""
    try:
        facts = validate_facts(document, today=TODAY - timedelta(days=1))
    except FactsInvalid:
        return  # e.g. diastolic ≥ systolic, or a man recorded pregnant
    assert facts.values_for(1)["suicide_risk"] == facts.values_for(2)["suicide_risk"]
    for level_1, level_2 in ((V1_AT_LEVEL_1, V1_AT_LEVEL_2), (V2_AT_LEVEL_1, V2_AT_LEVEL_2)):
        assert level_1.evaluate(facts).model_dump() == level_2.evaluate(facts).model_dump()
