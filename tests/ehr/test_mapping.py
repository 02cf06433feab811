"""FHIR → facts as `rules/data/fhir-map.toml` says: sources kept, stale and conflicting data
shown and not used, absent or unmapped data unknown (never "no")."""

import tomllib
from datetime import date

import pytest

from rules.engine import compile_ruleset, validate_facts
from screening.ehr.mapping import MAP_PATH, BundleInvalid, map_bundle
from screening.fhir import codes
from tests.ehr.bundles import (
    LOINC,
    blood_pressure,
    bundle,
    condition,
    cssrs_item,
    cssrs_items,
    cssrs_response,
    days_before,
    medication,
    patient,
    pregnancy,
    score,
)

TODAY = date(2026, 12, 7)


def test_every_mapped_entry_says_where_its_codes_were_checked():
    spec = tomllib.loads(MAP_PATH.read_text(encoding="utf-8"))
    for section in (
        "observation",
        "coded_observation",
        "condition",
        "condition_fact",
        "medication",
    ):
        for entry in spec[section]:
            assert entry.get("verified"), entry
    assert spec["cssrs"]["verified"]
    for item in spec["cssrs"]["item"]:
        assert item.get("verified"), item
    for entry in spec["observation"]:  # LOINC codes come from the one shared code list
        assert isinstance(getattr(codes, entry["code"]), codes.Code)


def test_recent_observations_are_used_with_their_source():
    prefill = map_bundle(
        bundle(
            score("phq", "44261-6", 19, days_before(TODAY, 3)),
            blood_pressure("bp", 152, 94, TODAY),
            score("hr", "8867-4", 71.0, TODAY),
        ),
        today=TODAY,
    )

    assert prefill.facts == {
        "phq9_total": 19,
        "systolic_bp": 152,
        "diastolic_bp": 94,
        "heart_rate": 71,
    }
    sources = prefill.sources()
    assert sources["phq9_total"] == [
        {
            "reference": "Observation/phq",
            "date": "2026-12-04",
            "display": sources["phq9_total"][0]["display"],
        }
    ]
    assert sources["systolic_bp"][0]["reference"] == "Observation/bp"


def test_a_blood_pressure_from_last_spring_is_shown_and_not_used():
    prefill = map_bundle(bundle(blood_pressure("old", 150, 95, date(2026, 4, 2))), today=TODAY)

    assert "systolic_bp" not in prefill.facts
    stale, _ = prefill.not_used()
    assert stale.status == "stale"
    assert "older than 1 days" in stale.note


def test_a_phq9_older_than_two_weeks_is_stale_and_a_newer_one_wins():
    prefill = map_bundle(
        bundle(
            score("old", "44261-6", 8, days_before(TODAY, 20)),
            score("mid", "44261-6", 12, days_before(TODAY, 10)),
            score("new", "44261-6", 17, days_before(TODAY, 2)),
        ),
        today=TODAY,
    )

    assert prefill.facts["phq9_total"] == 17
    assert {f.source.reference: f.status for f in prefill.findings} == {
        "Observation/old": "stale",
        "Observation/mid": "stale",
        "Observation/new": "used",
    }


def test_two_different_values_on_the_newest_day_are_a_conflict_and_not_used():
    prefill = map_bundle(
        bundle(
            score("a", "44261-6", 9, TODAY),
            score("b", "44261-6", 21, TODAY),
        ),
        today=TODAY,
    )

    assert "phq9_total" not in prefill.facts
    assert {f.status for f in prefill.findings} == {"conflict"}


def test_conditions_give_an_open_world_set_of_diagnoses():
    prefill = map_bundle(
        bundle(
            condition("c1", "F33.1"),
            condition("c2", "F41.1"),
            condition("c3", "F31.81", status="resolved"),
        ),
        today=TODAY,
    )

    assert prefill.facts["diagnoses"] == {"includes": ["gad", "mdd"]}
    values = validate_facts(prefill.facts, today=TODAY).values
    assert compile_ruleset_v2().considerations  # the rule set reads it
    assert str(values["diagnoses"]).startswith("includes gad, mdd")


def compile_ruleset_v2():
    from tests.engine.data import ruleset_v2_spec

    return compile_ruleset(ruleset_v2_spec())


def test_medicines_only_ever_say_yes():
    prefill = map_bundle(
        bundle(medication("m1", "6448"), medication("m2", "7052", status="stopped")),
        today=TODAY,
    )

    assert prefill.facts == {"takes_mood_stabilizer": True}  # takes_opioid stays unknown


def test_pregnancy_status_and_patient_details_are_read():
    prefill = map_bundle(
        bundle(patient(), pregnancy("preg", "LA15173-0", days_before(TODAY, 1))),
        today=TODAY,
    )

    assert prefill.facts == {
        "date_of_birth": "1984-03-02",
        "sex_at_birth": "female",
        "pregnancy_status": "pregnant",
    }


def test_nothing_recorded_is_all_unknown_never_no():
    prefill = map_bundle(bundle(patient(sex=None)), today=TODAY)
    result = compile_ruleset_v2().screen(prefill.facts, today=TODAY)

    assert result.disposition == "incomplete"
    assert "diagnoses" in [m.fact for m in result.missing]


def test_unmapped_resources_are_listed_and_ignored():
    other = {"resourceType": "AllergyIntolerance", "id": "a1"}
    loinc_unknown = score("x", "1234-5", 3, TODAY)

    prefill = map_bundle(bundle(other, loinc_unknown), today=TODAY)

    assert prefill.facts == {}
    assert prefill.unmapped == ["AllergyIntolerance/a1", "Observation/x"]


def test_an_out_of_range_value_is_shown_and_not_used():
    prefill = map_bundle(bundle(score("bad", "44261-6", 40, TODAY)), today=TODAY)

    assert prefill.facts == {}
    assert [f.status for f in prefill.findings] == ["invalid"]


