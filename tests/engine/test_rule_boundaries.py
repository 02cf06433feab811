"""Every rule of the default rule set at its threshold: starting from the `trd-eligible` vignette
(eligible, no flag fires), the smallest change that makes a rule fire, and the nearest that does not."""

from typing import Any

import pytest

from rules.engine import CompiledRuleSet
from tests.engine.data import CONDITIONS, Screen

IDEATION = {
    "wish_dead": True,
    "active_thoughts": True,
    "method": False,
    "intent": False,
    "plan": False,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}
NO_IDEATION = {
    "wish_dead": False,
    "active_thoughts": False,
    "behavior_past_3_months": False,
    "behavior_lifetime": False,
}


def case(label: str, changes: dict[str, Any], flags: list[str], disposition: str) -> Any:
    return pytest.param(changes, flags, disposition, id=label)


CONSIDERATIONS = [
    # stop
    case(
        "hypersensitivity",
        {"hypersensitivity_to_ketamine": True},
        ["STOP-HYPERSENSITIVITY"],
        "contraindicated",
    ),
    case("aneurysm", {"aneurysmal_vascular_disease": True}, ["STOP-VASCULAR"], "contraindicated"),
    case("avm", {"arteriovenous_malformation": True}, ["STOP-VASCULAR"], "contraindicated"),
    case(
        "haemorrhage", {"intracerebral_hemorrhage_history": True}, ["STOP-ICH"], "contraindicated"
    ),
    case("pregnant", {"pregnancy_status": "pregnant"}, ["STOP-PREGNANCY"], "contraindicated"),
    case("psychosis", {"psychosis_current": True}, ["STOP-PSYCHOSIS"], "contraindicated"),
    case("manic", {"current_mood_episode": "manic"}, ["STOP-MANIA"], "contraindicated"),
    case("mixed", {"current_mood_episode": "mixed"}, ["STOP-MANIA"], "contraindicated"),
    case("hypomanic", {"current_mood_episode": "hypomanic"}, [], "review_required"),
    case(
        "cv-poor",
        {"cardiovascular_disease": "poorly_controlled"},
        ["STOP-CARDIOVASCULAR"],
        "contraindicated",
    ),
    case("systolic-181", {"systolic_bp": 181}, ["STOP-BP-CRISIS"], "contraindicated"),
    case("systolic-180", {"systolic_bp": 180}, ["REV-BP-ELEVATED"], "review_required"),
    case("diastolic-121", {"diastolic_bp": 121}, ["STOP-BP-CRISIS"], "contraindicated"),
    case("diastolic-120", {"diastolic_bp": 120}, ["REV-BP-ELEVATED"], "review_required"),
    case("hepatic-severe", {"hepatic_impairment": "severe"}, ["STOP-HEPATIC"], "contraindicated"),
    case("icp", {"elevated_intracranial_pressure": True}, ["STOP-ICP"], "contraindicated"),
    case(
        "sud-active", {"substance_use_disorder": "active"}, ["STOP-SUD-ACTIVE"], "contraindicated"
    ),
    # urgent
    case(
        "cssrs-plan", {"cssrs": {**IDEATION, "plan": True}}, ["URG-SUICIDE-RISK"], "review_required"
    ),
    case(
        "cssrs-intent",
        {"cssrs": {**IDEATION, "intent": True}},
        ["URG-SUICIDE-RISK"],
        "review_required",
    ),
    case(
        "cssrs-recent-behaviour",
        {"cssrs": {**NO_IDEATION, "behavior_past_3_months": True}},
        ["URG-SUICIDE-RISK"],
        "review_required",
    ),
    # review
    case("age-17", {"age_years": 17}, ["REV-PEDIATRIC"], "review_required"),
    case("age-18", {"age_years": 18}, ["INFO-YOUNG-ADULT"], "eligible"),
    case("age-64", {"age_years": 64}, [], "eligible"),
    case("age-65", {"age_years": 65}, ["REV-OLDER-ADULT"], "review_required"),
    case("breastfeeding", {"breastfeeding": True}, ["REV-BREASTFEEDING"], "review_required"),
    case(
        "breastfeeding-not-applicable",
        {"breastfeeding": True, "pregnancy_status": "not_applicable"},
        [],
        "eligible",
    ),
    case(
        "breastfeeding-male-status-derived",
        {"breastfeeding": True, "sex_at_birth": "male", "pregnancy_status": None},
        [],
        "eligible",
    ),
    case(
        "planning-pregnancy",
        {"planning_pregnancy": True},
        ["REV-PLANNING-PREGNANCY"],
        "review_required",
    ),
    case(
        "planning-not-applicable",
        {"planning_pregnancy": True, "pregnancy_status": "not_applicable"},
        [],
        "eligible",
    ),
    case("systolic-140", {"systolic_bp": 140}, [], "eligible"),
    case("systolic-141", {"systolic_bp": 141}, ["REV-BP-ELEVATED"], "review_required"),
    case("diastolic-90", {"diastolic_bp": 90}, [], "eligible"),
    case("diastolic-91", {"diastolic_bp": 91}, ["REV-BP-ELEVATED"], "review_required"),
    case(
        "cv-controlled",
        {"cardiovascular_disease": "controlled"},
        ["REV-CARDIOVASCULAR"],
        "review_required",
    ),
    case(
        "encephalopathy",
        {"hypertensive_encephalopathy_history": True},
        ["REV-CARDIOVASCULAR"],
        "review_required",
    ),
    case("iop", {"elevated_intraocular_pressure": True}, ["REV-IOP"], "review_required"),
    case(
        "hepatic-moderate", {"hepatic_impairment": "moderate"}, ["REV-HEPATIC"], "review_required"
    ),
    case("hepatic-mild", {"hepatic_impairment": "mild"}, [], "eligible"),
    case("cognitive", {"cognitive_impairment": True}, ["REV-COGNITIVE"], "review_required"),
    case(
        "psychosis-history", {"psychosis_history": True}, ["REV-PSYCHOSIS-RISK"], "review_required"
    ),
    case(
        "family-schizophrenia",
        {"family_history_schizophrenia": True},
        ["REV-PSYCHOSIS-RISK"],
        "review_required",
    ),
    case(
        "sud-remission",
        {"substance_use_disorder": "in_remission"},
        ["REV-SUD-HISTORY"],
        "review_required",
    ),
    case(
        "ketamine-misuse", {"ketamine_misuse_history": True}, ["REV-SUD-HISTORY"], "review_required"
    ),
    case(
        "bipolar-no-stabiliser",
        {"diagnoses": ["bipolar_i"]},
        ["REV-BIPOLAR-NO-STABILISER", "REV-BIPOLAR-SWITCH"],
        "review_required",
    ),
    case(
        "bipolar-with-stabiliser",
        {"diagnoses": ["bipolar_ii"], "takes_mood_stabilizer": True},
        ["REV-BIPOLAR-SWITCH"],
        "review_required",
    ),
    case("stabiliser-without-bipolar", {"takes_mood_stabilizer": True}, [], "eligible"),
    case(
        "cssrs-wish-dead",
        {"cssrs": {**NO_IDEATION, "wish_dead": True}},
        ["REV-SUICIDE-RISK"],
        "review_required",
    ),
    case("cssrs-active-thoughts", {"cssrs": IDEATION}, ["REV-SUICIDE-RISK"], "review_required"),
    case(
        "cssrs-method",
        {"cssrs": {**IDEATION, "method": True}},
        ["REV-SUICIDE-RISK"],
        "review_required",
    ),
    case(
        "cssrs-lifetime-behaviour",
        {"cssrs": {**NO_IDEATION, "behavior_lifetime": True}},
        ["REV-SUICIDE-RISK"],
        "review_required",
    ),
    case("phq9-item9-1", {"phq9_item9": 1}, ["REV-PHQ9-ITEM9"], "review_required"),
    case("phq9-item9-0", {"phq9_item9": 0}, [], "eligible"),
    case(
        "benzodiazepine-8.5",
        {"benzodiazepine_dose_mg_diazepam_eq": 8.5},
        ["REV-BENZODIAZEPINE", "REV-SEDATION"],
        "review_required",
    ),
    case(
        "benzodiazepine-8",
        {"benzodiazepine_dose_mg_diazepam_eq": 8},
        ["REV-SEDATION"],
        "review_required",
    ),
    case(
        "benzodiazepine-0.5",
        {"benzodiazepine_dose_mg_diazepam_eq": 0.5},
        ["REV-SEDATION"],
        "review_required",
    ),
    case("benzodiazepine-0", {"benzodiazepine_dose_mg_diazepam_eq": 0}, [], "eligible"),
    case("maoi", {"takes_maoi": True}, ["REV-BP-RAISING-DRUGS"], "review_required"),
    case("stimulant", {"takes_stimulant": True}, ["REV-BP-RAISING-DRUGS"], "review_required"),
    case("opioid", {"takes_opioid": True}, ["REV-SEDATION"], "review_required"),
    case(
        "prior-adverse",
        {"prior_ketamine_response": "adverse_reaction"},
        ["REV-PRIOR-ADVERSE"],
        "review_required",
    ),
    # info: shown, but the patient stays eligible
    case("lamotrigine", {"takes_lamotrigine": True}, ["INFO-LAMOTRIGINE"], "eligible"),
    case("age-24", {"age_years": 24}, ["INFO-YOUNG-ADULT"], "eligible"),
    case("age-25", {"age_years": 25}, [], "eligible"),
    case(
        "no-psychotherapy", {"engaged_in_psychotherapy": False}, ["INFO-PSYCHOTHERAPY"], "eligible"
    ),
    case("no-escort", {"has_escort_home": False}, ["INFO-ESCORT"], "eligible"),
    case(
        "prior-no-response",
        {"prior_ketamine_response": "no_response"},
        ["INFO-PRIOR-NONRESPONSE"],
        "eligible",
    ),
    case("prior-responded", {"prior_ketamine_response": "responded"}, [], "eligible"),
]


