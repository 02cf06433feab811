"""Screenings through the API: run, read, list, review flags, sign, export as FHIR R4."""

from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from screening.core.errors import InputInvalid
from screening.core.models import AuditEvent
from screening.models import Screening
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db


def run(client, intake) -> dict:
    response = client.post(f"/intakes/{intake.uuid}/screenings")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def flagged_intake(patient, clinician):
    """Pregnant (stop), suicidal intent (urgent) and PHQ-9 item 9 (review)."""
    return make_intake(
        patient=patient,
        by=clinician,
        pregnancy_status="pregnant",
        phq9_item9=2,
        gad7_total=12,
        cssrs_active_thoughts=True,
        cssrs_method=True,
        cssrs_intent=True,
        cssrs_plan=False,
    )


def test_clinician_runs_a_screening(as_clinician, intake, clinician):
    body = run(as_clinician, intake)
    assert body["disposition"] == "eligible"
    assert body["status"] == "unsigned"
    assert body["result"]["disposition"] == "eligible"
    assert body["intake"] == str(intake.uuid)
    assert body["run_by"] == clinician.username
    assert AuditEvent.objects.filter(action="screening.run", object_id=body["uuid"]).exists()


def test_reviewer_cannot_run_a_screening(as_reviewer, intake):
    assert as_reviewer.post(f"/intakes/{intake.uuid}/screenings").status_code == 403
    assert not Screening.objects.exists()


def test_an_intake_that_cannot_be_evaluated_is_422(as_clinician, patient, clinician):
    bad = make_intake(patient=patient, by=clinician, systolic_bp=80, diastolic_bp=120)
    response = as_clinician.post(f"/intakes/{bad.uuid}/screenings")
    assert response.status_code == 422
    assert all(set(p) == {"field", "message"} for p in response.json()["errors"])
    assert not Screening.objects.exists()


def test_reading_a_screening_is_audited(as_reviewer, as_clinician, intake, reviewer):
    uuid = run(as_clinician, intake)["uuid"]
    response = as_reviewer.get(f"/screenings/{uuid}")
    assert response.status_code == 200
    assert response.json()["facts"]["phq9_total"] == 19
    assert AuditEvent.objects.filter(
        action="screening.view", actor=reviewer, object_id=uuid, detail__page="api"
    ).exists()


def test_rule_admin_cannot_read_screenings(as_rule_admin, as_clinician, intake):
    uuid = run(as_clinician, intake)["uuid"]
    assert as_rule_admin.get(f"/screenings/{uuid}").status_code == 403
    assert as_rule_admin.get("/screenings").status_code == 403
    assert as_rule_admin.get(f"/screenings/{uuid}/fhir").status_code == 403


def test_flags_are_handled_then_the_screening_is_signed(as_clinician, flagged_intake):
    body = run(as_clinician, flagged_intake)
    uuid = body["uuid"]
    assert body["disposition"] == "contraindicated"
    assert set(body["pending_flags"]) >= {"STOP-PREGNANCY", "URG-SUICIDE-RISK"}
    early = as_clinician.post(f"/screenings/{uuid}/sign")
    assert early.status_code == 409
    assert early.json()["code"] == "refused"
    assert "still open" in early.json()["detail"]
    for flag in body["result"]["flags"]:
        if flag["severity"] == "stop":
            response = as_clinician.post(
                f"/screenings/{uuid}/flags/{flag['rule']}/override",
                {"reason_code": "specialist_approval", "reason": "MDT approved"},
            )
        elif flag["severity"] in ("urgent", "review"):
            response = as_clinician.post(
                f"/screenings/{uuid}/flags/{flag['rule']}/acknowledge", {"reason": "Seen"}
            )
        else:
            continue
        assert response.status_code == 200, response.content
    signed = as_clinician.post(f"/screenings/{uuid}/sign")
    assert signed.status_code == 200
    assert signed.json()["status"] == "signed"
    assert signed.json()["pending_flags"] == []
    assert AuditEvent.objects.filter(action="screening.sign", object_id=uuid).exists()
    assert AuditEvent.objects.filter(action="flag.overridden", object_id=uuid).exists()
    assert AuditEvent.objects.filter(action="flag.acknowledged", object_id=uuid).exists()
    again = as_clinician.post(f"/screenings/{uuid}/sign")
    assert again.status_code == 409
    assert again.json() == {
        "code": "locked",
        "detail": "This screening is signed and locked.",
        "errors": [],
    }


