"""Patients and intakes through the API: the same roles, services and audit events as the pages."""

import pytest

from patients.models import Intake, Patient
from screening.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "mrn": "MRN-77",
    "family_name": "Okafor",
    "given_names": "Ada Grace",
    "date_of_birth": "1980-05-02",
    "sex_at_birth": "female",
}


def test_clinician_registers_a_patient(as_clinician, clinician):
    response = as_clinician.post("/patients", NEW_PATIENT)
    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get(uuid=body["uuid"])
    assert patient.mrn == "MRN-77"
    assert patient.created_by == clinician
    assert body["date_of_birth"] == "1980-05-02"
    assert AuditEvent.objects.filter(action="patient.register", object_id=body["uuid"]).exists()


def test_a_duplicate_mrn_is_409(as_clinician):
    as_clinician.post("/patients", NEW_PATIENT)
    response = as_clinician.post("/patients", NEW_PATIENT)
    assert response.status_code == 409
    assert "already registered" in response.json()["detail"]


def test_an_invalid_patient_is_422_by_field(as_clinician):
    response = as_clinician.post(
        "/patients", {**NEW_PATIENT, "sex_at_birth": "x", "date_of_birth": "soon", "mrn": "  "}
    )
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["errors"]}
    assert fields == {"sex_at_birth", "date_of_birth", "mrn"}
    assert Patient.objects.count() == 0


def test_malformed_json_is_400_not_500(as_clinician):
    response = as_clinician.call("post", "/patients", "{oops")
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed",
        "detail": "The request body is not valid JSON.",
        "errors": [{"field": "(body)", "message": "is not valid JSON"}],
    }


def test_reviewer_cannot_register_a_patient(as_reviewer):
    assert as_reviewer.post("/patients", NEW_PATIENT).status_code == 403


def test_clinician_and_reviewer_read_a_patient_and_the_read_is_audited(
    as_clinician, as_reviewer, patient, reviewer
):
    for client in (as_clinician, as_reviewer):
        response = client.get(f"/patients/{patient.uuid}")
        assert response.status_code == 200
        assert response.json()["mrn"] == patient.mrn
    assert AuditEvent.objects.filter(
        action="patient.view", actor=reviewer, object_id=str(patient.uuid)
    ).exists()


def test_rule_admin_cannot_read_patients(as_rule_admin, patient):
    assert as_rule_admin.get(f"/patients/{patient.uuid}").status_code == 403
    assert as_rule_admin.post("/patients/search", {"mrn": patient.mrn}).status_code == 403


def test_outsider_cannot_read_patients(as_outsider, patient):
    assert as_outsider.get(f"/patients/{patient.uuid}").status_code == 403


def test_an_unknown_patient_is_404(as_clinician):
    response = as_clinician.get("/patients/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


def test_search_by_mrn_finds_exactly_that_patient(as_clinician, patient, clinician):
    from tests.factories import make_patient

    make_patient(created_by=clinician)
    found = as_clinician.post("/patients/search", {"mrn": patient.mrn}).json()
    assert [p["uuid"] for p in found] == [str(patient.uuid)]
    found = as_clinician.post("/patients/search", {"mrn": patient.mrn.lower()}).json()
    assert [p["uuid"] for p in found] == [str(patient.uuid)]
    assert as_clinician.post("/patients/search", {"mrn": "NOPE"}).json() == []


def test_search_requires_an_mrn(as_clinician):
    response = as_clinician.post("/patients/search", {})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "mrn", "message": "Field required"}]