def test_the_starting_point_is_eligible_with_no_flag(screen: Screen):
    result = screen()

    assert result.disposition == "eligible"
    assert result.flags == ()
    assert result.missing == ()


@pytest.mark.parametrize(("changes", "flags", "disposition"), CONSIDERATIONS)
def test_consideration_rule_at_its_threshold(
    screen: Screen, changes: dict[str, Any], flags: list[str], disposition: str
):
    result = screen(**changes)

    assert sorted(f.rule for f in result.flags) == flags
    assert result.disposition == disposition
    assert result.missing == ()


def test_boundary_table_makes_every_consideration_rule_fire(ruleset: CompiledRuleSet):
    fired = {rule for param in CONSIDERATIONS for rule in param.values[1]}

    assert fired == {c.spec.id for c in ruleset.considerations}


@pytest.mark.parametrize(
    ("changes", "urgent"),
    [
        ({"cssrs": {**IDEATION, "plan": True}}, True),
        ({"cssrs": {**IDEATION, "method": True}}, False),
        ({"cssrs": {**IDEATION, "plan": True}, "psychosis_current": True}, True),
    ],
)
def test_urgent_is_set_exactly_when_the_urgent_rule_fires(
    screen: Screen, changes: dict[str, Any], urgent: bool
):
    assert screen(**changes).urgent is urgent


