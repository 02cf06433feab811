"""Issue 16 at the API: bounded input cost (finding 1), every error JSON in one shape with the
right status, never HTML, never 500 (finding 2), one validation for every door (finding 4), ISO
dates only (finding 5) and opaque cursors (finding 10)."""

import base64
import json
import re

import pytest
from django.db import IntegrityError, transaction

from patients.models import Intake, Patient
from tests.factories import make_patient

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "mrn": "VIC-0001",
    "family_name": "Nguyen",
    "given_names": "Vic",
    "date_of_birth": "1984-03-01",
    "sex_at_birth": "female",
}


def assert_error_shape(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "detail", "errors"}
    assert body["code"] == code
    assert body["detail"]
    assert all(set(problem) == {"field", "message"} for problem in body["errors"])
    return body


# --- finding 1: bounded cost ---------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_json_before_anything_reads_it(as_clinician):
    document = json.dumps({f"unknown_fact_{i:05d}": True for i in range(50_000)})
    assert len(document) > 1_000_000
    response = as_clinician.call("post", "/screenings/evaluate", document)
    body = assert_error_shape(response, 413, "too_large")
    assert "256 KB" in body["detail"]


def test_a_document_with_many_unknown_keys_under_the_limit_is_one_problem(as_clinician):
    response = as_clinician.post("/screenings/evaluate", {f"k{i}": 1 for i in range(5_000)})
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"] == [
        {"field": "(document)", "message": "has 5,000 keys; a facts document has at most 100"}
    ]


def test_intake_answers_with_many_unknown_keys_are_bounded_too(as_clinician, intake):
    answers = {f"k{i}": 1 for i in range(90)}
    response = as_clinician.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": answers})
    body = assert_error_shape(response, 422, "invalid")
    assert len(body["errors"]) == 51
    assert body["errors"][-1] == {"field": "(document)", "message": "and 40 more problems"}


def test_a_form_post_over_the_limit_is_a_413_page_not_a_traceback(client, clinician):
    client.force_login(clinician)
    response = client.post("/patients/new/", {"family_name": "x" * (300 * 1024)})
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too much was sent" in page
    assert "Traceback" not in page


# --- finding 2: every error is JSON in one shape ---------------------------------------------------


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_json_nested_too_deeply_is_400(as_clinician, depth):
    body = '{"cssrs": ' + "[" * depth + "]" * depth + "}"
    for path in ("/screenings/evaluate", "/patients"):
        response = as_clinician.call("post", path, body)
        assert_error_shape(response, 400, "malformed")


def test_a_body_not_sent_as_json_is_415(as_clinician):
    response = as_clinician.client.post(
        "/api/v1/patients",
        data=json.dumps(NEW_PATIENT),
        content_type="text/plain",
        headers=as_clinician.headers,
    )
    assert_error_shape(response, 415, "unsupported_media_type")
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/patients/not-a-uuid",
        "/intakes/123",
        "/screenings/zzzz/fhir",
        "/screenings/00000000-0000-0000-0000-00000000000g",
        "/no-such-thing",
    ],
)
def test_a_path_that_matches_nothing_is_a_json_404(as_clinician, path):
    assert_error_shape(as_clinician.get(path), 404, "not_found")