@pytest.mark.parametrize(
    "document", [[], {"resourceType": "Patient"}, {"resourceType": "Bundle", "entry": [1]}]
)
def test_what_is_not_a_bundle_is_refused(document):
    with pytest.raises(BundleInvalid):
        map_bundle(document, today=TODAY)


# --- C-SSRS screener ------------------------------------------------------------------------


def test_a_high_risk_cssrs_from_observations_gives_high_suicide_risk():
    on = days_before(TODAY, 2)
    prefill = map_bundle(
        bundle(
            *cssrs_items(
                "cs",
                on,
                wish_dead=True,
                active_thoughts=True,
                method=True,
                intent=True,
                plan=False,
                behavior_lifetime=False,
            )
        ),
        today=TODAY,
    )

    assert prefill.facts == {
        "cssrs": {
            "wish_dead": True,
            "active_thoughts": True,
            "method": True,
            "intent": True,
            "plan": False,
            "behavior_lifetime": False,
        }
    }
    assert prefill.sources()["cssrs.intent"][0]["reference"] == "Observation/cs-intent"
    result = compile_ruleset_v2().screen(prefill.facts, today=TODAY)
    assert result.urgent
    assert "URG-SUICIDE-RISK" in [f.rule for f in result.flags]


def test_a_questionnaire_response_of_the_screener_is_read_by_linkid():
    prefill = map_bundle(
        bundle(
            cssrs_response(
                "qr",
                days_before(TODAY, 1),
                wish_dead=False,
                active_thoughts=False,
                behavior_lifetime=True,
                behavior_past_3_months=True,
            )
        ),
        today=TODAY,
    )

    assert prefill.facts["cssrs"] == {
        "wish_dead": False,
        "active_thoughts": False,
        "behavior_lifetime": True,
        "behavior_past_3_months": True,
    }
    assert prefill.sources()["cssrs.behavior_past_3_months"][0] == {
        "reference": "QuestionnaireResponse/qr",
        "date": "2026-12-06",
        "display": "C-SSRS Preparatory acts or suicidal behavior 3 months: yes",
    }


def test_value_boolean_and_a_panel_with_components_are_read():
    panel = {
        "resourceType": "Observation",
        "id": "panel",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "93373-9"}]},
        "effectiveDateTime": TODAY.isoformat(),
        "component": [
            {"code": {"coding": [{"system": LOINC, "code": "93246-7"}]}, "valueBoolean": True},
            {"code": {"coding": [{"system": LOINC, "code": "93247-5"}]}, "valueBoolean": False},
        ],
    }

    prefill = map_bundle(bundle(panel), today=TODAY)

    assert prefill.facts == {"cssrs": {"wish_dead": True, "active_thoughts": False}}


def test_a_partial_screener_stays_partial_and_an_unknown_answer_stays_unknown():
    unknown = cssrs_item("q5", "plan", True, TODAY)
    unknown["valueCodeableConcept"] = {"coding": [{"system": LOINC, "code": "LA4489-6"}]}

    prefill = map_bundle(bundle(*cssrs_items("cs", TODAY, wish_dead=True), unknown), today=TODAY)

    assert prefill.facts == {"cssrs": {"wish_dead": True}}  # Q2–Q6 not recorded, never "no"
    result = compile_ruleset_v2().screen(prefill.facts, today=TODAY)
    assert "cssrs" in [m.fact for m in result.missing]


def test_a_screener_older_than_a_month_is_shown_and_not_used():
    prefill = map_bundle(
        bundle(*cssrs_items("old", days_before(TODAY, 31), wish_dead=True, intent=True)),
        today=TODAY,
    )

    assert "cssrs" not in prefill.facts
    assert {f.status for f in prefill.findings} == {"stale"}
    assert "older than 30 days" in prefill.findings[0].note


def test_only_the_newest_administration_is_used_and_an_old_lifetime_yes_still_counts():
    prefill = map_bundle(
        bundle(
            *cssrs_items(
                "old",
                days_before(TODAY, 20),
                active_thoughts=True,
                plan=True,
                behavior_lifetime=True,
            ),
            *cssrs_items("new", days_before(TODAY, 2), wish_dead=False, active_thoughts=False),
            cssrs_item("ever", "behavior_lifetime", True, days_before(TODAY, 900)),
        ),
        today=TODAY,
    )

    assert prefill.facts["cssrs"] == {
        "wish_dead": False,
        "active_thoughts": False,
        "behavior_lifetime": True,
    }
    statuses = {f.source.reference: f.status for f in prefill.findings}
    assert statuses["Observation/old-plan"] == "stale"
    assert statuses["Observation/old-active_thoughts"] == "stale"
    assert statuses["Observation/new-wish_dead"] == "used"


def test_a_lifetime_no_after_a_lifetime_yes_is_a_conflict():
    prefill = map_bundle(
        bundle(
            cssrs_item("then", "behavior_lifetime", True, days_before(TODAY, 200)),
            *cssrs_items("now", TODAY, wish_dead=False, behavior_lifetime=False),
        ),
        today=TODAY,
    )

    assert prefill.facts["cssrs"] == {"wish_dead": False}
    conflicts = {f.source.reference for f in prefill.findings if f.status == "conflict"}
    assert conflicts == {"Observation/then", "Observation/now-behavior_lifetime"}


def test_q3_yes_with_q2_no_is_invalid_and_not_used():
    prefill = map_bundle(
        bundle(*cssrs_items("cs", TODAY, active_thoughts=False, method=True)), today=TODAY
    )

    assert "cssrs" not in prefill.facts
    assert {f.status for f in prefill.findings} == {"invalid"}