# --- indications -------------------------------------------------------------------------------


def statuses(**changed: str) -> dict[str, str]:
    return {condition: changed.get(condition, "not_indicated") for condition in CONDITIONS}


def trial(weeks: int, outcome: str = "no_response") -> dict[str, Any]:
    return {"drug": "sertraline", "weeks_at_adequate_dose": weeks, "outcome": outcome}


GAD = {"diagnoses": ["gad"], "gad7_total": 10, "failed_anxiety_treatments": 1}
PTSD = {"diagnoses": ["ptsd"], "pcl5_total": 33, "failed_anxiety_treatments": 1}
OCD = {"diagnoses": ["ocd"], "ybocs_total": 16, "failed_anxiety_treatments": 1}
FIBROMYALGIA = {"diagnoses": ["fibromyalgia"], "pain_nrs": 4, "failed_pain_treatments": 1}
CRPS = {"diagnoses": ["crps"], "pain_nrs": 4, "failed_pain_treatments": 1}
BIPOLAR = {"diagnoses": ["bipolar_ii"], "takes_mood_stabilizer": True}


def indication(
    label: str, changes: dict[str, Any], expected: dict[str, str], disposition: str
) -> Any:
    return pytest.param(changes, expected, disposition, id=label)


INDICATIONS = [
    indication("trd", {}, statuses(mdd="indicated", trd="indicated"), "eligible"),
    indication(
        "phq9-9", {"phq9_total": 9}, statuses(mdd="possible", trd="possible"), "review_required"
    ),
    indication(
        "phq9-10", {"phq9_total": 10}, statuses(mdd="indicated", trd="indicated"), "eligible"
    ),
    indication(
        "one-failed-trial",
        {"antidepressant_trials": [trial(8)]},
        statuses(mdd="indicated", trd="possible"),
        "eligible",
    ),
    indication(
        "two-failed-trials",
        {"antidepressant_trials": [trial(8), trial(6, "partial_response")]},
        statuses(mdd="indicated", trd="indicated"),
        "eligible",
    ),
    indication(
        "second-trial-5-weeks",
        {"antidepressant_trials": [trial(8), trial(5)]},
        statuses(mdd="indicated", trd="possible"),
        "eligible",
    ),
    indication(
        "no-failed-trial",
        {"antidepressant_trials": [trial(8, "response")]},
        statuses(mdd="possible", trd="possible"),
        "review_required",
    ),
    indication(
        "no-trials-yet",
        {"antidepressant_trials": []},
        statuses(mdd="possible", trd="possible"),
        "review_required",
    ),
    indication(
        "euthymic",
        {"current_mood_episode": "euthymic"},
        statuses(mdd="possible", trd="possible"),
        "review_required",
    ),
    indication(
        "trials-unknown",
        {"antidepressant_trials": None},
        statuses(mdd="undetermined", trd="undetermined"),
        "incomplete",
    ),
    indication(
        "trials-unknown-but-phq9-below",
        {"antidepressant_trials": None, "phq9_total": 9},
        statuses(mdd="possible", trd="possible"),
        "review_required",
    ),
    indication("no-diagnosis", {"diagnoses": []}, statuses(), "not_indicated"),
    indication(
        "diagnoses-unknown",
        {"diagnoses": None},
        dict.fromkeys(CONDITIONS, "undetermined"),
        "incomplete",
    ),
    indication("gad-10", GAD, statuses(gad="indicated"), "eligible"),
    indication("gad-9", {**GAD, "gad7_total": 9}, statuses(gad="possible"), "review_required"),
    indication(
        "gad-no-failed",
        {**GAD, "failed_anxiety_treatments": 0},
        statuses(gad="possible"),
        "review_required",
    ),
    indication(
        "gad-7-unknown", {**GAD, "gad7_total": None}, statuses(gad="undetermined"), "incomplete"
    ),
    indication(
        "gad-9-failed-unknown",
        {**GAD, "gad7_total": 9, "failed_anxiety_treatments": None},
        statuses(gad="possible"),
        "review_required",
    ),
    indication("ptsd-33", PTSD, statuses(ptsd="indicated"), "eligible"),
    indication("ptsd-32", {**PTSD, "pcl5_total": 32}, statuses(ptsd="possible"), "review_required"),
    indication(
        "ptsd-no-failed",
        {**PTSD, "failed_anxiety_treatments": 0},
        statuses(ptsd="possible"),
        "review_required",
    ),
    indication("ocd-16", OCD, statuses(ocd="indicated"), "eligible"),
    indication("ocd-15", {**OCD, "ybocs_total": 15}, statuses(ocd="possible"), "review_required"),
    indication(
        "ocd-no-failed",
        {**OCD, "failed_anxiety_treatments": 0},
        statuses(ocd="possible"),
        "review_required",
    ),
    indication("fibromyalgia-4", FIBROMYALGIA, statuses(fibromyalgia="indicated"), "eligible"),
    indication(
        "fibromyalgia-3",
        {**FIBROMYALGIA, "pain_nrs": 3},
        statuses(fibromyalgia="possible"),
        "review_required",
    ),
    indication(
        "fibromyalgia-no-failed",
        {**FIBROMYALGIA, "failed_pain_treatments": 0},
        statuses(fibromyalgia="possible"),
        "review_required",
    ),
    indication("crps-4", CRPS, statuses(crps="indicated"), "eligible"),
    indication("crps-3", {**CRPS, "pain_nrs": 3}, statuses(crps="possible"), "review_required"),
    indication(
        "crps-no-failed",
        {**CRPS, "failed_pain_treatments": 0},
        statuses(crps="possible"),
        "review_required",
    ),
    indication(
        "crps-pain-unknown", {**CRPS, "pain_nrs": None}, statuses(crps="undetermined"), "incomplete"
    ),
    indication("bipolar", BIPOLAR, statuses(bipolar_depression="indicated"), "review_required"),
    indication(
        "bipolar-phq9-9",
        {**BIPOLAR, "phq9_total": 9},
        statuses(bipolar_depression="possible"),
        "review_required",
    ),
    indication(
        "bipolar-no-failed-trial",
        {**BIPOLAR, "antidepressant_trials": [trial(5)]},
        statuses(bipolar_depression="possible"),
        "review_required",
    ),
    indication(
        "mdd-and-gad",
        {"diagnoses": ["mdd", "gad"], "gad7_total": 12, "failed_anxiety_treatments": 0},
        statuses(mdd="indicated", trd="indicated", gad="possible"),
        "eligible",
    ),
]


@pytest.mark.parametrize(("changes", "expected", "disposition"), INDICATIONS)
def test_indication_statuses_at_their_thresholds(
    screen: Screen, changes: dict[str, Any], expected: dict[str, str], disposition: str
):
    result = screen(**changes)

    assert {i.condition: i.status for i in result.indications} == expected
    assert result.disposition == disposition


def test_indications_are_all_eight_in_catalogue_order_with_their_rules(screen: Screen):
    result = screen(diagnoses=[])

    assert [(i.condition, i.rule) for i in result.indications] == [
        ("mdd", "IND-MDD"),
        ("trd", "IND-TRD"),
        ("bipolar_depression", "IND-BIPOLAR"),
        ("gad", "IND-GAD"),
        ("ptsd", "IND-PTSD"),
        ("ocd", "IND-OCD"),
        ("fibromyalgia", "IND-FIBROMYALGIA"),
        ("crps", "IND-CRPS"),
    ]
