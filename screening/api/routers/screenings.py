"""`/screenings`: screen a facts document, list and read screenings, review their flags, sign,
and export one as FHIR."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from rules.engine import IsoDate, ScreeningResult
from rules.engine.ruleset import RULE_ID
from rules.loader import compiled_version
from rules.selectors import published_version
from screening import services
from screening.api.auth import caller
from screening.api.schemas import (
    REFUSALS,
    AcknowledgeIn,
    Detail,
    OverrideIn,
    ReviewOut,
    ScreeningOut,
    ScreeningPage,
    SignIn,
)
from screening.core.audit import audit_record, audit_view
from screening.core.errors import InputInvalid
from screening.core.limits import json_body
from screening.core.pagination import (
    CURSOR_PATTERN,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    KeysetPaginator,
    day_start,
)
from screening.fhir.bundle import screening_bundle
from screening.models import FlagReview, Screening
from screening.selectors import RUN_KEYS, screening_for, screenings_visible_to

router = Router(tags=["screenings"])

#: A rule's ID as rule sets write it (`STOP-PREGNANCY`).
RuleId = Annotated[str, Path(pattern=RULE_ID.pattern, max_length=40)]


@router.post(
    "/evaluate",
    response={200: ScreeningResult, 503: Detail, **REFUSALS},
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
    caller(request, "rules.view_ruleset")
    document = json_body(request)
    return compiled_version(published_version()).screen(document, today=timezone.localdate())


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


def screening_out(screening: Screening) -> dict[str, Any]:
    """A screening as the API shows it: summary, stored facts and result, reviews, open flags."""
    reviews = screening.reviews.select_related("reviewed_by", "carried_from__screening")
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
                carried_from=review.carried_from.screening.uuid if review.carried_from else None,
            )
            for review in reviews
        ],
        "pending_flags": [flag.rule for flag in services.pending_flags(screening)],
        "stale_rules_reason": screening.stale_rules_reason,
        "incomplete_reasons": screening.incomplete_reasons,
    }


class ScreeningFilters(Schema):
    disposition: (
        Literal["contraindicated", "incomplete", "not_indicated", "review_required", "eligible"]
        | None
    ) = None
    signed: bool | None = None
    urgent: bool | None = None
    run_from: IsoDate | None = None
    run_to: IsoDate | None = None
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the previous page (opaque).",
    )
    limit: int = Field(default=50, ge=1, le=200, description="Screenings a page.")


@router.get("", response={200: ScreeningPage, **REFUSALS})
def screening_list(request: HttpRequest, filters: Query[ScreeningFilters]) -> dict[str, Any]:
    """Screenings, newest run first, a page at a time (follow `next_cursor`)."""
    user = caller(request, "screening.view_screening")
    screenings = screenings_visible_to(user).select_related("intake")
    if filters.disposition is not None:
        screenings = screenings.filter(disposition=filters.disposition)
    if filters.signed is not None:
        signed = Screening.Status.SIGNED
        screenings = (
            screenings.filter(status=signed)
            if filters.signed
            else screenings.exclude(status=signed)
        )
    if filters.urgent is not None:
        screenings = screenings.filter(urgent=filters.urgent)
    if filters.run_from is not None:
        screenings = screenings.filter(run_at__gte=day_start(filters.run_from))
    if filters.run_to is not None:
        screenings = screenings.filter(run_at__lt=day_start(filters.run_to, days=1))
    paginator = KeysetPaginator[Screening](*RUN_KEYS, size=filters.limit)
    try:
        page = paginator.page(screenings, filters.cursor or "")
    except InvalidCursor:
        raise InputInvalid.one("cursor", "is not a cursor from a previous page") from None
    audit_record(
        actor=user,
        action="screening.list",
        object_type=Screening._meta.label_lower,
        detail={
            "page": "api",
            "filters": filters.dict(exclude={"cursor", "limit"}, exclude_none=True),
            "shown": [str(row.uuid) for row in page.rows],
        },
    )
    return {
        "items": [_summary(row) for row in page.rows],
        "next_cursor": page.next_cursor or None,
    }


@router.get("/{uuid:screening_uuid}", response={200: ScreeningOut, **REFUSALS})
def screening_get(request: HttpRequest, screening_uuid: UUID) -> dict[str, Any]:
    user = caller(request, "screening.view_screening")
    screening = screening_for(user, screening_uuid)
    audit_view(user, screening, page="api")
    return screening_out(screening)


def _review(
    request: HttpRequest,
    screening_uuid: UUID,
    rule_id: str,
    kind: str,
    payload: AcknowledgeIn,
    reason_code: str = "",
) -> dict[str, Any]:
    user = caller(request, "screening.add_flagreview")
    services.flag_review(
        screening=screening_for(user, screening_uuid),
        rule_id=rule_id,
        user=user,
        kind=kind,
        reason=payload.reason,
        reason_code=reason_code,
        seen=payload.seen,
    )
    return screening_out(screening_for(user, screening_uuid))


@router.post(
    "/{uuid:screening_uuid}/flags/{rule_id}/acknowledge",
    response={200: ScreeningOut, 409: Detail, **REFUSALS},
)
def flag_acknowledge(
    request: HttpRequest, screening_uuid: UUID, rule_id: RuleId, payload: AcknowledgeIn
) -> dict[str, Any]:
    """Acknowledge an urgent or review flag with a reason."""
    return _review(request, screening_uuid, rule_id, FlagReview.Kind.ACKNOWLEDGED, payload)


@router.post(
    "/{uuid:screening_uuid}/flags/{rule_id}/override",
    response={200: ScreeningOut, 409: Detail, **REFUSALS},
)
def flag_override(
    request: HttpRequest, screening_uuid: UUID, rule_id: RuleId, payload: OverrideIn
) -> dict[str, Any]:
    """Override a stop flag with a coded reason and an explanation."""
    return _review(
        request,
        screening_uuid,
        rule_id,
        FlagReview.Kind.OVERRIDDEN,
        payload,
        reason_code=payload.reason_code,
    )


@router.post(
    "/{uuid:screening_uuid}/sign",
    response={200: ScreeningOut, 409: Detail, **REFUSALS},
)
def screening_sign(
    request: HttpRequest, screening_uuid: UUID, payload: SignIn | None = None
) -> dict[str, Any]:
    """Sign: every stop flag overridden and every urgent/review flag acknowledged first; a
    result computed under a version no longer published needs `stale_reason`, an incomplete
    one `incomplete_reasons` (422 naming the field otherwise)."""
    user = caller(request, "screening.change_screening")
    reasons = payload or SignIn()
    services.screening_sign(
        screening=screening_for(user, screening_uuid),
        user=user,
        stale_reason=reasons.stale_reason,
        incomplete_reasons=reasons.incomplete_reasons,
    )
    return screening_out(screening_for(user, screening_uuid))


@router.get(
    "/{uuid:screening_uuid}/fhir",
    response={200: dict[str, Any], **REFUSALS},
    summary="The screening as a FHIR R4 Bundle (collection)",
)
def screening_fhir(request: HttpRequest, screening_uuid: UUID) -> dict[str, Any]:
    user = caller(request, "screening.view_screening")
    screening = screening_for(user, screening_uuid)
    audit_view(user, screening, page="fhir")
    return screening_bundle(screening)
