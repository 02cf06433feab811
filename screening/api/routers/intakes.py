"""`/intakes`: read and save an intake's answers, run its screening."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Status

from patients.models import Intake
from patients.selectors import intake_for, patient_for
from screening import services
from screening.api.answers import answers_to_columns, intake_answers
from screening.api.auth import caller
from screening.api.routers.screenings import screening_out
from screening.api.schemas import (
    REFUSALS,
    Detail,
    IntakeFromFhir,
    IntakeOut,
    IntakePrefilled,
    IntakeUpdate,
    ScreeningOut,
)
from screening.core.audit import audit_view
from screening.core.errors import InputInvalid
from screening.ehr.models import IntakePrefill
from screening.ehr.services import intake_from_fhir, prefill_check
from screening.selectors import screening_for

router = Router(tags=["intakes"])


def intake_out(intake: Intake) -> dict[str, Any]:
    return {
        "uuid": intake.uuid,
        "patient": intake.patient.uuid,
        "status": intake.status,
        "version": intake.version,
        "amends": intake.amends.uuid if intake.amends is not None else None,
        "answers": intake_answers(intake, today=timezone.localdate()),
        "created_at": intake.created_at,
        "updated_at": intake.updated_at,
    }


def _etag(intake: Intake) -> str:
    return f'"{intake.version}"'


@router.post(
    "/from-fhir",
    response={201: IntakePrefilled, **REFUSALS},
    summary="Start a draft intake prefilled from a FHIR R4 Bundle (nothing runs)",
)
def intake_create_from_fhir(request: HttpRequest, payload: IntakeFromFhir) -> Status[Any]:
    """Each prefilled answer keeps its sources until a clinician saves the intake; stale or
    conflicting data is listed under `not_used` and not used; what the data does not say stays
    not recorded. Run the screening when the answers are checked."""
    user = caller(request, "patients.add_intake")
    patient = patient_for(user, payload.patient)
    intake = intake_from_fhir(
        patient=patient, user=user, bundle=payload.bundle, today=timezone.localdate()
    )
    prefill = IntakePrefill.objects.get(intake=intake)
    return Status(
        201,
        {
            "intake": intake_out(intake),
            "sources": prefill.sources,
            "not_used": prefill.not_used,
            "unmapped": prefill.unmapped,
        },
    )


@router.get("/{uuid:intake_uuid}", response={200: IntakeOut, **REFUSALS})
def intake_get(request: HttpRequest, intake_uuid: UUID, response: HttpResponse) -> dict[str, Any]:
    """The intake's answers; its `version` is also the `ETag`."""
    user = caller(request, "patients.view_intake")
    intake = intake_for(user, intake_uuid)
    audit_view(user, intake, page="api")
    response["ETag"] = _etag(intake)
    return intake_out(intake)


@router.put(
    "/{uuid:intake_uuid}",
    response={200: IntakeOut, 409: Detail, **REFUSALS},
)
def intake_update(
    request: HttpRequest, intake_uuid: UUID, payload: IntakeUpdate, response: HttpResponse
) -> dict[str, Any]:
    """Save a draft's answers if nobody saved it since the version you read (409 otherwise).
    Unsigned screenings of the intake are superseded, as when the form saves it."""
    user = caller(request, "patients.change_intake")
    intake = intake_for(user, intake_uuid)
    expected = _expected_version(request, payload.version)
    values, trials = answers_to_columns(
        payload.answers, patient=intake.patient, today=timezone.localdate()
    )
    intake = services.intake_save(
        intake=intake, user=user, expected_version=expected, values=values, trials=trials
    )
    # The caller sent every answer: those prefilled from EHR data and sent unchanged are theirs.
    prefill_check(intake=intake, user=user, values=values, confirmed=values)
    response["ETag"] = _etag(intake)
    return intake_out(intake)


def _expected_version(request: HttpRequest, version: int | None) -> int:
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if header:
        if not header.isdigit():
            raise InputInvalid.one("If-Match", 'must be the intake\'s ETag, e.g. "3"')
        if version is not None and version != int(header):
            raise InputInvalid.one("version", "differs from the If-Match header")
        return int(header)
    if version is None:
        raise InputInvalid.one("version", "give the version you read (or an If-Match header)")
    return version


@router.post(
    "/{uuid:intake_uuid}/screenings",
    response={201: ScreeningOut, 409: Detail, 503: Detail, **REFUSALS},
)
def screening_run(request: HttpRequest, intake_uuid: UUID) -> Status[Any]:
    """Run the screening of the intake's saved answers under the published rule set. An intake
    prefilled from EHR data runs once its answers were saved (PUT), which checks them: before
    that, 422 names each prefilled answer not checked."""
    user = caller(request, "screening.add_screening")
    intake = intake_for(user, intake_uuid)
    prefill = IntakePrefill.objects.filter(intake=intake).first()
    if prefill is not None and prefill.pending:
        raise InputInvalid(
            {
                name: ["was prefilled from EHR data and is not checked: save the intake first"]
                for name in prefill.pending
            }
        )
    screening = services.screening_run(intake=intake, user=user)
    return Status(201, screening_out(screening_for(user, screening.uuid)))
