"""The API's operations. Each one checks the role as the matching page does, reads through the
selectors, changes through the services and records the same audit events."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from patients import services as patient_services
from patients.models import Intake, Patient
from patients.selectors import intake_for, patient_for, patients_visible_to
from rules.engine import FactsInvalid, FieldError, ScreeningResult
from rules.loader import compiled_version
from rules.selectors import published_version
from screening import services
from screening.api import fhir
from screening.api.answers import answers_to_columns, intake_answers
from screening.api.api import api
from screening.api.pages import ScreeningCursor, screenings_page
from screening.api.schemas import (
    AcknowledgeIn,
    Detail,
    FieldProblem,
    IntakeOut,
    IntakeUpdate,
    OverrideIn,
    PatientIn,
    PatientOut,
    ReviewOut,
    ScreeningOut,
    ScreeningPage,
)
from screening.audit import audit_record
from screening.exceptions import ConflictError, PermissionDenied
from screening.models import Screening
from screening.roles import Role, roles_of
from screening.selectors import screening_for, screenings_visible_to
from screening.views import record_view

READERS = (Role.CLINICIAN, Role.REVIEWER)
REFUSALS: dict[int | frozenset[int], Any] = {401: Detail, 403: Detail, 404: Detail}


def require_role(request: HttpRequest, *roles: Role) -> User:
    """The signed-in caller; 403 unless they hold one of `roles` (as `role_required` does for
    the pages)."""
    user = request.user
    if not isinstance(user, User) or not {role.value for role in roles} & roles_of(user):
        raise PermissionDenied("Your role does not give access to this.")
    return user


# --- stateless screening -------------------------------------------------------------------------

screenings_router = Router(tags=["screenings"])


@screenings_router.post(
    "/evaluate",
    response={200: ScreeningResult, 422: list[FieldProblem], 401: Detail, 403: Detail},
    summary="Screen a facts document under the published rule set (stores nothing)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/IntakeFacts"}}
            },
        }
    },
)
def evaluate(request: HttpRequest) -> ScreeningResult:
    """Any role may screen a document: nothing is stored and no patient is named, and rule admins
    use it to try the published rules. Accounts without a role may not."""
    require_role(request, Role.CLINICIAN, Role.REVIEWER, Role.RULE_ADMIN)
    try:
        document = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FactsInvalid([FieldError("(document)", "is not valid JSON")]) from None
    return compiled_version(published_version()).screen(document, today=timezone.localdate())


# --- patients ------------------------------------------------------------------------------------

patients_router = Router(tags=["patients"])


def _patient_viewed(request: HttpRequest, patient: Patient) -> None:
    audit_record(
        actor=request.user,
        action="patient.view",
        object_type="patients.patient",
        object_id=str(patient.uuid),
        detail={"page": "api"},
    )


@patients_router.post(
    "", response={201: PatientOut, 409: Detail, 422: list[FieldProblem], **REFUSALS}
)
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[Any]:
    user = require_role(request, Role.CLINICIAN)
    try:
        patient = patient_services.patient_register(user=user, **payload.dict())
    except IntegrityError:
        raise ConflictError(
            "A patient with this medical record number is already registered."
        ) from None
    return Status(201, patient)


@patients_router.get("", response={200: list[PatientOut], 422: list[FieldProblem], **REFUSALS})
def patient_search(request: HttpRequest, mrn: str) -> list[Patient]:
    """The patient with exactly this medical record number (an empty list if none)."""
    require_role(request, *READERS)
    found = list(patients_visible_to(request.user).filter(mrn=mrn.strip()))
    for patient in found:
        _patient_viewed(request, patient)
    return found


@patients_router.get("/{uuid:patient_uuid}", response={200: PatientOut, **REFUSALS})
def patient_get(request: HttpRequest, patient_uuid: UUID) -> Patient:
    require_role(request, *READERS)
    patient = patient_for(request.user, patient_uuid)
    _patient_viewed(request, patient)
    return patient


@patients_router.post("/{uuid:patient_uuid}/intakes", response={201: IntakeOut, **REFUSALS})
def intake_create(request: HttpRequest, patient_uuid: UUID) -> Status[Any]:
    """Start an empty draft intake for the patient."""
    user = require_role(request, Role.CLINICIAN)
    patient = patient_for(request.user, patient_uuid)
    intake = patient_services.intake_create(patient=patient, user=user)
    return Status(201, _intake_out(intake))


# --- intakes -------------------------------------------------------------------------------------

intakes_router = Router(tags=["intakes"])


def _intake_out(intake: Intake) -> dict[str, Any]:
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


@intakes_router.get("/{uuid:intake_uuid}", response={200: IntakeOut, **REFUSALS})
def intake_get(request: HttpRequest, intake_uuid: UUID, response: HttpResponse) -> dict[str, Any]:
    """The intake's answers; its `version` is also the `ETag`."""
    require_role(request, *READERS)
    intake = intake_for(request.user, intake_uuid)
    audit_record(
        actor=request.user,
        action="intake.view",
        object_type="patients.intake",
        object_id=str(intake.uuid),
        detail={"page": "api"},
    )
    response["ETag"] = _etag(intake)
    return _intake_out(intake)


