"""POST /screenings/evaluate: the data dictionary's result for every vignette, 422 for invalid
documents, never a server error."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rules.engine import IntakeFacts
from screening.core.models import AuditEvent
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

# The API screens under the published rule set: version 2, so its vignettes are version 2's
# (version 1's are checked under version 1 by the engine tests and `check-vignettes`).
VIGNETTES = Path(settings.BASE_DIR).parent / "shared" / "clinical" / "vignettes-v2"
if not VIGNETTES.is_dir():
    VIGNETTES = Path(settings.BASE_DIR) / "rules" / "data" / "vignettes-v2"
VIGNETTE_FILES = sorted(VIGNETTES.glob("*.json"))


def test_there_are_vignettes_to_check():
    assert len(VIGNETTE_FILES) >= 18
    assert {json.loads(p.read_text())["ruleset_version"] for p in VIGNETTE_FILES} == {2}


@pytest.mark.parametrize("path", VIGNETTE_FILES, ids=lambda p: p.stem)
def test_vignette_result_matches_expected(as_clinician, path):
    vignette = json.loads(path.read_text())
    response = as_clinician.post("/screenings/evaluate", vignette["facts"])
    assert response.status_code == 200, response.content
    result = response.json()
    expected = vignette["expected"]
    assert result["disposition"] == expected["disposition"]
    assert result["urgent"] == expected["urgent"]
    assert {i["condition"]: i["status"] for i in result["indications"]} == expected["indications"]
    assert sorted(f["rule"] for f in result["flags"]) == sorted(expected["flags"])
    assert [m["fact"] for m in result["missing"]] == expected["missing"]
    assert set(result) == {"ruleset", "disposition", "urgent", "indications", "flags", "missing"}
    assert result["ruleset"] == {"name": "ketamine", "version": 2}


def test_evaluate_stores_nothing(as_clinician):
    before = AuditEvent.objects.count()
    facts = json.loads(VIGNETTE_FILES[0].read_text())["facts"]
    assert as_clinician.post("/screenings/evaluate", facts).status_code == 200
    assert AuditEvent.objects.count() == before


def test_invalid_facts_are_422_with_every_problem_by_field(as_clinician):
    response = as_clinician.post(
        "/screenings/evaluate",
        {"phq9_total": 40, "pregancy_status": "pregnant", "systolic_bp": "high"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    problems = response.json()["errors"]
    assert all(set(p) == {"field", "message"} for p in problems)
    fields = {p["field"] for p in problems}
    assert {"phq9_total", "pregancy_status", "systolic_bp"} <= fields


def test_contradictory_facts_are_422(as_clinician):
    response = as_clinician.post(
        "/screenings/evaluate", {"age_years": 40, "date_of_birth": "1980-01-01"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_of_birth"


@pytest.mark.parametrize("body", ["[1, 2]", '"text"'])
def test_a_body_that_is_not_a_facts_object_is_422(as_clinician, body):
    response = as_clinician.call("post", "/screenings/evaluate", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "(document)"


@pytest.mark.parametrize("body", ["{not json", "", b"\xff"])
def test_a_body_that_is_not_json_is_400(as_clinician, body):
    response = as_clinician.call("post", "/screenings/evaluate", body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert response.json()["errors"] == [{"field": "(body)", "message": "is not valid JSON"}]


def test_reviewers_and_rule_admins_may_evaluate(as_reviewer, as_rule_admin):
    assert as_reviewer.post("/screenings/evaluate", {}).status_code == 200
    assert as_rule_admin.post("/screenings/evaluate", {}).status_code == 200


def test_an_account_without_a_role_may_not_evaluate(as_outsider):
    assert as_outsider.post("/screenings/evaluate", {}).status_code == 403


def test_evaluate_without_a_token_is_401(anonymous):
    assert anonymous.post("/screenings/evaluate", {}).status_code == 401


# --- never a server error ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_fact_names = st.sampled_from([*IntakeFacts.model_fields, "pregancy_status"])
_documents = st.one_of(
    _json,
    st.dictionaries(_fact_names, _json, max_size=8),
    st.dictionaries(
        st.sampled_from(["cssrs", "antidepressant_trials", "diagnoses"]),
        st.one_of(
            st.dictionaries(st.text(max_size=20), _scalars, max_size=4),
            st.lists(st.dictionaries(st.text(max_size=30), _scalars, max_size=4), max_size=3),
        ),
    ),
)


def test_generated_documents_never_cause_a_server_error(clinician):
    client = client_for(clinician)

    @hypothesis_settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(document=_documents)
    def check(document):
        response = client.post("/screenings/evaluate", document)
        # 400: a generated string is sent as the raw body (an empty one is not JSON).
        assert response.status_code in (200, 400, 422), response.content
        body = response.json()
        if response.status_code in (400, 422):
            assert body["errors"]
            assert all(set(p) == {"field", "message"} for p in body["errors"])
        else:
            assert body["disposition"]

    check()


def test_diagnoses_known_in_part_are_accepted_and_what_they_leave_open_is_missing(as_clinician):
    facts = json.loads((VIGNETTES / "trd-eligible.json").read_text())["facts"]
    facts["diagnoses"] = {"includes": ["mdd"]}  # as an EHR knows them: nothing said of the rest

    response = as_clinician.post("/screenings/evaluate", facts)

    assert response.status_code == 200, response.content
    result = response.json()
    assert "diagnoses" in [m["fact"] for m in result["missing"]]
    statuses = {i["condition"]: i["status"] for i in result["indications"]}
    assert statuses["mdd"] == "indicated"
    assert statuses["bipolar_depression"] == "undetermined"
    assert result["disposition"] != "eligible"  # never as if every other condition were "no"


def test_diagnoses_known_in_part_that_contradict_themselves_are_422(as_clinician):
    response = as_clinician.post(
        "/screenings/evaluate", {"diagnoses": {"includes": ["mdd"], "excludes": ["mdd"]}}
    )

    assert response.status_code == 422
    assert "diagnoses.excludes" in response.content.decode()
