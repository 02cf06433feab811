"""The FHIR JSON hygiene pass: one function, checked by properties over any JSON and over the
bundles of any valid intake and its result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients.models import Intake, Patient
from rules.engine import compile_ruleset, validate_facts
from screening.fhir.bundle import screening_bundle
from screening.fhir.hygiene import FhirHygieneError, fhir_hygiene, hygiene_problems
from screening.models import Screening
from tests.engine.data import TODAY, ruleset_v2_spec
from tests.engine.test_properties import valid_documents
from tests.fhir.checks import model_errors

# The machine running the suite may be busy: no deadlines, no "too slow" health check.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- any JSON ------------------------------------------------------------------------------------

keys = st.sampled_from(["item", "answer", "linkId", "valueString", "coding", "extension", "text"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["", " ", "\n\t", "x", " padded "])
    | st.text(max_size=5)
)
json_trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=15,
)
#: A resource of any shape (it always has its type, so the pass never empties it entirely).
resources = st.dictionaries(keys, json_trees, max_size=5).map(
    lambda elements: {"resourceType": "Basic", **elements}
)


def _empties(value: Any) -> list[Any]:
    if isinstance(value, dict):
        found = [value] if not value else []
        return found + [e for item in value.values() for e in _empties(item)]
    if isinstance(value, list):
        found = [value] if not value else []
        return found + [e for item in value for e in _empties(item)]
    if value is None or (isinstance(value, str) and not value.strip()):
        return [value]
    return []


@SETTINGS
@given(resources)
def test_the_pass_leaves_no_null_or_empty_value_anywhere(document):
    cleaned = fhir_hygiene(document)
    assert _empties(cleaned) == []
    assert hygiene_problems(cleaned) == []


@SETTINGS
@given(resources)
def test_the_pass_is_idempotent_and_keeps_every_real_value(document):
    cleaned = fhir_hygiene(document)
    assert fhir_hygiene(cleaned) == cleaned
    if not _empties(document):
        assert cleaned == document


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"resourceType": "Observation", "effectiveDateTime": "2026-02-30"}, "dateTime"),
        ({"resourceType": "Observation", "effectiveDateTime": "2026-01-05T10:00:00"}, "zone"),
        ({"resourceType": "Patient", "birthDate": "1984-13-01"}, "date"),
        ({"resourceType": "Bundle", "timestamp": "2026-01-05"}, "instant"),
        ({"resourceType": "Patient", "id": "has spaces"}, "FHIR id"),
        ({"resourceType": "Observation", "valueDecimal": float("nan")}, "finite"),
        ({"item": [None, {}]}, "empty object"),  # nothing left to emit
        (
            {
                "resourceType": "Bundle",
                "entry": [
                    {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient", "id": "b"}}
                ],
            },
            "does not name its resource",
        ),
        (
            {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "fullUrl": "https://ehr.example/fhir/Patient/a",
                        "resource": {"resourceType": "Observation", "id": "a"},
                    }
                ],
            },
            "does not end with Observation/a",
        ),
    ],
)
def test_what_the_pass_cannot_repair_is_refused_by_name(document, problem):
    with pytest.raises(FhirHygieneError) as refused:
        fhir_hygiene(document)
    assert any(problem in p for p in refused.value.problems)


def test_valid_dates_and_matching_full_urls_pass():
    document = {
        "resourceType": "Bundle",
        "timestamp": "2026-11-24T09:30:00.5+01:00",
        "entry": [
            {
                "fullUrl": "urn:uuid:5b8c",
                "resource": {
                    "resourceType": "Patient",
                    "id": "5b8c",
                    "birthDate": "1984-02-29",
                    "name": [{"family": "A", "given": ["", "B"]}],
                },
            }
        ],
    }
    cleaned = fhir_hygiene(document)
    assert cleaned["entry"][0]["resource"]["name"] == [{"family": "A", "given": ["B"]}]


# --- the bundle of any intake and its result -----------------------------------------------------

RULESET = compile_ruleset(ruleset_v2_spec())
RUN_AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _screening(document: dict[str, Any]) -> Screening:
    """An unsaved screening of `document` (the bundle builder reads no database)."""
    facts = validate_facts(document, today=TODAY)
    result = RULESET.evaluate(facts)
    patient = Patient(
        mrn="MRN1",
        family_name="Doe",
        given_names="Alex",
        date_of_birth=TODAY,
        sex_at_birth="female",
    )
    return Screening(
        patient=patient,
        intake=Intake(patient=patient),
        screening_date=TODAY,
        facts=facts.as_document(),
        result=result.model_dump(mode="json"),
        run_at=RUN_AT,
    )


@SETTINGS
@given(valid_documents())
def test_the_bundle_of_any_intake_and_result_is_clean_and_valid_r4b(document):
    bundle = screening_bundle(_screening(document))
    assert hygiene_problems(bundle) == []
    assert model_errors(bundle) == []
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        assert entry["resource"]["text"]["status"] == "generated"