def test_a_review_saved_meanwhile_is_not_silently_replaced(as_clinician, flagged_intake):
    uuid = run(as_clinician, flagged_intake)["uuid"]
    url = f"/screenings/{uuid}/flags/URG-SUICIDE-RISK/acknowledge"
    first = as_clinician.post(url, {"reason": "Crisis plan agreed", "seen": "none"})
    assert first.status_code == 200
    [review] = first.json()["reviews"]

    stale = as_clinician.post(url, {"reason": "Seen", "seen": "none"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert "after you opened this page" in stale.json()["detail"]

    revised = as_clinician.post(url, {"reason": "Revised plan", "seen": review["seen"]})
    assert revised.status_code == 200
    assert revised.json()["reviews"][0]["reason"] == "Revised plan"


def test_a_stop_flag_cannot_be_merely_acknowledged(as_clinician, flagged_intake):
    uuid = run(as_clinician, flagged_intake)["uuid"]
    response = as_clinician.post(
        f"/screenings/{uuid}/flags/STOP-PREGNANCY/acknowledge", {"reason": "fine"}
    )
    assert response.status_code == 409


def test_an_override_needs_a_coded_reason_and_text(as_clinician, flagged_intake):
    uuid = run(as_clinician, flagged_intake)["uuid"]
    response = as_clinician.post(
        f"/screenings/{uuid}/flags/STOP-PREGNANCY/override",
        {"reason_code": "because", "reason": " "},
    )
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["errors"]} == {"reason_code", "reason"}


def test_reviewer_token_cannot_sign_or_review_flags(
    as_reviewer, as_clinician, intake, flagged_intake
):
    uuid = run(as_clinician, intake)["uuid"]
    assert as_reviewer.post(f"/screenings/{uuid}/sign").status_code == 403
    flagged = run(as_clinician, flagged_intake)["uuid"]
    response = as_reviewer.post(
        f"/screenings/{flagged}/flags/URG-SUICIDE-RISK/acknowledge", {"reason": "x"}
    )
    assert response.status_code == 403
    assert Screening.objects.get(uuid=uuid).status == "unsigned"


def test_list_pages_with_a_cursor_and_filters(as_reviewer, clinician, reviewer):
    from screening import services

    screenings = []
    for _ in range(5):
        intake = make_intake(patient=make_patient(created_by=clinician), by=clinician)
        screenings.append(services.screening_run(intake=intake, user=clinician))
    flagged = make_intake(
        patient=make_patient(created_by=clinician), by=clinician, pregnancy_status="pregnant"
    )
    stop = services.screening_run(intake=flagged, user=clinician)
    seen, cursor = [], None
    while True:
        query = "/screenings?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = as_reviewer.get(query).json()
        seen += [item["uuid"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6
    assert len(set(seen)) == 6
    assert seen[0] == str(stop.uuid)  # newest first
    contraindicated = as_reviewer.get("/screenings?disposition=contraindicated").json()
    assert [item["uuid"] for item in contraindicated["items"]] == [str(stop.uuid)]
    assert as_reviewer.get("/screenings?signed=true").json()["items"] == []
    assert len(as_reviewer.get("/screenings?signed=false").json()["items"]) == 6
    today = timezone.localdate()
    assert len(as_reviewer.get(f"/screenings?run_from={today}").json()["items"]) == 6
    yesterday = today - timedelta(days=1)
    assert as_reviewer.get(f"/screenings?run_to={yesterday}").json()["items"] == []
    assert AuditEvent.objects.filter(action="screening.list", actor=reviewer).exists()


@pytest.mark.parametrize(
    "query",
    ["cursor=garbage", "disposition=maybe", "limit=0", "run_from=yesterday", "signed=perhaps"],
)
def test_bad_list_parameters_are_422(as_reviewer, query):
    response = as_reviewer.get(f"/screenings?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


# --- FHIR ----------------------------------------------------------------------------------------


def test_fhir_export_is_a_valid_r4_bundle(as_clinician, flagged_intake, patient):
    body = run(as_clinician, flagged_intake)
    response = as_clinician.get(f"/screenings/{body['uuid']}/fhir")
    assert response.status_code == 200
    document = response.json()
    bundle = Bundle.model_validate(document)
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry]
    by_type = {}
    for resource in resources:
        by_type.setdefault(resource.get_resource_type(), []).append(resource)
    (fhir_patient,) = by_type["Patient"]
    assert fhir_patient.identifier[0].value == patient.mrn
    (response_resource,) = by_type["QuestionnaireResponse"]
    assert (
        response_resource.questionnaire == "urn:ketamine-screening:questionnaire:ketamine-intake|2"
    )
    sections = {item.linkId: item for item in response_resource.item}
    link_ids = {item.linkId for section in sections.values() for item in section.item}
    assert {"phq9_total", "pregnancy_status", "cssrs_intent", "antidepressant_trials"} <= link_ids
    observations = {
        (o.code.coding[0].code if o.code.coding else o.code.text): o for o in by_type["Observation"]
    }
    # LOINC's own display names; scores as survey observations, vitals as vital signs.
    phq9 = observations["44261-6"]
    assert phq9.valueInteger == 19
    assert phq9.code.coding[0].display == (
        "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"
    )
    assert observations["44260-8"].valueInteger == 2
    assert observations["70274-6"].valueInteger == 12
    for code in ("44261-6", "44260-8", "70274-6"):
        assert observations[code].category[0].coding[0].code == "survey"
        assert observations[code].derivedFrom[0].reference == f"urn:uuid:{flagged_intake.uuid}"
    panel = observations["85354-9"]
    assert panel.category[0].coding[0].code == "vital-signs"
    assert {c.code.coding[0].code: c.valueQuantity.value for c in panel.component} == {
        "8480-6": 124,
        "8462-4": 78,
    }
    assert panel.component[0].valueQuantity.code == "mm[Hg]"
    assert observations["8867-4"].valueQuantity.value == 72
    issues = {issue.code.coding[0].code: issue for issue in by_type["DetectedIssue"]}
    flags = {f["rule"]: f for f in body["result"]["flags"] if f["severity"] != "info"}
    assert set(issues) == set(flags)
    assert issues["STOP-PREGNANCY"].severity == "high"
    assert issues["URG-SUICIDE-RISK"].severity == "moderate"
    assert issues["STOP-PREGNANCY"].detail == flags["STOP-PREGNANCY"]["message"]
    assert [e.code[0].text for e in issues["STOP-PREGNANCY"].evidence] == flags["STOP-PREGNANCY"][
        "because"
    ]
    # The rule's published source, as a uri (percent-encoded: a uri holds no spaces).
    source = flags["STOP-PREGNANCY"]["source"]
    assert (
        unquote(issues["STOP-PREGNANCY"].reference)
        == f"urn:ketamine-screening:rule-source:{source}"
    )
    assert all(resource.text.status == "generated" for resource in resources)
    assert AuditEvent.objects.filter(
        action="screening.view", object_id=body["uuid"], detail__page="fhir"
    ).exists()


def test_fhir_export_of_an_eligible_screening_has_no_detected_issues(as_clinician, intake):
    uuid = run(as_clinician, intake)["uuid"]
    bundle = Bundle.model_validate(as_clinician.get(f"/screenings/{uuid}/fhir").json())
    types = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert "DetectedIssue" not in types
    # PHQ-9 total and item 9, the blood pressure panel and heart rate: no other scale recorded.
    assert types.count("Observation") == 4


def test_signing_an_incomplete_result_needs_reasons_given_in_the_body(
    as_clinician, patient, clinician
):
    uuid = run(as_clinician, make_intake(patient=patient, by=clinician, pregnancy_status=""))[
        "uuid"
    ]
    refused = as_clinician.post(f"/screenings/{uuid}/sign")
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["errors"]] == ["incomplete_reasons"]
    assert "pregnancy_status" in refused.json()["errors"][0]["message"]

    signed = as_clinician.post(
        f"/screenings/{uuid}/sign",
        {"incomplete_reasons": {"pregnancy_status": "Declined the test"}},
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["incomplete_reasons"] == {"pregnancy_status": "Declined the test"}


def test_a_blank_reason_from_another_client_is_422_naming_the_field(
    as_clinician, flagged_intake, clinician
):
    from screening.services import flag_review

    uuid = run(as_clinician, flagged_intake)["uuid"]
    with pytest.raises(InputInvalid) as refused:
        flag_review(
            screening=Screening.objects.get(uuid=uuid),
            rule_id="URG-SUICIDE-RISK",
            user=clinician,
            kind="acknowledged",
            reason="  ",
        )
    assert refused.value.code == "invalid"
    assert list(refused.value.errors) == ["reason"]


def test_fhir_questionnaire_response_carries_the_version_2_answers(
    as_clinician, patient, clinician
):
    intake = make_intake(
        patient=patient,
        by=clinician,
        bladder_symptoms_or_cystitis=True,
        planned_formulation="esketamine_nasal",
    )
    uuid = run(as_clinician, intake)["uuid"]

    bundle = Bundle.model_validate(as_clinician.get(f"/screenings/{uuid}/fhir").json())

    [response] = [
        e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "QuestionnaireResponse"
    ]
    items = {item.linkId: item for section in response.item for item in section.item}
    bladder = items["bladder_symptoms_or_cystitis"]
    assert bladder.text == "Bladder symptoms or cystitis"
    assert bladder.answer[0].valueBoolean is True
    assert items["bp_rise_serious_hazard"].answer[0].valueBoolean is False
    coding = items["planned_formulation"].answer[0].valueCoding
    assert (coding.system, coding.code, coding.display) == (
        "urn:ketamine-screening:fact:planned_formulation",
        "esketamine_nasal",
        "Esketamine nasal spray",
    )
    issues = {
        e.resource.code.coding[0].code
        for e in bundle.entry
        if e.resource.get_resource_type() == "DetectedIssue"
    }
    assert issues == {"REV-BLADDER"}  # INFO-REMS is information, not an issue


def test_fhir_export_codes_the_pcl5_in_loinc_and_the_scores_without_a_code_by_text(
    as_clinician, patient, clinician
):
    intake = make_intake(patient=patient, by=clinician, pcl5_total=41, ybocs_total=22, pain_nrs=6)
    body = run(as_clinician, intake)

    bundle = Bundle.model_validate(as_clinician.get(f"/screenings/{body['uuid']}/fhir").json())

    scores = [
        entry.resource
        for entry in bundle.entry
        if entry.resource.get_resource_type() == "Observation"
        and entry.resource.category[0].coding[0].code == "survey"
    ]
    coded = {o.code.coding[0].code: o for o in scores if o.code.coding}
    assert coded["101698-9"].valueInteger == 41
    assert coded["101698-9"].code.coding[0].display == "PTSD PCL-5 score [PCL-5]"
    by_text = {o.code.text: o.valueInteger for o in scores if not o.code.coding}
    assert by_text == {
        "Yale-Brown Obsessive Compulsive Scale (Y-BOCS) total score": 22,
        "Average pain, numeric rating scale (0-10)": 6,
    }
