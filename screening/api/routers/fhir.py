"""`/fhir`: FHIR resources that are not one patient's, such as the intake Questionnaire a
screening's QuestionnaireResponse answers (`GET /fhir/Questionnaire/ketamine-intake`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router

from screening.api.auth import caller
from screening.api.schemas import REFUSALS
from screening.fhir.hygiene import fhir_hygiene
from screening.fhir.questionnaire import FORM_VERSION, QUESTIONNAIRE_ID, intake_questionnaire

router = Router(tags=["fhir"])


@router.get(
    f"/Questionnaire/{QUESTIONNAIRE_ID}",
    response={200: dict[str, Any], **REFUSALS},
    summary="The intake form as a FHIR R4 Questionnaire (the version screenings reference)",
    description=(
        "Generated from the intake form's own questions. `version` is the form's version; a "
        "screening's QuestionnaireResponse names it in `questionnaire` (`url|version`). "
        "An unanswered question means *not recorded*, never 'no'."
    ),
)
def questionnaire_read(request: HttpRequest, version: str | None = None) -> dict[str, Any]:
    caller(request, "patients.view_intake")
    if version is not None and version != FORM_VERSION:
        raise Http404("No such version of the intake Questionnaire.")
    return fhir_hygiene(intake_questionnaire())