@intakes_router.put(
    "/{uuid:intake_uuid}",
    response={200: IntakeOut, 409: Detail, 422: list[FieldProblem], **REFUSALS},
)
def intake_update(
    request: HttpRequest, intake_uuid: UUID, payload: IntakeUpdate, response: HttpResponse
) -> dict[str, Any]:
    """Save a draft's answers if nobody saved it since the version you read (409 otherwise)."""
    user = require_role(request, Role.CLINICIAN)
    intake = intake_for(request.user, intake_uuid)
    expected = _expected_version(request, payload.version)
    values, trials = answers_to_columns(
        payload.answers, patient=intake.patient, today=timezone.localdate()
    )
    intake = patient_services.intake_update(
        intake=intake, user=user, expected_version=expected, values=values, trials=trials
    )
    response["ETag"] = _etag(intake)
    return _intake_out(intake)


def _expected_version(request: HttpRequest, version: int | None) -> int:
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if header:
        if not header.isdigit():
            raise FactsInvalid([FieldError("If-Match", 'must be the intake\'s ETag, e.g. "3"')])
        if version is not None and version != int(header):
            raise FactsInvalid([FieldError("version", "differs from the If-Match header")])
        return int(header)
    if version is None:
        raise FactsInvalid(
            [FieldError("version", "give the version you read (or an If-Match header)")]
        )
    return version


@intakes_router.post(
    "/{uuid:intake_uuid}/screenings",
    response={201: ScreeningOut, 409: Detail, 422: list[FieldProblem], **REFUSALS},
)
def screening_run(request: HttpRequest, intake_uuid: UUID) -> Status[Any]:
    """Run the screening of the intake's saved answers under the published rule set."""
    user = require_role(request, Role.CLINICIAN)
    intake = intake_for(request.user, intake_uuid)
    screening = services.screening_run(intake=intake, user=user)
    return Status(201, _screening_out(screening_for(request.user, screening.uuid)))


# --- screenings ----------------------------------------------------------------------------------


def _summary(screening: Screening) -> dict[str, Any]:
    version = screening.ruleset_version
    return {
        "uuid": screening.uuid,
        "patient": screening.patient.uuid,
        "intake": screening.intake.uuid,
        "status": screening.status,
        "disposition": screening.disposition,
        "urgent": screening.urgent,
        "ruleset": {"name": version.rule_set.name, "version": version.number},
        "screening_date": screening.screening_date,
        "run_by": screening.run_by.get_username(),
        "run_at": screening.run_at,
        "signed_by": screening.signed_by.get_username() if screening.signed_by else None,
        "signed_at": screening.signed_at,
    }


def _screening_out(screening: Screening) -> dict[str, Any]:
    reviews = screening.reviews.select_related("reviewed_by")
    return {
        **_summary(screening),
        "facts": screening.facts,
        "result": screening.result,
        "reviews": [
            ReviewOut(
                rule=review.rule_id,
                severity=review.severity,
                kind=review.kind,
                reason_code=review.reason_code,
                reason=review.reason,
                reviewed_by=review.reviewed_by.get_username(),
                reviewed_at=review.reviewed_at,
                seen=services.review_seen(review),
            )
            for review in reviews
        ],
        "pending_flags": [flag["rule"] for flag in services.pending_flags(screening)],
    }


class ScreeningFilters(Schema):
    disposition: (
        Literal["contraindicated", "incomplete", "not_indicated", "review_required", "eligible"]
        | None
    ) = None
    signed: bool | None = None
    urgent: bool | None = None
    run_from: date | None = None
    run_to: date | None = None
    cursor: str | None = None
    limit: int = 50


