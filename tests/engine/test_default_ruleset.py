"""The default rule set (`rules/data/ketamine-v1.toml`) is the rule catalogue's, and broken rule
sets are rejected with every problem named by rule and field."""

import copy
import re
from typing import Any

import pytest

from rules.engine import CompiledRuleSet, RuleProblem, RuleSetInvalid, compile_ruleset
from tests.engine.data import CONDITIONS, default_ruleset_spec

# Copied from rule-catalogue.md, in its order.
CATALOGUE_INDICATIONS = {
    "IND-MDD": "mdd",
    "IND-TRD": "trd",
    "IND-BIPOLAR": "bipolar_depression",
    "IND-GAD": "gad",
    "IND-PTSD": "ptsd",
    "IND-OCD": "ocd",
    "IND-FIBROMYALGIA": "fibromyalgia",
    "IND-CRPS": "crps",
}
CATALOGUE_CONSIDERATIONS = {
    "STOP-HYPERSENSITIVITY": "stop",
    "STOP-VASCULAR": "stop",
    "STOP-ICH": "stop",
    "STOP-PREGNANCY": "stop",
    "STOP-PSYCHOSIS": "stop",
    "STOP-MANIA": "stop",
    "STOP-CARDIOVASCULAR": "stop",
    "STOP-BP-CRISIS": "stop",
    "STOP-HEPATIC": "stop",
    "STOP-ICP": "stop",
    "STOP-SUD-ACTIVE": "stop",
    "URG-SUICIDE-RISK": "urgent",
    "REV-PEDIATRIC": "review",
    "REV-OLDER-ADULT": "review",
    "REV-BREASTFEEDING": "review",
    "REV-PLANNING-PREGNANCY": "review",
    "REV-BP-ELEVATED": "review",
    "REV-CARDIOVASCULAR": "review",
    "REV-IOP": "review",
    "REV-HEPATIC": "review",
    "REV-COGNITIVE": "review",
    "REV-PSYCHOSIS-RISK": "review",
    "REV-SUD-HISTORY": "review",
    "REV-BIPOLAR-SWITCH": "review",
    "REV-BIPOLAR-NO-STABILISER": "review",
    "REV-SUICIDE-RISK": "review",
    "REV-PHQ9-ITEM9": "review",
    "REV-BENZODIAZEPINE": "review",
    "REV-BP-RAISING-DRUGS": "review",
    "REV-SEDATION": "review",
    "REV-PRIOR-ADVERSE": "review",
    "INFO-LAMOTRIGINE": "info",
    "INFO-YOUNG-ADULT": "info",
    "INFO-PSYCHOTHERAPY": "info",
    "INFO-ESCORT": "info",
    "INFO-PRIOR-NONRESPONSE": "info",
}

SPEC = default_ruleset_spec()
RULES = SPEC["rules"]
CURE = re.compile(r"\bcur(e|es|ed|ing)\b", re.IGNORECASE)


def test_default_ruleset_is_ketamine_version_1(ruleset: CompiledRuleSet):
    assert (ruleset.ref.name, ruleset.ref.version) == ("ketamine", 1)


def test_default_ruleset_has_exactly_the_catalogue_indication_rules(ruleset: CompiledRuleSet):
    assert len(CATALOGUE_INDICATIONS) == 8
    assert {i.spec.id: i.spec.condition for i in ruleset.indications} == CATALOGUE_INDICATIONS
    assert [i.spec.condition for i in ruleset.indications] == CONDITIONS


def test_default_ruleset_has_exactly_the_catalogue_consideration_rules_and_severities(
    ruleset: CompiledRuleSet,
):
    assert len(CATALOGUE_CONSIDERATIONS) == 36
    assert {c.spec.id: c.severity for c in ruleset.considerations} == CATALOGUE_CONSIDERATIONS
    assert len(RULES) == 8 + 36


@pytest.mark.parametrize("rule", RULES, ids=[r["id"] for r in RULES])
def test_every_rule_has_a_title_message_and_source(rule: dict[str, Any]):
    for field in ("title", "message", "source"):
        assert rule.get(field, "").strip(), f"{rule['id']} has no {field}"


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r["kind"] == "indication"], ids=lambda r: r["id"]
)
def test_every_indication_rule_has_an_evidence_note(rule: dict[str, Any]):
    assert rule.get("evidence", "").strip()


@pytest.mark.parametrize("rule", RULES, ids=[r["id"] for r in RULES])
def test_no_rule_text_claims_a_cure(rule: dict[str, Any]):
    for field in ("title", "message", "evidence", "source"):
        assert not CURE.search(rule.get(field, "")), f"{rule['id']}.{field}"


@pytest.mark.parametrize("text", ["Ketamine cures depression", "CURED", "no cure", "it Cures"])
def test_the_cure_check_catches_the_wording(text: str):
    assert CURE.search(text)


@pytest.mark.parametrize("text", ["secure", "procured", "curettage", "accurate"])
def test_the_cure_check_spares_other_words(text: str):
    assert not CURE.search(text)


# --- rule-set compile errors -------------------------------------------------------------------


