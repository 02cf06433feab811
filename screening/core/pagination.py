"""Keyset pagination: one page of an ordered queryset after an opaque cursor naming the last row
shown (encrypted: it reveals no id or timestamp and cannot be forged), never an OFFSET, so page 1,000 costs what page 1 does and rows added meanwhile neither
repeat nor vanish. The reviewer's list, the audit log and the API's list all page this way.

A cursor pages forward ("after this row") or back ("before this row"); the last page is the
first page read from the other end, so it is a full page, not the remainder of paging forward.
How many rows a filter matches is `row_count`: exact up to a bound, beyond it the planner's
estimate, so a count never costs more than scanning that many index entries.

A paginator names the columns that order the rows (the last one unique, usually the primary
key), and each page is one range scan of the index on those columns. Date filters that go with
it are ranges on the timestamp itself (`day_start`), not `__date` lookups, so the same index
serves them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

T = TypeVar("T", bound=Model)


class InvalidCursor(ValueError):
    """The cursor was not one this app wrote (edited by hand, or truncated)."""


#: The longest cursor this app writes (a Fernet token of a few keys); longer ones are refused
#: before any decryption.
MAX_CURSOR_LENGTH = 256
#: What a cursor looks like (URL-safe base64), for the API's schema.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"


def _cursor_cipher() -> Fernet:
    """Cursors are encrypted and authenticated with a key derived from SECRET_KEY: a client can
    neither read the ids and timestamps they name nor forge one."""
    digest = hashlib.sha256(f"screening.core.pagination:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, the cursor of the next page ("" on the last page) and of the previous
    page ("" on the first)."""

    rows: Sequence[T]
    next_cursor: str
    previous_cursor: str = ""


def aware_datetime(text: str) -> datetime.datetime:
    """A timestamp key read back from a cursor (refusing one without a time zone)."""
    moment = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(moment):
        raise ValueError("naive timestamp")
    return moment


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


@dataclass(frozen=True, slots=True)
class Key:
    """One ordering column: its field name and how to read its value back from a cursor."""

    field: str
    parse: Callable[[str], Any]


