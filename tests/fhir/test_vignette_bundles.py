"""Every v1 and v2 vignette's FHIR bundle passes the three checks: the HL7 FHIR R4 JSON schema,
the FHIR JSON hygiene rules and `fhir.resources` R4B validation. Each check is shown to fail on
a bundle that breaks it."""

from __future__ import annotations

import copy
import json

import pytest

from screening.fhir.hygiene import hygiene_problems
from tests.api.conftest import client_for
from tests.fhir.checks import all_problems, model_errors, schema_errors
from tests.fhir.conftest import VIGNETTE_FILES, vignette_id

pytestmark = pytest.mark.django_db


def test_there_are_version_1_and_version_2_vignettes():
    versions = [json.loads(p.read_text())["ruleset_version"] for p in VIGNETTE_FILES]
    assert versions.count(1) >= 14
    assert versions.count(2) >= 18


@pytest.mark.parametrize("path", VIGNETTE_FILES, ids=vignette_id)
def test_vignette_bundle_passes_schema_hygiene_and_fhir_resources(
    path, vignette_screening, clinician
):
    screening = vignette_screening(path)
    response = client_for(clinician).get(f"/screenings/{screening.uuid}/fhir")
    assert response.status_code == 200
    bundle = response.json()
    assert all_problems(bundle) == {"schema": [], "hygiene": [], "fhir.resources": []}
    for entry in bundle["entry"]:
        assert entry["resource"]["text"]["status"] == "generated"


@pytest.fixture
def bundle(vignette_screening, clinician):
    """A valid bundle to break: a vignette with no antidepressant trials tried (the case that
    used to export an empty `item` array)."""
    [path] = [p for p in VIGNETTE_FILES if vignette_id(p) == "vignettes/no-listed-condition"]
    screening = vignette_screening(path)
    document = client_for(clinician).get(f"/screenings/{screening.uuid}/fhir").json()
    assert all_problems(document) == {"schema": [], "hygiene": [], "fhir.resources": []}
    return document


def _resource(bundle, kind):
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def test_the_schema_check_fails_a_bundle_with_an_unknown_status(bundle):
    broken = copy.deepcopy(bundle)
    _resource(broken, "Observation")["status"] = "done"
    assert any("status" in error for error in schema_errors(broken))


def test_the_hygiene_check_fails_a_bundle_with_an_empty_array_or_mismatched_full_url(bundle):
    broken = copy.deepcopy(bundle)
    _resource(broken, "QuestionnaireResponse")["item"][0]["item"].append(
        {"linkId": "antidepressant_trials", "text": "antidepressant trials", "item": []}
    )
    broken["entry"][0]["fullUrl"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    problems = hygiene_problems(broken)
    assert any("empty array" in p for p in problems)
    assert any("does not name its resource" in p for p in problems)
    # The schema alone accepts both: that is why the hygiene check exists.
    assert schema_errors(broken) == []


def test_the_fhir_resources_check_fails_an_observation_without_status(bundle):
    broken = copy.deepcopy(bundle)
    del _resource(broken, "Observation")["status"]
    assert schema_errors(broken) == []  # the JSON schema does not require it; R4B does
    assert any("status" in error for error in model_errors(broken))
