"""Permission-aware reads of screenings: clinicians and reviewers read them; nobody else."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from rules.models import RuleSetVersion
from screening.core.pagination import Key, aware_datetime
from screening.core.permissions import has_perm
from screening.models import Screening

#: Screening lists page by (run_at, id): the index every list of screenings leads with.
RUN_KEYS = (Key("run_at", aware_datetime), Key("id", int))


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
