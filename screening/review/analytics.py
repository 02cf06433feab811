"""Rule analytics for reviewers: how often each rule fired over a period, how often clinicians
acknowledged or overrode it, and how long that took (median from run to review).

Read from `ScreeningFlag`, which holds one row per fired flag with its review, so a period's
figures never parse stored results.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Q

from screening.core.pagination import day_start
from screening.core.permissions import has_perm
from screening.labels import duration_words
from screening.models import FlagReview, Screening, ScreeningFlag

#: Rules overridden at least this often (of the times they fired) are highlighted.
HIGH_OVERRIDE_RATE = 0.5
#: Chart geometry, in SVG user units.
BAR_HEIGHT = 18
ROW_HEIGHT = 28
LABEL_WIDTH = 190
BAR_WIDTH = 400


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule_id: str
    severity: str
    fired: int
    acknowledged: int
    overridden: int
    median_to_review: datetime.timedelta | None
    title: str = ""

    @property
    def median_words(self) -> str:
        return duration_words(self.median_to_review) if self.median_to_review is not None else ""

    @property
    def override_rate(self) -> float:
        return self.overridden / self.fired if self.fired else 0.0

    @property
    def high_override(self) -> bool:
        return self.override_rate >= HIGH_OVERRIDE_RATE


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One rule's row in the chart: fired (full bar) with the overridden share drawn over it."""

    stats: RuleStats
    y: int
    text_y: int
    fired_width: int
    overridden_width: int
    reviewed_width: int


def rule_stats(
    user: AbstractBaseUser | AnonymousUser,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    include_superseded: bool = False,
    titles: dict[str, str] | None = None,
) -> list[RuleStats]:
    """Per rule, for screenings run in the period (inclusive dates): most fired first, each
    with its title from `titles`. Runs superseded by a later run of the same intake (or by an
    edit of it) are left out unless `include_superseded`: they would count one patient's flag
    once per run."""
    if not has_perm(user, "screening.review_screening"):
        return []
    flags = ScreeningFlag.objects.all()
    if not include_superseded:
        flags = flags.exclude(screening__status=Screening.Status.SUPERSEDED)
    if date_from:
        flags = flags.filter(run_at__gte=day_start(date_from))
    if date_to:
        flags = flags.filter(run_at__lt=day_start(date_to, days=1))
    counts = (
        flags.values("rule_id")
        .annotate(
            severity=Max("severity"),
            fired=Count("id"),
            acknowledged=Count("id", filter=Q(review_kind=FlagReview.Kind.ACKNOWLEDGED)),
            overridden=Count("id", filter=Q(review_kind=FlagReview.Kind.OVERRIDDEN)),
        )
        .order_by("-fired", "rule_id")
    )
    waits: dict[str, list[float]] = defaultdict(list)
    reviewed = flags.exclude(reviewed_at=None).values_list("rule_id", "run_at", "reviewed_at")
    for rule_id, run_at, reviewed_at in reviewed.iterator(chunk_size=5000):
        if reviewed_at is not None:  # excluded above; the check is for the type checker
            waits[rule_id].append((reviewed_at - run_at).total_seconds())
    return [
        RuleStats(
            rule_id=row["rule_id"],
            severity=row["severity"],
            fired=row["fired"],
            acknowledged=row["acknowledged"],
            overridden=row["overridden"],
            median_to_review=(
                datetime.timedelta(seconds=statistics.median(waits[row["rule_id"]]))
                if waits[row["rule_id"]]
                else None
            ),
            title=(titles or {}).get(row["rule_id"], ""),
        )
        for row in counts
    ]


def chart_bars(stats: list[RuleStats]) -> list[ChartBar]:
    """Bar geometry, scaled to the most fired rule."""
    most = max((s.fired for s in stats), default=0) or 1
    return [
        ChartBar(
            stats=s,
            y=i * ROW_HEIGHT,
            text_y=i * ROW_HEIGHT + BAR_HEIGHT - 4,
            fired_width=round(BAR_WIDTH * s.fired / most),
            overridden_width=round(BAR_WIDTH * s.overridden / most),
            reviewed_width=round(BAR_WIDTH * (s.overridden + s.acknowledged) / most),
        )
        for i, s in enumerate(stats)
    ]
