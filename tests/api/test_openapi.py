"""The OpenAPI document and the docs page (served from local static files, no CDN)."""

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/screenings/evaluate",
    "/api/v1/screenings",
    "/api/v1/screenings/{screening_uuid}",
    "/api/v1/screenings/{screening_uuid}/flags/{rule_id}/acknowledge",
    "/api/v1/screenings/{screening_uuid}/flags/{rule_id}/override",
    "/api/v1/screenings/{screening_uuid}/sign",
    "/api/v1/screenings/{screening_uuid}/fhir",
    "/api/v1/fhir/Questionnaire/ketamine-intake",
    "/api/v1/patients",
    "/api/v1/patients/search",
    "/api/v1/patients/{patient_uuid}",
    "/api/v1/patients/{patient_uuid}/intakes",
    "/api/v1/intakes/{intake_uuid}",
    "/api/v1/intakes/{intake_uuid}/screenings",
}


def test_openapi_document_is_valid_and_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert set(document["paths"]) >= PATHS
    assert document["info"]["version"] == "1"
    evaluate = document["paths"]["/api/v1/screenings/evaluate"]["post"]
    assert evaluate["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IntakeFacts"
    }
    assert "phq9_total" in document["components"]["schemas"]["IntakeFacts"]["properties"]


VERSION_2_FACTS = (
    "bp_rise_serious_hazard",
    "respiratory_compromise",
    "other_cns_depressant_use",
    "bladder_symptoms_or_cystitis",
    "planned_formulation",
)


def test_the_intake_answers_schema_lists_every_answer_with_the_version_2_questions(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    answers = schemas["IntakeAnswers"]["properties"]
    for name in VERSION_2_FACTS:
        assert name in schemas["IntakeFacts"]["properties"]
        assert answers[name]["description"], name
    formulation = answers["planned_formulation"]["anyOf"][0]
    assert formulation["enum"] == [
        "esketamine_nasal",
        "racemic_iv",
        "racemic_im",
        "racemic_oral",
        "undecided",
    ]
    assert not {"age_years", "date_of_birth", "screening_date", "sex_at_birth"} & set(answers)
    for body in ("IntakeOut", "IntakeUpdate"):
        field = schemas[body]["properties"]["answers"]
        assert field["allOf"] == [{"$ref": "#/components/schemas/IntakeAnswers"}], body
        assert field["description"], body


def test_docs_page_loads_its_scripts_and_styles_locally(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "/static/ninja/swagger-ui.css" in page
    assert "cdn" not in page.lower()
    assert "https://" not in page


# --- issue 16, finding 9: the schema says what the server does -----------------------------------


def test_the_schema_documents_what_the_server_requires(client):
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    update = schemas["IntakeUpdate"]
    assert "version" in update["required"]
    assert update["properties"]["version"]["type"] == "integer"
    assert "If-Match" in update["properties"]["version"]["description"]
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/screenings"]["get"]["parameters"]
    }
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    cursor = parameters["cursor"]["anyOf"][0]
    assert cursor["pattern"]
    assert cursor["maxLength"]
    for name in ("PatientIn", "PatientSearch", "IntakeUpdate", "AcknowledgeIn", "SignIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["Detail"]["required"] == ["code", "detail", "errors"]


@pytest.mark.parametrize("version", ["1", 1.0, True])
def test_an_integer_is_an_integer(as_clinician, intake, version):
    response = as_clinician.put(f"/intakes/{intake.uuid}", {"version": version, "answers": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "version"


def test_a_property_the_schema_does_not_name_is_refused(as_clinician, intake):
    response = as_clinician.put(
        f"/intakes/{intake.uuid}", {"version": 1, "answers": {}, "verison": 2}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "verison"
