"""Reviewers' reads: the filtered list of screenings, the audit log and a screening's trail.

Everything here returns nothing to anyone but a reviewer, so no view can forget the check.
Lists page by keyset (an opaque cursor naming the last row shown), never by OFFSET, so page
1,000 costs what page 1 does and rows added meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from screening.models import AuditEvent, FlagReview, Screening, ScreeningFlag
from screening.roles import Role, has_role

User = AbstractBaseUser | AnonymousUser
PAGE_SIZE = 50
T = TypeVar("T", bound=Model)


class InvalidCursor(ValueError):
    """The cursor was not one this app wrote (edited by hand, or truncated)."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: Sequence[T]
    next_cursor: str


@dataclass(frozen=True, slots=True)
class ScreeningFilters:
    """What a reviewer narrowed the list to; None or empty means "any"."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    clinician_id: int | None = None
    disposition: str = ""
    urgent: bool | None = None
    rule_id: str = ""
    overridden_stop: bool = False
    version_id: int | None = None
    signed: bool | None = None
    descending: bool = True


def review_screenings(user: User) -> QuerySet[Screening]:
    if not has_role(user, Role.REVIEWER):
        return Screening.objects.none()
    return Screening.objects.select_related(
        "patient", "intake", "run_by", "signed_by", "ruleset_version__rule_set", "amends"
    )


def review_screening_for(user: User, screening_uuid: object) -> Screening:
    return get_object_or_404(review_screenings(user), uuid=screening_uuid)


def filtered_screenings(user: User, filters: ScreeningFilters) -> QuerySet[Screening]:
    """The reviewer's screenings narrowed by `filters`, in run order (newest first unless
    `filters.descending` is false), ties broken by id."""
    screenings = review_screenings(user)
    if filters.date_from:
        screenings = screenings.filter(run_at__gte=start_of(filters.date_from))
    if filters.date_to:
        screenings = screenings.filter(run_at__lt=start_of(filters.date_to, days=1))
    if filters.clinician_id:
        screenings = screenings.filter(run_by_id=filters.clinician_id)
    if filters.disposition:
        screenings = screenings.filter(disposition=filters.disposition)
    if filters.urgent is not None:
        screenings = screenings.filter(urgent=filters.urgent)
    if filters.version_id:
        screenings = screenings.filter(ruleset_version_id=filters.version_id)
    if filters.signed is True:
        screenings = screenings.filter(status=Screening.Status.SIGNED)
    elif filters.signed is False:
        screenings = screenings.exclude(status=Screening.Status.SIGNED)
    if filters.rule_id:
        fired = ScreeningFlag.objects.filter(screening=OuterRef("pk"), rule_id=filters.rule_id)
        screenings = screenings.filter(Exists(fired))
    if filters.overridden_stop:
        overridden = ScreeningFlag.objects.filter(
            screening=OuterRef("pk"), severity="stop", review_kind=FlagReview.Kind.OVERRIDDEN
        )
        screenings = screenings.filter(Exists(overridden))
    order = ("-run_at", "-id") if filters.descending else ("run_at", "id")
    return screenings.order_by(*order)


def screening_page(
    screenings: QuerySet[Screening], *, cursor: str, descending: bool, size: int = PAGE_SIZE
) -> Page[Screening]:
    """One page of `screenings` (ordered by `filtered_screenings`) after `cursor`."""
    if cursor:
        run_at, pk = _decode_run_cursor(cursor)
        # The plain range on run_at lets the index bound the scan; the OR settles ties by id.
        if descending:
            screenings = screenings.filter(run_at__lte=run_at).filter(
                Q(run_at__lt=run_at) | Q(id__lt=pk)
            )
        else:
            screenings = screenings.filter(run_at__gte=run_at).filter(
                Q(run_at__gt=run_at) | Q(id__gt=pk)
            )
    rows = list(screenings[: size + 1])
    if len(rows) <= size:
        return Page(rows, "")
    last = rows[size - 1]
    return Page(rows[:size], encode_cursor(last.run_at.isoformat(), str(last.pk)))


def start_of(day: datetime.date, *, days: int = 0) -> datetime.datetime:
    """Midnight at the start of `day` (+ `days`) in the clinic's time zone."""
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(moment)


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("|")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidCursor(cursor) from None
    if len(parts) != count:
        raise InvalidCursor(cursor)
    return parts


def _decode_run_cursor(cursor: str) -> tuple[datetime.datetime, int]:
    moment, pk = decode_cursor(cursor, 2)
    try:
        run_at = datetime.datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        raise InvalidCursor(cursor) from None
    if timezone.is_naive(run_at):
        raise InvalidCursor(cursor)
    return run_at, number


# --- the audit trail ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    object_id: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def audit_events_for(user: User) -> QuerySet[AuditEvent]:
    if not has_role(user, Role.REVIEWER):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def filtered_audit_events(user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit events, newest first: an action or an action prefix ending in a dot
    (`screening.`), an actor's username, an object id, a date range."""
    events = audit_events_for(user)
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.actor:
        events = events.filter(actor_repr=filters.actor)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.date_from:
        events = events.filter(occurred_at__gte=start_of(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lt=start_of(filters.date_to, days=1))
    return events.order_by("-seq")


def audit_page(
    events: QuerySet[AuditEvent], *, cursor: str, size: int = PAGE_SIZE
) -> Page[AuditEvent]:
    if cursor:
        (seq,) = decode_cursor(cursor, 1)
        if not seq.isdigit():
            raise InvalidCursor(cursor)
        events = events.filter(seq__lt=int(seq))
    rows = list(events[: size + 1])
    if len(rows) <= size:
        return Page(rows, "")
    return Page(rows[:size], encode_cursor(str(rows[size - 1].seq)))


def trail_of(screening: Screening) -> QuerySet[AuditEvent]:
    """Every audit event about `screening` or the intake it was run from, oldest first."""
    return AuditEvent.objects.filter(
        Q(object_type="screening.screening", object_id=str(screening.uuid))
        | Q(object_type="patients.intake", object_id=str(screening.intake.uuid))
    ).order_by("seq")


def as_filters(data: dict[str, Any]) -> ScreeningFilters:
    """`ScreeningFilters` from a filter form's cleaned data."""
    clinician = data.get("clinician")
    version = data.get("version")
    return ScreeningFilters(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        clinician_id=clinician.pk if clinician else None,
        disposition=data.get("disposition") or "",
        urgent=data.get("urgent"),
        rule_id=(data.get("rule_id") or "").strip(),
        overridden_stop=bool(data.get("overridden_stop")),
        version_id=version.pk if version else None,
        signed=data.get("signed"),
        descending=data.get("sort", "newest") != "oldest",
    )