def test_an_unknown_method_is_a_json_405(as_clinician, patient):
    response = as_clinician.call("delete", f"/patients/{patient.uuid}")
    assert_error_shape(response, 405, "not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("field", ["mrn", "family_name", "given_names"])
def test_nul_in_a_patient_is_a_field_error(as_clinician, field):
    response = as_clinician.post("/patients", {**NEW_PATIENT, field: "VIC\x000001"})
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"] == [{"field": field, "message": "must not contain NUL characters"}]
    assert not Patient.objects.exists()


def test_nul_in_a_search_is_a_field_error(as_clinician):
    response = as_clinician.post("/patients/search", {"mrn": "\x00"})
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"][0]["field"] == "mrn"


def test_nul_in_a_trials_drug_is_a_field_error(as_clinician, intake):
    trial = {"drug": "sertraline\x00", "weeks_at_adequate_dose": 8, "outcome": "no_response"}
    response = as_clinician.put(
        f"/intakes/{intake.uuid}",
        {"version": 1, "answers": {"antidepressant_trials": [trial]}},
    )
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"][0]["field"] == "answers.antidepressant_trials[0].drug"
    assert Intake.objects.get(pk=intake.pk).version == 1


def test_nul_in_a_review_reason_and_in_the_query_and_path_is_a_field_error(as_clinician):
    uuid = "00000000-0000-0000-0000-000000000000"
    response = as_clinician.post(
        f"/screenings/{uuid}/flags/URG-SUICIDE-RISK/acknowledge", {"reason": "ok\x00"}
    )
    assert assert_error_shape(response, 422, "invalid")["errors"][0]["field"] == "reason"
    response = as_clinician.get("/screenings?cursor=%00")
    assert assert_error_shape(response, 422, "invalid")["errors"][0]["field"] == "cursor"
    response = as_clinician.post(f"/screenings/{uuid}/flags/URG%00/acknowledge", {"reason": "x"})
    assert assert_error_shape(response, 422, "invalid")["errors"][0]["field"] == "rule_id"


# --- finding 4: one validation for every door -----------------------------------------------------


def test_an_mrn_differing_only_in_case_is_refused_by_the_api(as_clinician):
    assert as_clinician.post("/patients", NEW_PATIENT).status_code == 201
    response = as_clinician.post("/patients", {**NEW_PATIENT, "mrn": "vic-0001"})
    body = assert_error_shape(response, 409, "conflict")
    assert "already registered" in body["detail"]
    assert Patient.objects.count() == 1


def test_the_database_refuses_an_mrn_differing_only_in_case(clinician):
    make_patient(created_by=clinician, mrn="VIC-0002")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patient(created_by=clinician, mrn="vic-0002")


@pytest.mark.parametrize("born", ["0001-01-01", "9999-12-31", "1899-01-01"])
def test_a_date_of_birth_the_form_refuses_is_refused_by_the_api(as_clinician, born):
    response = as_clinician.post("/patients", {**NEW_PATIENT, "date_of_birth": born})
    body = assert_error_shape(response, 422, "invalid")
    assert [problem["field"] for problem in body["errors"]] == ["date_of_birth"]
    assert not Patient.objects.exists()


# --- finding 5: dates are ISO dates ---------------------------------------------------------------


@pytest.mark.parametrize("born", [631152000, "1990-01-01T00:00:00+05:00", "1990-01-01T00:00:00"])
def test_a_date_of_birth_that_is_not_an_iso_date_is_refused(as_clinician, born):
    response = as_clinician.post("/patients", {**NEW_PATIENT, "date_of_birth": born})
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"][0]["field"] == "date_of_birth"
    response = as_clinician.post(
        "/screenings/evaluate", {"date_of_birth": born, "screening_date": "2026-01-01"}
    )
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"][0]["field"] == "date_of_birth"


@pytest.mark.parametrize("query", ["run_to=0", "run_from=631152000", "run_to=2026-01-01T00:00"])
def test_list_dates_are_iso_dates(as_reviewer, query):
    response = as_reviewer.get(f"/screenings?{query}")
    body = assert_error_shape(response, 422, "invalid")
    assert body["errors"][0]["field"] == query.split("=")[0]


# --- finding 10: cursors are opaque ---------------------------------------------------------------


def test_a_cursor_does_not_decode_to_internal_ids_and_cannot_be_forged(
    as_reviewer, as_clinician, intake
):
    for _ in range(2):
        assert as_clinician.post(f"/intakes/{intake.uuid}/screenings").status_code == 201
    first = as_reviewer.get("/screenings?limit=1").json()
    cursor = first["next_cursor"]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    # Before: base64 of "<run_at>|<primary key>"; now nothing of either is readable.
    assert re.fullmatch(rb"[0-9T:.+-]+\|\d+", decoded) is None
    assert first["items"][0]["run_at"][:10].encode() not in decoded
    second = as_reviewer.get(f"/screenings?limit=1&cursor={cursor}").json()
    assert second["items"][0]["uuid"] != first["items"][0]["uuid"]
    # An old-style cursor (base64 of "timestamp|id") is refused.
    forged = base64.urlsafe_b64encode(b"2999-01-01T00:00:00+00:00|999999").decode().rstrip("=")
    response = as_reviewer.get(f"/screenings?cursor={forged}")
    assert assert_error_shape(response, 422, "invalid")["errors"][0]["field"] == "cursor"