class KeysetPaginator(Generic[T]):
    """Pages a queryset by `keys` (lexicographic, the last key unique), newest first when
    `descending`, `size` rows a page."""

    def __init__(self, *keys: Key, descending: bool = True, size: int = 50) -> None:
        if not keys:
            raise ValueError("a keyset paginator needs at least one key")
        self.keys, self.descending, self.size = keys, descending, size

    def page(self, rows: QuerySet[T], cursor: str = "") -> Page[T]:
        """The page of `rows` after (or, for a backward cursor, before) `cursor`: the first page
        when it is "", the last page for `last_cursor()`. Raises `InvalidCursor` for a cursor
        this paginator did not write."""
        values, backward = self._decode(cursor) if cursor else ([], False)
        if backward:
            return self._page_before(rows, values)
        sign = "-" if self.descending else ""
        rows = rows.order_by(*(f"{sign}{key.field}" for key in self.keys))
        if values:
            rows = self._beyond(rows, values, forward=True)
        found = list(rows[: self.size + 1])
        previous = self.cursor_for(found[0], backward=True) if values and found else ""
        if len(found) <= self.size:
            return Page(found, "", previous)
        return Page(found[: self.size], self.cursor_for(found[self.size - 1]), previous)

    def _page_before(self, rows: QuerySet[T], values: list[Any]) -> Page[T]:
        """The page ending right before `values` (the last page when there are none): read in
        the other order, then turned round."""
        sign = "" if self.descending else "-"
        rows = rows.order_by(*(f"{sign}{key.field}" for key in self.keys))
        if values:
            rows = self._beyond(rows, values, forward=False)
        found = list(rows[: self.size + 1])
        shown = list(reversed(found[: self.size]))
        previous = self.cursor_for(shown[0], backward=True) if len(found) > self.size else ""
        following = self.cursor_for(shown[-1]) if values and shown else ""
        return Page(shown, following, previous)

    def last_cursor(self) -> str:
        """The cursor of the last page."""
        return self._encrypt("<")

    def cursor_for(self, row: Model | Sequence[Any], *, backward: bool = False) -> str:
        """The cursor of the page that starts right after `row` (a model instance, or its key
        values in order), or with `backward`, of the page that ends right before it."""
        if isinstance(row, Model):
            values = [getattr(row, key.field) for key in self.keys]
        else:
            values = list(row)
        text = "|".join(_show(value) for value in values)
        return self._encrypt(f"<|{text}" if backward else text)

    def _encrypt(self, text: str) -> str:
        return _cursor_cipher().encrypt(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        """The key values a cursor names (backward or not)."""
        return self._decode(cursor)[0]

    def _decode(self, cursor: str) -> tuple[list[Any], bool]:
        """The key values a cursor names, and whether it pages backward."""
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor(cursor[:16])
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            parts = _cursor_cipher().decrypt(padded.encode("ascii")).decode().split("|")
        except (InvalidToken, UnicodeError, ValueError):
            raise InvalidCursor(cursor[:16]) from None
        backward = parts[0] == "<"
        if backward:
            parts = parts[1:]
            if not parts:  # the last page
                return [], True
        if len(parts) != len(self.keys):
            raise InvalidCursor(cursor)
        try:
            values = [key.parse(part) for key, part in zip(self.keys, parts, strict=True)]
        except (ValueError, TypeError):
            raise InvalidCursor(cursor) from None
        return values, backward

    def _beyond(self, rows: QuerySet[T], values: list[Any], *, forward: bool) -> QuerySet[T]:
        """The rows after `values` in this paginator's order (before them when not `forward`)."""
        beyond = "lt" if self.descending == forward else "gt"
        lead = self.keys[0].field
        # A plain range on the leading key lets the index bound the scan; the OR below settles
        # ties on it by the following keys.
        rows = rows.filter(**{f"{lead}__{beyond}e": values[0]})
        after = Q()
        for position, key in enumerate(self.keys):
            equal = {k.field: v for k, v in zip(self.keys[:position], values, strict=False)}
            after |= Q(**equal, **{f"{key.field}__{beyond}": values[position]})
        return rows.filter(after)


@dataclass(frozen=True, slots=True)
class RowCount:
    """How many rows a filter matches: `exact`, or the planner's estimate to two significant
    figures (at least the bound the exact count stopped at)."""

    number: int
    exact: bool


#: Counting stops here: up to it a count is exact and costs at most this many index entries;
#: beyond it the page says "about" and shows the planner's estimate.
EXACT_COUNT_UP_TO = 10_000


def row_count(rows: QuerySet[Any], *, exact_up_to: int | None = None) -> RowCount:
    """How many rows `rows` holds: exact when at most `exact_up_to` (default
    `EXACT_COUNT_UP_TO`; a COUNT over a LIMIT, so its cost is bounded whatever the filter), else
    PostgreSQL's estimate from the query plan."""
    if exact_up_to is None:
        exact_up_to = EXACT_COUNT_UP_TO
    rows = rows.order_by()
    capped = rows[: exact_up_to + 1].count()
    if capped <= exact_up_to:
        return RowCount(capped, exact=True)
    return RowCount(_rounded(max(_planner_estimate(rows), exact_up_to)), exact=False)


def _rounded(number: int) -> int:
    """An estimate to two significant figures (it is no more precise than that)."""
    digits = len(str(number))
    return round(number, -(digits - 2)) if digits > 2 else number


def _planner_estimate(rows: QuerySet[Any]) -> int:
    """The row count PostgreSQL's planner expects `rows` to return (0 elsewhere)."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return 0
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def day_start(day: datetime.date, *, days: int = 0) -> datetime.datetime:
    """Midnight at the start of `day` (+ `days`) in the clinic's time zone: date filters are
    `field__gte=day_start(from)` and `field__lt=day_start(to, days=1)`, ranges an index on the
    timestamp serves."""
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(moment)
