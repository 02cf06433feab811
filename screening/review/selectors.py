"""Reviewers' reads: the filtered list of screenings, the audit log and a screening's trail.

Everything here returns nothing to anyone but a reviewer, so no view can forget the check.
Lists page by keyset (an opaque cursor naming the last row shown), never by OFFSET, so page
1,000 costs what page 1 does and rows added meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from patients.models import Patient
from rules.models import Rule, RuleSetVersion
from screening.core.models import AuditEvent
from screening.core.pagination import (
    InvalidCursor,
    Key,
    KeysetPaginator,
    Page,
    day_start,
)
from screening.core.permissions import has_perm
from screening.models import FlagReview, Screening, ScreeningFlag
from screening.selectors import RUN_KEYS

__all__ = ["InvalidCursor", "Page"]

User = AbstractBaseUser | AnonymousUser
PAGE_SIZE = 50
#: What the reviewer's desk asks of a user (granted to reviewers by migration 0012).
REVIEWER_PERMISSION = "screening.review_screening"
#: Audit events page by seq, newest first.
SEQ_KEYS = (Key("seq", int),)


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
    #: An MRN (any case) or words of the patient's names. Never written anywhere: it reaches
    #: the list through the session (see `views.screening_list`), never through a URL.
    patient: str = ""

    def audited(self) -> dict[str, Any]:
        """The filters as an audit event may hold them: the patient searched for is only said
        to be there (the trail keeps no patient identifiers)."""
        shown = {name: getattr(self, name) for name in self.__dataclass_fields__}
        shown["patient"] = bool(self.patient)
        return shown


def review_screenings(user: User) -> QuerySet[Screening]:
    if not has_perm(user, REVIEWER_PERMISSION):
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
        screenings = screenings.filter(run_at__gte=day_start(filters.date_from))
    if filters.date_to:
        screenings = screenings.filter(run_at__lt=day_start(filters.date_to, days=1))
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
    if filters.patient:
        screenings = screenings.filter(patient__in=patients_matching(filters.patient))
    if filters.overridden_stop:
        overridden = ScreeningFlag.objects.filter(
            screening=OuterRef("pk"), severity="stop", review_kind=FlagReview.Kind.OVERRIDDEN
        )
        screenings = screenings.filter(Exists(overridden))
    order = ("-run_at", "-id") if filters.descending else ("run_at", "id")
    return screenings.order_by(*order)


def patients_matching(query: str) -> QuerySet[Patient]:
    """Patients whose MRN is `query` in any case (through the index on lower(mrn)), or whose
    family or given names contain every word of it."""
    words = query.split()
    if not words:
        return Patient.objects.none()
    names = Q()
    for word in words:
        names &= Q(family_name__icontains=word) | Q(given_names__icontains=word)
    by_mrn = Patient.objects.alias(mrn_key=Lower("mrn")).filter(mrn_key=query.strip().lower())
    return Patient.objects.filter(Q(pk__in=by_mrn.values("pk")) | names)


def rule_titles() -> dict[str, str]:
    """Every rule of every rule-set version ever published, by ID, with its title in the newest
    such version (the rules a screening can have fired)."""
    rows = (
        Rule.objects.filter(
            version__status__in=[RuleSetVersion.Status.PUBLISHED, RuleSetVersion.Status.RETIRED]
        )
        .order_by("rule_id", "-version__number")
        .values_list("rule_id", "title")
    )
    titles: dict[str, str] = {}
    for rule_id, title in rows:
        titles.setdefault(rule_id, title)
    return titles


def screening_page(
    screenings: QuerySet[Screening], *, cursor: str, descending: bool, size: int = PAGE_SIZE
) -> Page[Screening]:
    """One page of `screenings` after `cursor`, by run time (newest first when `descending`)."""
    return KeysetPaginator[Screening](*RUN_KEYS, descending=descending, size=size).page(
        screenings, cursor
    )


# --- the audit trail ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def audit_events_for(user: User) -> QuerySet[AuditEvent]:
    if not has_perm(user, "core.view_auditevent"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def filtered_audit_events(user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit events, newest first: an action or an action prefix ending in a dot
    (`screening.`), an actor's username, an object's type and id, a date range."""
    events = audit_events_for(user)
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.actor:
        events = events.filter(actor_repr=filters.actor)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.date_from:
        events = events.filter(occurred_at__gte=day_start(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lt=day_start(filters.date_to, days=1))
    return events.order_by("-seq")


def audit_page(
    events: QuerySet[AuditEvent], *, cursor: str, size: int = PAGE_SIZE
) -> Page[AuditEvent]:
    """One page of `events` after `cursor`, newest first."""
    return KeysetPaginator[AuditEvent](*SEQ_KEYS, size=size).page(events, cursor)


def last_page_cursor() -> str:
    """The cursor of a list's last page (the same for every list a paginator here pages)."""
    return KeysetPaginator[Screening](*RUN_KEYS).last_cursor()


def audit_cursor_at(seq: int) -> str:
    """The audit log's cursor whose page starts at event `seq`."""
    return KeysetPaginator[AuditEvent](*SEQ_KEYS).cursor_for([seq + 1])


def trail_of(screening: Screening) -> QuerySet[AuditEvent]:
    """Every audit event about `screening` or the intake it was run from, oldest first."""
    return AuditEvent.objects.filter(
        Q(object_type="screening.screening", object_id=str(screening.uuid))
        | Q(object_type="patients.intake", object_id=str(screening.intake.uuid))
    ).order_by("seq")


def as_filters(data: dict[str, Any], *, patient: str = "") -> ScreeningFilters:
    """`ScreeningFilters` from a filter form's cleaned data and the patient searched for."""
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
        patient=patient,
    )
