"""The screenings a rule admin's impact preview compares (`settings.RULES_PAST_SCREENINGS`).

`rules` never imports this app: it asks the provider named in settings for past screenings, and
this is that provider.
"""

from __future__ import annotations

from collections.abc import Iterator

from rules.impact import PastScreening
from screening.core.replica import replica_reads
from screening.models import Screening


class StoredScreenings:
    """Every stored screening, in primary-key batches, only the compared columns."""

    def count(self) -> int:
        with replica_reads():
            return Screening.objects.count()

    def batches(self, batch_size: int) -> Iterator[list[PastScreening]]:
        """Each batch is its own short query (keyset on the primary key), so no cursor or
        snapshot is held open across a run that commits progress between batches."""
        # Of the stored result only the disposition, the flags and the missing facts are read:
        # the database extracts them, so the indications and explanations are never decoded.
        columns = (
            "pk",
            "uuid",
            "screening_date",
            "facts",
            "result__disposition",
            "result__flags",
            "result__missing",
            "ruleset_version_id",
        )
        last = 0
        while True:
            with replica_reads():  # a read replica, when there is one (screening.core.replica)
                rows = list(
                    Screening.objects.filter(pk__gt=last)
                    .order_by("pk")
                    .values_list(*columns)[:batch_size]
                    .iterator(chunk_size=batch_size)
                )
            if not rows:
                return
            yield [row[1:] for row in rows]
            last = rows[-1][0]