@screenings_router.get("", response={200: ScreeningPage, 422: list[FieldProblem], **REFUSALS})
def screening_list(request: HttpRequest, filters: Query[ScreeningFilters]) -> dict[str, Any]:
    """Screenings, newest run first, a page at a time (follow `next_cursor`)."""
    require_role(request, *READERS)
    if not 1 <= filters.limit <= 200:
        raise FactsInvalid([FieldError("limit", "must be between 1 and 200")])
    cursor = ScreeningCursor.decode(filters.cursor) if filters.cursor else None
    rows, next_cursor = screenings_page(
        screenings_visible_to(request.user).select_related("intake"),
        disposition=filters.disposition,
        signed=filters.signed,
        urgent=filters.urgent,
        run_from=filters.run_from,
        run_to=filters.run_to,
        after=cursor,
        limit=filters.limit,
    )
    audit_record(
        actor=request.user,
        action="screening.list",
        object_type="screening.screening",
        detail={
            "page": "api",
            "filters": filters.dict(exclude={"cursor", "limit"}, exclude_none=True),
            "shown": [str(row.uuid) for row in rows],
        },
    )
    return {"items": [_summary(row) for row in rows], "next_cursor": next_cursor}


@screenings_router.get("/{uuid:screening_uuid}", response={200: ScreeningOut, **REFUSALS})
def screening_get(request: HttpRequest, screening_uuid: UUID) -> dict[str, Any]:
    require_role(request, *READERS)
    screening = screening_for(request.user, screening_uuid)
    record_view(request.user, screening, page="api")
    return _screening_out(screening)


@screenings_router.post(
    "/{uuid:screening_uuid}/flags/{rule_id}/acknowledge",
    response={200: ScreeningOut, 409: Detail, 422: list[FieldProblem], **REFUSALS},
)
def flag_acknowledge(
    request: HttpRequest, screening_uuid: UUID, rule_id: str, payload: AcknowledgeIn
) -> dict[str, Any]:
    """Acknowledge an urgent or review flag with a reason."""
    user = require_role(request, Role.CLINICIAN)
    screening = screening_for(request.user, screening_uuid)
    services.flag_acknowledge(
        screening=screening,
        rule_id=rule_id,
        user=user,
        reason=payload.reason,
        seen=payload.seen,
    )
    return _screening_out(screening_for(request.user, screening_uuid))


@screenings_router.post(
    "/{uuid:screening_uuid}/flags/{rule_id}/override",
    response={200: ScreeningOut, 409: Detail, 422: list[FieldProblem], **REFUSALS},
)
def flag_override(
    request: HttpRequest, screening_uuid: UUID, rule_id: str, payload: OverrideIn
) -> dict[str, Any]:
    """Override a stop flag with a coded reason and an explanation."""
    user = require_role(request, Role.CLINICIAN)
    screening = screening_for(request.user, screening_uuid)
    services.flag_override(
        screening=screening,
        rule_id=rule_id,
        user=user,
        reason_code=payload.reason_code,
        reason=payload.reason,
        seen=payload.seen,
    )
    return _screening_out(screening_for(request.user, screening_uuid))


@screenings_router.post(
    "/{uuid:screening_uuid}/sign", response={200: ScreeningOut, 409: Detail, **REFUSALS}
)
def screening_sign(request: HttpRequest, screening_uuid: UUID) -> dict[str, Any]:
    """Sign: every stop flag overridden and every urgent/review flag acknowledged first."""
    user = require_role(request, Role.CLINICIAN)
    screening = screening_for(request.user, screening_uuid)
    services.screening_sign(screening=screening, user=user)
    return _screening_out(screening_for(request.user, screening_uuid))


@screenings_router.get(
    "/{uuid:screening_uuid}/fhir",
    response={200: dict[str, Any], **REFUSALS},
    summary="The screening as a FHIR R4 Bundle (collection)",
)
def screening_fhir(request: HttpRequest, screening_uuid: UUID) -> dict[str, Any]:
    require_role(request, *READERS)
    screening = screening_for(request.user, screening_uuid)
    record_view(request.user, screening, page="fhir")
    return fhir.screening_bundle(screening)


api.add_router("/screenings", screenings_router)
api.add_router("/patients", patients_router)
api.add_router("/intakes", intakes_router)
