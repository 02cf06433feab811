"""FHIR → facts as `rules/data/fhir-map.toml` says: sources kept, stale and conflicting data
shown and not used, absent or unmapped data unknown (never "no")."""

import tomllib
from datetime import date

import pytest

from rules.engine import compile_ruleset, validate_facts
from screening.ehr.mapping import MAP_PATH, BundleInvalid, map_bundle
from screening.fhir import codes
from tests.ehr.bundles import (
    blood_pressure,
    bundle,
    condition,
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
