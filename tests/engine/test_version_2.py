"""Version 2 of the default rule set (`rules/data/ketamine-v2.toml`): it is the catalogue's
(`rule-catalogue-v2.md`: rule order, severities, logic, sources), its 18 vignettes screen to their
expected outcomes, and every new and changed rule (C1–C9) behaves at its boundaries, starting from
the version-2 `trd-eligible` vignette (eligible, no flag fires)."""

import re
from typing import Any

import pytest

from rules.engine import CompiledRuleSet, compile_ruleset
from tests.engine.data import (
    CATALOGUE_V2,
    CONDITIONS,
    TODAY,
    Screen,
    default_ruleset_spec,
    outcome,
    ruleset_v2_spec,
    vignette_v2,
    vignette_v2_names,
)

# --- the rule set is the catalogue's -------------------------------------------------------------


def catalogue_rows() -> dict[str, list[str]]:
    """Each rule's row of the catalogue's tables (cells, rule ID without its **(new)** marks)."""
    rows: dict[str, list[str]] = {}
    for line in CATALOGUE_V2.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| ((?:IND|STOP|URG|REV|INFO)-[A-Z0-9-]+)[^|]*\|", line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[match.group(1)] = cells
    return rows


#: The catalogue's logic column, in the rule language.
LOGIC = {
    "IND-MDD": 'current_mood_episode = "depressive" and phq9_total >= 10 and '
    "(failed_adequate_antidepressant_trials >= 2 or acute_suicidal_ideation_or_behavior)",
    "STOP-BP-HAZARD": "bp_rise_serious_hazard",
    "STOP-CHILD": "age_years < 13",
    "URG-SUICIDE-RISK": 'suicide_risk = "high"',
    "REV-BREASTFEEDING": "breastfeeding",
    "REV-HYPOMANIA": 'current_mood_episode = "hypomanic"',
    "REV-SUICIDE-RISK": 'suicide_risk in ("low", "moderate")',
    "REV-SEDATION": "takes_opioid or benzodiazepine_dose_mg_diazepam_eq > 0 or "
    "other_cns_depressant_use",
    "REV-RESPIRATORY": "respiratory_compromise",
    "REV-BLADDER": "bladder_symptoms_or_cystitis",
    "INFO-REMS": 'planned_formulation = "esketamine_nasal"',
}


def test_version_2_declares_rule_language_level_2_and_version_1_level_1():
    assert (ruleset_v2_spec()["version"], ruleset_v2_spec()["language"]) == (2, 2)
    assert (default_ruleset_spec()["version"], default_ruleset_spec()["language"]) == (1, 1)
    assert compile_ruleset(ruleset_v2_spec()).language == 2
    assert compile_ruleset(default_ruleset_spec()).language == 1


def test_the_rules_are_the_catalogues_in_its_order_with_its_severities_and_sources():
    rows = catalogue_rows()
    rules = ruleset_v2_spec()["rules"]
    assert [rule["id"] for rule in rules] == list(rows)
    assert len(rules) == 50
    for rule in rules:
        row = rows[rule["id"]]
        assert rule["source"] == row[-1], rule["id"]
        if rule["kind"] == "indication":
            assert rule["condition"] == row[1].strip("`"), rule["id"]
        else:
            assert rule["severity"] == row[1], rule["id"]
        assert rule["title"], rule["id"]
        assert rule["message"], rule["id"]
        if rule["id"] in LOGIC:
            assert rule["logic"] == LOGIC[rule["id"]], rule["id"]


def test_every_source_is_specific_no_section_less_label_and_no_clinical_practice():
    for rule in ruleset_v2_spec()["rules"]:
        assert "Clinical practice" not in rule["source"], rule["id"]
        assert "esketamine US label" not in rule["source"], rule["id"]


def test_version_1_rules_carry_over_with_only_the_catalogues_logic_changes():
    old = {rule["id"]: rule for rule in default_ruleset_spec()["rules"]}
    new = {rule["id"]: rule for rule in ruleset_v2_spec()["rules"]}
    assert set(old) <= set(new)  # no rule is retired
    assert set(new) - set(old) == {
        "STOP-BP-HAZARD",
        "STOP-CHILD",
        "REV-HYPOMANIA",
        "REV-RESPIRATORY",
        "REV-BLADDER",
        "INFO-REMS",
    }
    changed = {rule_id for rule_id in old if old[rule_id]["logic"] != new[rule_id]["logic"]}
    assert changed == {"IND-MDD", "REV-BREASTFEEDING", "REV-SEDATION"}
    for rule_id in old:
        assert old[rule_id]["kind"] == new[rule_id]["kind"]
        assert old[rule_id].get("severity") == new[rule_id].get("severity")


