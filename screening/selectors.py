"""Permission-aware reads of screenings: clinicians and reviewers read them; nobody else."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from patients.models import Intake
from patients.selectors import drafts_of
from rules.models import RuleSetVersion
from screening.core.pagination import Key, KeysetPaginator, Page, aware_datetime, day_start
from screening.core.permissions import has_perm
from screening.models import Screening

#: Screening lists page by (run_at, id): the index every list of screenings leads with.
RUN_KEYS = (Key("run_at", aware_datetime), Key("id", int))
#: Draft intakes page by when they were last saved.
DRAFT_KEYS = (Key("updated_at", aware_datetime), Key("id", int))
#: Rows on a page of the clinician's worklist.
WORKLIST_PAGE_SIZE = 25


def screenings_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Screening]:
    if not has_perm(user, "screening.view_screening"):
        return Screening.objects.none()
    return Screening.objects.select_related(
        "patient", "ruleset_version__rule_set", "run_by", "signed_by"
    )


def screening_for(user: AbstractBaseUser | AnonymousUser, screening_uuid: object) -> Screening:
    """One screening, with its intake (the result page links back to a draft one)."""
    return get_object_or_404(
        screenings_visible_to(user).select_related("intake"), uuid=screening_uuid
    )


def recent_screenings_of(user: User, limit: int = 20) -> QuerySet[Screening]:
    """The screenings this clinician ran (latest first), superseded runs left out."""
    return (
        screenings_visible_to(user)
        .filter(run_by=user)
        .exclude(status=Screening.Status.SUPERSEDED)
        .order_by("-run_at")[:limit]
    )


def stale_pending_of(user: User) -> QuerySet[Screening]:
    """This clinician's results awaiting sign-off that were computed under a rule-set version
    no longer published (a publish since they ran): each needs a re-run or a reason to sign."""
    return (
        screenings_visible_to(user)
        .filter(run_by=user, status=Screening.Status.UNSIGNED)
        .exclude(ruleset_version__status=RuleSetVersion.Status.PUBLISHED)
        .order_by("-run_at")
    )


# --- the clinician's worklist -----------------------------------------------------------------


def awaiting_sign_off_of(user: User) -> QuerySet[Screening]:
    """Results this clinician ran that await sign-off."""
    return screenings_visible_to(user).filter(run_by=user, status=Screening.Status.UNSIGNED)


def screenings_run_by(
    user: User,
    *,
    status: str = "",
    ran_from: datetime.date | None = None,
    ran_to: datetime.date | None = None,
) -> QuerySet[Screening]:
    """Every screening this clinician ran, narrowed by status and by the days it ran on."""
    rows = screenings_visible_to(user).filter(run_by=user)
    if status:
        rows = rows.filter(status=status)
    if ran_from:
        rows = rows.filter(run_at__gte=day_start(ran_from))
    if ran_to:
        rows = rows.filter(run_at__lt=day_start(ran_to, days=1))
    return rows


def drafts_to_finish_of(user: User) -> QuerySet[Intake]:
    """The draft intakes this clinician is working on: those they started or last saved, less
    those already run (a run's result awaiting sign-off is in `awaiting_sign_off_of`; an edit
    after the run supersedes that result and brings the draft back here)."""
    ran = Screening.objects.filter(intake=OuterRef("pk"), status=Screening.Status.UNSIGNED)
    return drafts_of(user).exclude(Exists(ran)).select_related("patient")


def screenings_page(rows: QuerySet[Screening], cursor: str = "") -> Page[Screening]:
    """A worklist page of screenings, newest run first (raises `InvalidCursor`)."""
    paginator = KeysetPaginator[Screening](*RUN_KEYS, size=WORKLIST_PAGE_SIZE)
    return paginator.page(rows.defer("facts", "rule_texts"), cursor)


def drafts_page(rows: QuerySet[Intake], cursor: str = "") -> Page[Intake]:
    """A worklist page of draft intakes, last saved first (raises `InvalidCursor`)."""
    return KeysetPaginator[Intake](*DRAFT_KEYS, size=WORKLIST_PAGE_SIZE).page(rows, cursor)