def broken(change: Any) -> list[RuleProblem]:
    spec = copy.deepcopy(SPEC)
    change(spec)
    with pytest.raises(RuleSetInvalid) as caught:
        compile_ruleset(spec)
    return caught.value.problems


def rule(spec: dict[str, Any], rule_id: str) -> dict[str, Any]:
    [found] = [r for r in spec["rules"] if r["id"] == rule_id]
    return found


def test_duplicate_rule_id_is_rejected():
    problems = broken(lambda spec: spec["rules"].append(dict(rule(spec, "STOP-ICH"))))

    assert [(p.rule, p.field) for p in problems] == [("STOP-ICH", "id")]
    assert "more than once" in problems[0].message


def test_indication_rule_without_a_condition_is_rejected():
    problems = broken(lambda spec: rule(spec, "IND-OCD").pop("condition"))

    assert ("IND-OCD", "condition") in [(p.rule, p.field) for p in problems]
    assert ("(rule set)", "rules") in [(p.rule, p.field) for p in problems]  # ocd is uncovered


def test_second_indication_rule_for_a_condition_is_rejected():
    problems = broken(lambda spec: rule(spec, "IND-TRD").update(condition="mdd"))

    [problem] = [p for p in problems if p.rule == "IND-TRD"]
    assert problem.field == "condition"
    assert "IND-MDD" in problem.message


def test_consideration_without_severity_is_rejected():
    problems = broken(lambda spec: rule(spec, "REV-IOP").pop("severity"))

    assert [(p.rule, p.field) for p in problems] == [("REV-IOP", "severity")]


def test_consideration_with_an_unknown_severity_is_rejected():
    problems = broken(lambda spec: rule(spec, "REV-IOP").update(severity="fatal"))

    assert [(p.rule, p.field) for p in problems] == [("REV-IOP", "severity")]


def test_indication_with_a_severity_is_rejected():
    problems = broken(lambda spec: rule(spec, "IND-GAD").update(severity="stop"))

    assert [(p.rule, p.field) for p in problems] == [("IND-GAD", "severity")]


def test_bad_logic_is_reported_with_rule_field_and_position():
    def change(spec: dict[str, Any]) -> None:
        rule(spec, "REV-PEDIATRIC")["logic"] = 'age_years < 18 and pregancy_status = "pregnant"'
        rule(spec, "IND-GAD")["diagnosis"] = '"gad" in diagnose'
        rule(spec, "IND-PTSD")["logic"] = "pcl5_total >= 81"

    problems = broken(change)

    assert sorted((p.rule, p.field, p.position) for p in problems) == [
        ("IND-GAD", "diagnosis", 10),
        ("IND-PTSD", "logic", 15),
        ("REV-PEDIATRIC", "logic", 20),
    ]
    [typo] = [p for p in problems if p.rule == "REV-PEDIATRIC"]
    assert "did you mean pregnancy_status?" in typo.message
    assert str(typo).startswith("REV-PEDIATRIC.logic: unknown fact 'pregancy_status'")


def test_syntax_error_in_logic_is_reported_with_rule_and_field():
    problems = broken(
        lambda spec: rule(spec, "STOP-ICP").update(logic="elevated_intracranial_pressure and")
    )

    assert [(p.rule, p.field, p.position) for p in problems] == [("STOP-ICP", "logic", 35)]


def test_every_problem_in_a_rule_set_is_reported():
    def change(spec: dict[str, Any]) -> None:
        spec["rules"].append(dict(rule(spec, "STOP-ICH")))
        rule(spec, "REV-IOP").pop("severity")
        rule(spec, "STOP-ICP")["logic"] = "elevated_intracranial_presure"

    problems = broken(change)

    assert {(p.rule, p.field) for p in problems} == {
        ("STOP-ICH", "id"),
        ("REV-IOP", "severity"),
        ("STOP-ICP", "logic"),
    }


@pytest.mark.parametrize(
    ("change", "rule_id", "field"),
    [
        pytest.param(
            lambda spec: rule(spec, "REV-IOP").pop("title"), "REV-IOP", "title", id="no-title"
        ),
        pytest.param(
            lambda spec: rule(spec, "REV-IOP").pop("logic"), "REV-IOP", "logic", id="no-logic"
        ),
        pytest.param(
            lambda spec: rule(spec, "REV-IOP").update(colour="red"), "REV-IOP", "colour", id="extra"
        ),
        pytest.param(
            lambda spec: rule(spec, "REV-IOP").update(id="rev iop"), "rev iop", "id", id="bad-id"
        ),
        pytest.param(lambda spec: spec.pop("name"), "(rule set)", "name", id="no-name"),
    ],
)
def test_malformed_rule_set_names_the_rule_and_field(change: Any, rule_id: str, field: str):
    problems = broken(change)

    assert (rule_id, field) in [(p.rule, p.field) for p in problems]


def test_rule_set_without_rules_misses_every_condition():
    problems = broken(lambda spec: spec.update(rules=[]))

    assert sorted(p.message for p in problems) == sorted(
        f"no indication rule for {condition}" for condition in CONDITIONS
    )
