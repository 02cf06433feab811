"""`/fhir`: FHIR resources that are not one patient's, such as the intake Questionnaire a
screening's QuestionnaireResponse answers (`GET /fhir/Questionnaire/ketamine-intake`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router

from patients.models import INTAKE_FORM_VERSION
from screening.api.auth import caller
from screening.api.schemas import REFUSALS
from screening.fhir.hygiene import fhir_hygiene
from screening.fhir.questionnaire import QUESTIONNAIRE_ID, intake_questionnaire

router = Router(tags=["fhir"])


@router.get(
    f"/Questionnaire/{QUESTIONNAIRE_ID}",
    response={200: dict[str, Any], **REFUSALS},
    summary="The intake form as a FHIR R4 Questionnaire (the version screenings reference)",
    description=(
        "Generated from the intake form's own questions. `version` (default: the current form) "
        "is the form's version; a screening's QuestionnaireResponse names the version its "
        "intake was saved with in `questionnaire` (`url|version`). An unanswered question "
        "means *not recorded*, never 'no'."
    ),
)
def questionnaire_read(request: HttpRequest, version: int = INTAKE_FORM_VERSION) -> dict[str, Any]:
    caller(request, "patients.view_intake")
    try:
        questionnaire = intake_questionnaire(version)
    except LookupError:
        raise Http404("No such version of the intake Questionnaire.") from None
    return fhir_hygiene(questionnaire)