def test_search_by_mrn_in_the_url_is_refused_so_no_mrn_reaches_the_access_log(
    as_clinician, patient
):
    """Finding 3: `GET /patients?mrn=` put the MRN in the access log; the search is a POST."""
    response = as_clinician.get(f"/patients?mrn={patient.mrn}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["code"] == "not_allowed"
    assert patient.mrn not in response.content.decode()


# --- intakes -------------------------------------------------------------------------------------


def test_clinician_starts_an_intake(as_clinician, patient):
    response = as_clinician.post(f"/patients/{patient.uuid}/intakes")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["answers"] == {}
    assert AuditEvent.objects.filter(action="intake.create", object_id=body["uuid"]).exists()


def test_reviewer_cannot_start_an_intake(as_reviewer, patient):
    assert as_reviewer.post(f"/patients/{patient.uuid}/intakes").status_code == 403


def test_intake_reads_as_a_facts_document_with_an_etag(as_reviewer, intake, reviewer):
    response = as_reviewer.get(f"/intakes/{intake.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == f'"{intake.version}"'
    assert body["answers"]["phq9_total"] == 19
    assert body["answers"]["diagnoses"] == ["mdd"]
    assert len(body["answers"]["antidepressant_trials"]) == 2
    assert "date_of_birth" not in body["answers"]
    assert AuditEvent.objects.filter(
        action="intake.view", actor=reviewer, object_id=str(intake.uuid)
    ).exists()


def test_rule_admin_cannot_read_an_intake(as_rule_admin, intake):
    assert as_rule_admin.get(f"/intakes/{intake.uuid}").status_code == 403


def test_clinician_saves_answers_with_the_version_read(as_clinician, intake):
    answers = as_clinician.get(f"/intakes/{intake.uuid}").json()["answers"]
    answers["phq9_total"] = 22
    answers["cssrs"] = {"wish_dead": True, "active_thoughts": False}
    answers.pop("heart_rate")
    response = as_clinician.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": answers})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert response["ETag"] == '"2"'
    intake.refresh_from_db()
    assert intake.phq9_total == 22
    assert intake.cssrs_wish_dead is True
    assert intake.cssrs_behavior_lifetime is None
    assert intake.trials.count() == 2
    assert body["answers"] == answers
    assert AuditEvent.objects.filter(action="intake.save", object_id=str(intake.uuid)).exists()


def test_a_save_replaces_all_answers(as_clinician, intake):
    response = as_clinician.put(
        f"/intakes/{intake.uuid}", {"version": 1, "answers": {"antidepressant_trials": []}}
    )
    assert response.status_code == 200
    intake.refresh_from_db()
    assert intake.phq9_total is None
    assert intake.pregnancy_status == ""
    assert intake.antidepressant_trials_recorded == "none"
    assert intake.trials.count() == 0
    assert response.json()["answers"] == {"antidepressant_trials": []}


def test_if_match_header_gives_the_version(as_clinician, intake):
    ok = as_clinician.put(f"/intakes/{intake.uuid}", {"answers": {}}, **{"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = as_clinician.put(f"/intakes/{intake.uuid}", {"answers": {}}, **{"If-Match": '"1"'})
    assert stale.status_code == 409


def test_a_stale_version_is_409_and_changes_nothing(as_clinician, intake):
    as_clinician.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": {"phq9_total": 3}})
    response = as_clinician.put(
        f"/intakes/{intake.uuid}", {"version": 1, "answers": {"phq9_total": 9}}
    )
    assert response.status_code == 409
    assert "Another clinician saved" in response.json()["detail"]
    intake.refresh_from_db()
    assert intake.phq9_total == 3
    assert intake.version == 2


def test_a_save_without_a_version_is_422(as_clinician, intake):
    response = as_clinician.put(f"/intakes/{intake.uuid}", {"answers": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "version"


def test_invalid_answers_are_422_by_field_and_change_nothing(as_clinician, intake):
    response = as_clinician.put(
        f"/intakes/{intake.uuid}",
        {
            "version": 1,
            "answers": {"phq9_total": 99, "age_years": 30, "pregancy_status": "pregnant"},
        },
    )
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["errors"]} == {"age_years"}
    response = as_clinician.put(
        f"/intakes/{intake.uuid}",
        {"version": 1, "answers": {"phq9_total": 99, "pregancy_status": "pregnant"}},
    )
    assert {p["field"] for p in response.json()["errors"]} == {"phq9_total", "pregancy_status"}
    intake.refresh_from_db()
    assert intake.version == 1
    assert intake.phq9_total == 19


def test_an_intake_refuses_diagnoses_known_in_part(as_clinician, intake):
    response = as_clinician.put(
        f"/intakes/{intake.uuid}",
        {"version": 1, "answers": {"diagnoses": {"includes": ["mdd"]}}},
    )

    assert response.status_code == 422
    assert "diagnoses" in response.content.decode()
    intake.refresh_from_db()
    assert intake.version == 1


def test_reviewer_cannot_save_an_intake(as_reviewer, intake):
    response = as_reviewer.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": {}})
    assert response.status_code == 403
    intake.refresh_from_db()
    assert intake.version == 1


def test_a_locked_intake_is_409(as_clinician, intake):
    Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.LOCKED)
    response = as_clinician.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": {}})
    assert response.status_code == 409
    assert "signed" in response.json()["detail"]


# --- the version-2 questions ---------------------------------------------------------------------


def test_the_version_2_answers_are_read_and_saved_like_every_other(as_clinician, intake):
    answers = as_clinician.get(f"/intakes/{intake.uuid}").json()["answers"]
    assert answers["planned_formulation"] == "racemic_iv"
    assert answers["bp_rise_serious_hazard"] is False
    answers["planned_formulation"] = "esketamine_nasal"
    answers["bladder_symptoms_or_cystitis"] = True
    answers.pop("respiratory_compromise")

    response = as_clinician.put(f"/intakes/{intake.uuid}", {"version": 1, "answers": answers})

    assert response.status_code == 200, response.content
    assert response.json()["answers"] == answers
    intake.refresh_from_db()
    assert intake.planned_formulation == "esketamine_nasal"
    assert intake.bladder_symptoms_or_cystitis is True
    assert intake.respiratory_compromise is None


def test_an_unknown_formulation_is_422_naming_the_field(as_clinician, intake):
    response = as_clinician.put(
        f"/intakes/{intake.uuid}",
        {"version": 1, "answers": {"planned_formulation": "ketamine_lozenge"}},
    )
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["field"] == "planned_formulation"
    assert "esketamine_nasal" in problem["message"]
    intake.refresh_from_db()
    assert intake.planned_formulation == "racemic_iv"