# --- the vignettes ------------------------------------------------------------------------------


def test_all_eighteen_version_2_vignettes_are_there_and_name_version_2():
    names = vignette_v2_names()
    assert len(names) == 18
    assert {vignette_v2(name)["ruleset_version"] for name in names} == {2}


@pytest.mark.parametrize("name", vignette_v2_names())
def test_version_2_vignette_matches_its_expected_outcome(ruleset_v2: CompiledRuleSet, name: str):
    case = vignette_v2(name)

    result = ruleset_v2.screen(case["facts"], today=TODAY)

    assert result.ruleset.version == 2
    assert outcome(result) == case["expected"]


# --- new and changed rules at their boundaries ----------------------------------------------------

NO_CSSRS = {
    "wish_dead": False,
    "active_thoughts": False,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}
ONE_TRIAL = [{"drug": "sertraline", "weeks_at_adequate_dose": 8, "outcome": "no_response"}]
NEW_FACTS = (
    "bp_rise_serious_hazard",
    "respiratory_compromise",
    "other_cns_depressant_use",
    "bladder_symptoms_or_cystitis",
    "planned_formulation",
)


def flags(result: Any) -> list[str]:
    return sorted(flag.rule for flag in result.flags)


def missing(result: Any) -> dict[str, list[str]]:
    return {item.fact: list(item.needed_by) for item in result.missing}


def case(label: str, changes: dict[str, Any], fired: list[str], disposition: str, gaps=None):
    return pytest.param(changes, fired, disposition, gaps or {}, id=label)


