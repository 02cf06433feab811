"""The rule catalogue's disposition: the first of its ordered list that applies."""

from typing import Any

import pytest

from tests.engine.data import Screen

HIGH_RISK = {
    "wish_dead": True,
    "active_thoughts": True,
    "method": True,
    "intent": True,
    "plan": True,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}


def test_stop_flag_beats_urgent_review_undetermined_and_no_indication(screen: Screen):
    result = screen(
        pregnancy_status="pregnant",
        cssrs=HIGH_RISK,
        age_years=16,
        psychosis_current=None,
        diagnoses=[],
    )

    assert result.disposition == "contraindicated"
    assert result.urgent is True
    assert {"STOP-PREGNANCY", "URG-SUICIDE-RISK", "REV-PEDIATRIC"} <= {f.rule for f in result.flags}


def test_stop_flag_beats_undetermined_indications(screen: Screen):
    assert screen(psychosis_current=True, diagnoses=None).disposition == "contraindicated"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"psychosis_current": None}, id="stop-undetermined"),
        pytest.param(
            {"psychosis_current": None, "age_years": 16}, id="stop-undetermined-with-review"
        ),
        pytest.param({"cssrs": None}, id="urgent-undetermined"),
        pytest.param({"systolic_bp": None}, id="bp-crisis-undetermined"),
        pytest.param(
            {"sex_at_birth": "female", "pregnancy_status": None}, id="pregnancy-undetermined"
        ),
    ],
)
def test_undetermined_stop_or_urgent_rule_makes_the_screening_incomplete(
    screen: Screen, changes: dict[str, Any]
):
    result = screen(**changes)

    assert result.disposition == "incomplete"
    assert result.flags == () or all(f.severity != "stop" for f in result.flags)


def test_no_candidate_condition_but_one_undetermined_is_incomplete(screen: Screen):
    result = screen(diagnoses=["gad"], gad7_total=None, failed_anxiety_treatments=1)

    assert [i.status for i in result.indications if i.status != "not_indicated"] == ["undetermined"]
    assert result.disposition == "incomplete"


def test_possible_condition_with_another_undetermined_is_not_incomplete(screen: Screen):
    result = screen(
        diagnoses=["gad", "ptsd"], gad7_total=None, pcl5_total=20, failed_anxiety_treatments=1
    )

    assert {i.condition: i.status for i in result.indications if i.status != "not_indicated"} == {
        "gad": "undetermined",
        "ptsd": "possible",
    }
    assert result.disposition == "review_required"


def test_no_candidate_condition_is_not_indicated(screen: Screen):
    assert screen(diagnoses=[]).disposition == "not_indicated"


def test_not_indicated_comes_before_review(screen: Screen):
    result = screen(diagnoses=[], age_years=16)

    assert [f.rule for f in result.flags] == ["REV-PEDIATRIC"]
    assert result.disposition == "not_indicated"


def test_review_flag_requires_review(screen: Screen):
    assert screen(takes_opioid=True).disposition == "review_required"


def test_undetermined_review_rule_requires_review(screen: Screen):
    result = screen(takes_maoi=None)

    assert result.flags == ()
    assert [(m.fact, m.needed_by) for m in result.missing] == [
        ("takes_maoi", ("REV-BP-RAISING-DRUGS",))
    ]
    assert result.disposition == "review_required"


def test_only_possible_conditions_require_review(screen: Screen):
    result = screen(phq9_total=9)

    assert {i.status for i in result.indications} == {"possible", "not_indicated"}
    assert result.flags == ()
    assert result.disposition == "review_required"


def test_urgent_flag_is_urgent_and_requires_review(screen: Screen):
    result = screen(cssrs=HIGH_RISK)

    assert [f.rule for f in result.flags] == ["URG-SUICIDE-RISK"]
    assert result.urgent is True
    assert result.disposition == "review_required"


def test_info_flags_do_not_prevent_eligibility(screen: Screen):
    result = screen(has_escort_home=False, takes_lamotrigine=True)

    assert {f.severity for f in result.flags} == {"info"}
    assert result.disposition == "eligible"


def test_undetermined_info_rule_alone_does_not_prevent_eligibility(screen: Screen):
    result = screen(has_escort_home=None, engaged_in_psychotherapy=None)

    assert [m.fact for m in result.missing] == ["engaged_in_psychotherapy", "has_escort_home"]
    assert result.disposition == "eligible"
    assert result.urgent is False


def test_one_indicated_condition_and_nothing_else_is_eligible(screen: Screen):
    result = screen()

    assert result.disposition == "eligible"
    assert result.urgent is False
