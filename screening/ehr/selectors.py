"""Reads over the EHR integration's records, for the reviewer's desk."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q

from screening.core.pagination import day_start
from screening.core.permissions import has_perm
from screening.ehr.models import CdsCard, CdsFeedback


def cds_card_stats(
    user: AbstractBaseUser | AnonymousUser,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Per rule, the CDS Hooks cards shown in the EHR in the period and the EHR's feedback on
    them (accepted, overridden), most shown first. Reviewers only."""
    if not has_perm(user, "screening.review_screening"):
        return []
    cards = CdsCard.objects.exclude(rule="")
    if date_from:
        cards = cards.filter(issued_at__gte=day_start(date_from))
    if date_to:
        cards = cards.filter(issued_at__lt=day_start(date_to, days=1))
    rows = (
        cards.values("rule")
        .annotate(
            shown=Count("id", distinct=True),
            accepted=Count("feedback", filter=Q(feedback__outcome=CdsFeedback.Outcome.ACCEPTED)),
            overridden=Count(
                "feedback", filter=Q(feedback__outcome=CdsFeedback.Outcome.OVERRIDDEN)
            ),
        )
        .order_by("-shown", "rule")
    )
    return [dict(row) for row in rows]