CONSIDERATIONS = [
    # C2 STOP-CHILD: under 13 is a stop; 13 to 17 stays a paediatric review.
    case("age-12", {"age_years": 12}, ["REV-PEDIATRIC", "STOP-CHILD"], "contraindicated"),
    case("age-0", {"age_years": 0}, ["REV-PEDIATRIC", "STOP-CHILD"], "contraindicated"),
    case("age-13", {"age_years": 13}, ["REV-PEDIATRIC"], "review_required"),
    case("age-17", {"age_years": 17}, ["REV-PEDIATRIC"], "review_required"),
    case("age-18", {"age_years": 18}, ["INFO-YOUNG-ADULT"], "eligible"),
    case(
        "age-unknown",
        {"age_years": None},
        [],
        "incomplete",
        {"age_years": ["STOP-CHILD", "REV-PEDIATRIC", "REV-OLDER-ADULT", "INFO-YOUNG-ADULT"]},
    ),
    # C4 STOP-BP-HAZARD
    case("bp-hazard", {"bp_rise_serious_hazard": True}, ["STOP-BP-HAZARD"], "contraindicated"),
    case("bp-hazard-no", {"bp_rise_serious_hazard": False}, [], "eligible"),
    case(
        "bp-hazard-unrecorded",
        {"bp_rise_serious_hazard": None},
        [],
        "incomplete",
        {"bp_rise_serious_hazard": ["STOP-BP-HAZARD"]},
    ),
    # C5 REV-RESPIRATORY
    case("respiratory", {"respiratory_compromise": True}, ["REV-RESPIRATORY"], "review_required"),
    case("respiratory-no", {"respiratory_compromise": False}, [], "eligible"),
    case(
        "respiratory-unrecorded",
        {"respiratory_compromise": None},
        [],
        "review_required",
        {"respiratory_compromise": ["REV-RESPIRATORY"]},
    ),
    # C6 REV-SEDATION: opioids, any benzodiazepine, or another CNS depressant.
    case("other-cns", {"other_cns_depressant_use": True}, ["REV-SEDATION"], "review_required"),
    case("other-cns-no", {"other_cns_depressant_use": False}, [], "eligible"),
    case(
        "other-cns-unrecorded",
        {"other_cns_depressant_use": None},
        [],
        "review_required",
        {"other_cns_depressant_use": ["REV-SEDATION"]},
    ),
    case(
        "other-cns-unrecorded-opioid",
        {"other_cns_depressant_use": None, "takes_opioid": True},
        ["REV-SEDATION"],
        "review_required",
    ),
    case(
        "benzodiazepine-0.5",
        {"benzodiazepine_dose_mg_diazepam_eq": 0.5},
        ["REV-SEDATION"],
        "review_required",
    ),
    # C7 REV-BLADDER
    case("bladder", {"bladder_symptoms_or_cystitis": True}, ["REV-BLADDER"], "review_required"),
    case("bladder-no", {"bladder_symptoms_or_cystitis": False}, [], "eligible"),
    case(
        "bladder-unrecorded",
        {"bladder_symptoms_or_cystitis": None},
        [],
        "review_required",
        {"bladder_symptoms_or_cystitis": ["REV-BLADDER"]},
    ),
    # C8 REV-HYPOMANIA (not a stop; manic and mixed stay STOP-MANIA). Out of a depressive
    # episode MDD and TRD are only possible, which is a review too.
    case(
        "hypomanic",
        {"current_mood_episode": "hypomanic"},
        ["REV-HYPOMANIA"],
        "review_required",
    ),
    case("manic", {"current_mood_episode": "manic"}, ["STOP-MANIA"], "contraindicated"),
    case("euthymic", {"current_mood_episode": "euthymic"}, [], "review_required"),
    # C9 INFO-REMS: information only, for esketamine only; unrecorded changes no disposition.
    case("esketamine", {"planned_formulation": "esketamine_nasal"}, ["INFO-REMS"], "eligible"),
    case("racemic-iv", {"planned_formulation": "racemic_iv"}, [], "eligible"),
    case("racemic-im", {"planned_formulation": "racemic_im"}, [], "eligible"),
    case("racemic-oral", {"planned_formulation": "racemic_oral"}, [], "eligible"),
    case("undecided", {"planned_formulation": "undecided"}, [], "eligible"),
    case(
        "formulation-unrecorded",
        {"planned_formulation": None},
        [],
        "eligible",
        {"planned_formulation": ["INFO-REMS"]},
    ),
    # C1 REV-BREASTFEEDING: breastfeeding alone; a man's unrecorded answer counts as no.
    case("breastfeeding", {"breastfeeding": True}, ["REV-BREASTFEEDING"], "review_required"),
    case(
        "breastfeeding-not-applicable",
        {"breastfeeding": True, "pregnancy_status": "not_applicable"},
        ["REV-BREASTFEEDING"],
        "review_required",
    ),
    case(
        "breastfeeding-entered-for-a-man",
        {"breastfeeding": True, "sex_at_birth": "male", "pregnancy_status": None},
        ["REV-BREASTFEEDING"],
        "review_required",
    ),
    case(
        "man-breastfeeding-unrecorded",
        {"breastfeeding": None, "sex_at_birth": "male", "pregnancy_status": None},
        [],
        "eligible",
    ),
    case(
        "woman-breastfeeding-unrecorded",
        {"breastfeeding": None},
        [],
        "review_required",
        {"breastfeeding": ["REV-BREASTFEEDING"]},
    ),
    case(
        "intersex-breastfeeding-unrecorded",
        {"breastfeeding": None, "sex_at_birth": "intersex"},
        [],
        "review_required",
        {"breastfeeding": ["REV-BREASTFEEDING"]},
    ),
]


@pytest.mark.parametrize(("changes", "fired", "disposition", "gaps"), CONSIDERATIONS)
def test_new_and_changed_consideration_rules_at_their_boundaries(
    screen_v2: Screen, changes: dict[str, Any], fired: list[str], disposition: str, gaps: dict
):
    result = screen_v2(**changes)

    assert flags(result) == fired
    assert result.disposition == disposition
    assert missing(result) == gaps


def test_the_eligible_starting_point_is_eligible_with_nothing_missing(screen_v2: Screen):
    result = screen_v2()
    assert (result.disposition, flags(result), missing(result)) == ("eligible", [], {})


def test_a_version_1_intake_without_the_new_questions_is_incomplete_listing_each(
    screen_v2: Screen,
):
    result = screen_v2(**dict.fromkeys(NEW_FACTS))
    assert result.disposition == "incomplete"
    assert missing(result) == {
        "bladder_symptoms_or_cystitis": ["REV-BLADDER"],
        "bp_rise_serious_hazard": ["STOP-BP-HAZARD"],
        "other_cns_depressant_use": ["REV-SEDATION"],
        "planned_formulation": ["INFO-REMS"],
        "respiratory_compromise": ["REV-RESPIRATORY"],
    }


def indication(result: Any, condition: str) -> str:
    return next(i.status for i in result.indications if i.condition == condition)


