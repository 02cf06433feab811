"""Keyset pagination of screening lists: newest run first, a cursor naming the last row shown.

A cursor is the (run_at, id) of the last row of a page, so pages stay stable while new
screenings are run (offsets would shift) and each page is one index range scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from rules.engine import FactsInvalid, FieldError
from screening.models import Screening


@dataclass(frozen=True, slots=True)
class ScreeningCursor:
    run_at: datetime
    pk: int

    def encode(self) -> str:
        raw = json.dumps([self.run_at.isoformat(), self.pk]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> ScreeningCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            run_at, pk = json.loads(raw)
            cursor = cls(datetime.fromisoformat(run_at), int(pk))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise FactsInvalid(
                [FieldError("cursor", "is not a cursor from a previous page")]
            ) from exc
        if cursor.run_at.tzinfo is None:
            raise FactsInvalid([FieldError("cursor", "is not a cursor from a previous page")])
        return cursor


def screenings_page(
    screenings: QuerySet[Screening],
    *,
    disposition: str | None = None,
    signed: bool | None = None,
    urgent: bool | None = None,
    run_from: date | None = None,
    run_to: date | None = None,
    after: ScreeningCursor | None = None,
    limit: int,
) -> tuple[list[Screening], str | None]:
    """One page of `screenings` matching the filters, and the cursor of the next page."""
    if disposition is not None:
        screenings = screenings.filter(disposition=disposition)
    if signed is not None:
        signed_q = Q(status=Screening.Status.SIGNED)
        screenings = screenings.filter(signed_q if signed else ~signed_q)
    if urgent is not None:
        screenings = screenings.filter(urgent=urgent)
    if run_from is not None:
        screenings = screenings.filter(run_at__date__gte=run_from)
    if run_to is not None:
        screenings = screenings.filter(run_at__date__lte=run_to)
    if after is not None:
        screenings = screenings.filter(
            Q(run_at__lt=after.run_at) | Q(run_at=after.run_at, pk__lt=after.pk)
        )
    rows = list(screenings.order_by("-run_at", "-pk")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, ScreeningCursor(rows[-1].run_at, rows[-1].pk).encode()
