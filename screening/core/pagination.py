"""Keyset pagination: one page of an ordered queryset after an opaque cursor naming the last row
shown (encrypted: it reveals no id or timestamp and cannot be forged), never an OFFSET, so page 1,000 costs what page 1 does and rows added meanwhile neither
repeat nor vanish. The reviewer's list, the audit log and the API's list all page this way.

A paginator names the columns that order the rows (the last one unique, usually the primary
key), and each page is one range scan of the index on those columns. Date filters that go with
it are ranges on the timestamp itself (`day_start`), not `__date` lookups, so the same index
serves them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
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
    """One page of rows and the cursor of the next page ("" on the last page)."""

    rows: Sequence[T]
    next_cursor: str


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
        """The page of `rows` after `cursor` (the first page when it is ""). Raises
        `InvalidCursor` for a cursor this paginator did not write."""
        sign = "-" if self.descending else ""
        rows = rows.order_by(*(f"{sign}{key.field}" for key in self.keys))
        if cursor:
            rows = self._after(rows, self.decode(cursor))
        found = list(rows[: self.size + 1])
        if len(found) <= self.size:
            return Page(found, "")
        last = found[self.size - 1]
        return Page(found[: self.size], self.cursor_for(last))

    def cursor_for(self, row: Model | Sequence[Any]) -> str:
        """The cursor of the page that starts right after `row` (a model instance, or its key
        values in order)."""
        if isinstance(row, Model):
            values = [getattr(row, key.field) for key in self.keys]
        else:
            values = list(row)
        text = "|".join(_show(value) for value in values)
        return _cursor_cipher().encrypt(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor(cursor[:16])
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            parts = _cursor_cipher().decrypt(padded.encode("ascii")).decode().split("|")
        except (InvalidToken, UnicodeError, ValueError):
            raise InvalidCursor(cursor[:16]) from None
        if len(parts) != len(self.keys):
            raise InvalidCursor(cursor)
        try:
            return [key.parse(part) for key, part in zip(self.keys, parts, strict=True)]
        except (ValueError, TypeError):
            raise InvalidCursor(cursor) from None

    def _after(self, rows: QuerySet[T], values: list[Any]) -> QuerySet[T]:
        beyond = "lt" if self.descending else "gt"
        lead = self.keys[0].field
        # A plain range on the leading key lets the index bound the scan; the OR below settles
        # ties on it by the following keys.
        rows = rows.filter(**{f"{lead}__{beyond}e": values[0]})
        after = Q()
        for position, key in enumerate(self.keys):
            equal = {k.field: v for k, v in zip(self.keys[:position], values, strict=False)}
            after |= Q(**equal, **{f"{key.field}__{beyond}": values[position]})
        return rows.filter(after)


def day_start(day: datetime.date, *, days: int = 0) -> datetime.datetime:
    """Midnight at the start of `day` (+ `days`) in the clinic's time zone: date filters are
    `field__gte=day_start(from)` and `field__lt=day_start(to, days=1)`, ranges an index on the
    timestamp serves."""
    moment = datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(moment)