@pytest.mark.parametrize(
    ("label", "changes", "mdd", "trd"),
    [
        ("two-trials", {}, "indicated", "indicated"),
        ("one-trial-no-suicidality", {"antidepressant_trials": ONE_TRIAL}, "possible", "possible"),
        (
            "no-trial-no-suicidality",
            {"antidepressant_trials": []},
            "possible",
            "possible",
        ),
        (
            "one-trial-active-thoughts",
            {
                "antidepressant_trials": ONE_TRIAL,
                "cssrs": {**NO_CSSRS, "wish_dead": True, "active_thoughts": True},
            },
            "indicated",
            "possible",
        ),
        (
            "no-trial-recent-behaviour",
            {
                "antidepressant_trials": [],
                "cssrs": {**NO_CSSRS, "behavior_past_3_months": True, "behavior_lifetime": True},
            },
            "indicated",
            "possible",
        ),
        (
            "one-trial-lifetime-behaviour-only",
            {"antidepressant_trials": ONE_TRIAL, "cssrs": {**NO_CSSRS, "behavior_lifetime": True}},
            "possible",
            "possible",
        ),
        (
            "one-trial-q2-unrecorded",
            {
                "antidepressant_trials": ONE_TRIAL,
                "cssrs": {"wish_dead": True, "behavior_past_3_months": False},
            },
            "undetermined",
            "possible",
        ),
        (
            "one-trial-recent-behaviour-unrecorded",
            {
                "antidepressant_trials": ONE_TRIAL,
                "cssrs": {"wish_dead": False, "active_thoughts": False},
            },
            "undetermined",
            "possible",
        ),
        (
            "one-trial-no-cssrs",
            {"antidepressant_trials": ONE_TRIAL, "cssrs": None},
            "undetermined",
            "possible",
        ),
        (
            "two-trials-no-cssrs",
            {"cssrs": None},
            "indicated",
            "indicated",
        ),
        (
            "active-thoughts-phq9-9",
            {
                "antidepressant_trials": ONE_TRIAL,
                "phq9_total": 9,
                "cssrs": {**NO_CSSRS, "wish_dead": True, "active_thoughts": True},
            },
            "possible",
            "possible",
        ),
        (
            "active-thoughts-not-depressive",
            {
                "current_mood_episode": "euthymic",
                "cssrs": {**NO_CSSRS, "wish_dead": True, "active_thoughts": True},
            },
            "possible",
            "possible",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_ind_mdd_needs_two_failed_trials_or_acute_suicidal_ideation_or_behaviour(
    screen_v2: Screen, label: str, changes: dict[str, Any], mdd: str, trd: str
):
    result = screen_v2(**changes)

    assert indication(result, "mdd") == mdd
    assert indication(result, "trd") == trd


def test_an_undetermined_ind_mdd_names_the_cssrs_as_missing(screen_v2: Screen):
    result = screen_v2(
        antidepressant_trials=ONE_TRIAL, cssrs={"wish_dead": True, "behavior_past_3_months": False}
    )
    assert missing(result)["cssrs"][0] == "IND-MDD"


def test_ind_mdd_explains_the_acute_suicidality_route(screen_v2: Screen):
    result = screen_v2(
        antidepressant_trials=ONE_TRIAL,
        cssrs={**NO_CSSRS, "wish_dead": True, "active_thoughts": True},
    )
    [mdd] = [i for i in result.indications if i.condition == "mdd"]
    assert "acute_suicidal_ideation_or_behavior = true" in mdd.because
    assert "failed_adequate_antidepressant_trials = 1 (< 2)" not in mdd.because


def test_the_eight_conditions_stay_in_catalogue_order(screen_v2: Screen):
    result = screen_v2()
    assert [i.condition for i in result.indications] == CONDITIONS
    assert [i.rule for i in result.indications] == [
        "IND-MDD",
        "IND-TRD",
        "IND-BIPOLAR",
        "IND-GAD",
        "IND-PTSD",
        "IND-OCD",
        "IND-FIBROMYALGIA",
        "IND-CRPS",
    ]


def test_a_defaulted_breastfeeding_answer_is_explained_as_such():
    spec = {
        "name": "t",
        "version": 1,
        "language": 2,
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
            {
                "id": "INFO-NOT-BREASTFEEDING",
                "kind": "consideration",
                "severity": "info",
                "title": "Not breastfeeding",
                "logic": "not breastfeeding",
            },
        ],
    }
    result = compile_ruleset(spec).screen({"sex_at_birth": "male"}, today=TODAY)
    [flag] = result.flags
    assert flag.because == ("breastfeeding not recorded; sex_at_birth = male",)
    entered = compile_ruleset(spec).screen(
        {"sex_at_birth": "male", "breastfeeding": False}, today=TODAY
    )
    assert entered.flags[0].because == ("breastfeeding = false",)
