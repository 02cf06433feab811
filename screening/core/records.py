"""The clinical record inside the audit chain: digests of what events wrote.

An event that creates or changes clinical content (a screening run, a flag review, a
signature, an amendment, a published rule set) carries `detail["digest"]`: the SHA-256 of the
rows it left behind, computed by the app that owns them. Verification asks each app, through the
providers named in `AUDIT_RECORD_DIGESTS` (the platform imports no app), for the digest of
those rows as they are now, and reports every finished record (a signed screening, a published
version) whose rows no longer match what the chain recorded.

A provider is a class with:

- `label`: how findings name a record ("signed screening");
- `object_type`: the events' `object_type` (`app_label.model`);
- `actions`: the actions whose events carry a digest of it;
- `final_actions`: the action after which the record may never change again (signing,
  publishing): its digest, and every later one, must match the rows;
- `in_scope()`: the ids (as events name them) of records that must be finished now;
- `digests(ids)`: the current digest of each of those ids that still exists.

Records finished before their events carried digests (and the default rule set, which
`migrate` publishes) are attested once by `manage.py audit_attest`: an `audit.attest` event
with their digest as found then stands for their final event.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db.models.fields.json import KT
from django.utils.module_loading import import_string

from screening.core.models import AuditEvent

DIGEST_KEY = "digest"
BATCH = 500
#: The event `audit_attest` records for a finished record that had no digest event: its rows'
#: digest as found (rule set v1, published by `migrate`; records from before digests existed).
ATTEST_ACTION = "audit.attest"


class RecordDigests(Protocol):
    label: str
    object_type: str
    actions: tuple[str, ...]
    final_actions: tuple[str, ...]

    def in_scope(self) -> Iterable[str]: ...

    def digests(self, object_ids: Sequence[str]) -> Mapping[str, str]: ...


def record_digest(document: Any) -> str:
    """The SHA-256 (hex) of `document` as canonical JSON: sorted keys, no spaces, UTF-8, with
    datetimes in UTC to the microsecond, dates, UUIDs and Decimals as strings, and numbers as
    PostgreSQL's jsonb gives them back (so a digest taken before a row is stored matches the
    one taken from the stored row)."""
    canonical = json.dumps(
        _plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form")
        if value == 0:
            return 0.0
        return int(decimal.Decimal(repr(value))) if "e+" in repr(value) else value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def record_providers() -> list[RecordDigests]:
    return [import_string(path)() for path in getattr(settings, "AUDIT_RECORD_DIGESTS", [])]


@dataclass(frozen=True)
class RecordProblem:
    """A finished record whose rows no longer match the digest event `seq`."""

    seq: int
    event_id: int | None
    message: str


@dataclass
class RecordCheck:
    problems: list[RecordProblem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    uncovered: dict[str, int] = field(default_factory=dict)


@dataclass
class _Marks:
    """The digest events of one record: its final one (signed, published) and its latest."""

    final: tuple[int, int, str, str] | None = None  # seq, id, action, digest
    latest: tuple[int, int, str, str] | None = None


def check_records(providers: Iterable[RecordDigests] | None = None) -> RecordCheck:
    """Recompute the digest of every finished record and compare it with its digest events.

    Reads only what it needs: the final events (signatures, publications, attestations: one
    per finished record, through the action index), then, a batch of records at a time, the
    digest events of those records (through the object index) and their rows. The run and
    review events of screenings never signed are not read."""
    result = RecordCheck()
    for provider in record_providers() if providers is None else providers:
        finals = _final_events(provider)
        scope = dict.fromkeys(provider.in_scope())
        scope.update(dict.fromkeys(finals))
        checked = uncovered = 0
        for batch in _batched(list(scope), BATCH):
            marks = _digest_events(provider, batch, finals)
            current = provider.digests(batch)
            for object_id in batch:
                mark = marks.get(object_id)
                if mark is None or mark.latest is None:
                    uncovered += 1
                    continue
                checked += 1
                problem = _mismatch(provider, object_id, mark, current.get(object_id))
                if problem is not None:
                    result.problems.append(problem)
        result.checked[provider.label] = checked
        result.uncovered[provider.label] = uncovered
    result.problems.sort(key=lambda problem: problem.seq)
    return result


def _batched(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_Event = tuple[int, int, str, str]  # seq, id, action, digest


def _final_events(provider: RecordDigests) -> dict[str, _Event]:
    """The first final event carrying a digest, by record."""
    finals: dict[str, _Event] = {}
    events = (
        AuditEvent.objects.filter(
            object_type=provider.object_type,
            action__in=(*provider.final_actions, ATTEST_ACTION),
            detail__has_key=DIGEST_KEY,
        )
        .order_by("seq")
        .values_list("seq", "pk", "object_id", "action", KT(f"detail__{DIGEST_KEY}"))
    )
    for seq, pk, object_id, action, digest in events.iterator(chunk_size=2000):
        finals.setdefault(object_id, (seq, pk, action, digest))
    return finals


def _digest_events(
    provider: RecordDigests, object_ids: Sequence[str], finals: Mapping[str, _Event]
) -> dict[str, _Marks]:
    """The final and the latest digest event of each of `object_ids` that has any."""
    events = (
        AuditEvent.objects.filter(
            object_type=provider.object_type,
            object_id__in=object_ids,
            action__in=(*provider.actions, ATTEST_ACTION),
            detail__has_key=DIGEST_KEY,
        )
        .order_by("seq")
        .values_list("seq", "pk", "object_id", "action", KT(f"detail__{DIGEST_KEY}"))
    )
    found: dict[str, _Marks] = {}
    for seq, pk, object_id, action, digest in events:
        mark = found.setdefault(object_id, _Marks(final=finals.get(object_id)))
        mark.latest = (seq, pk, action, digest)
    return found


def _mismatch(
    provider: RecordDigests, object_id: str, mark: _Marks, now: str | None
) -> RecordProblem | None:
    assert mark.latest is not None
    name = f"{provider.label} {object_id}"
    recorded = mark.final or mark.latest
    if now is None:
        seq, pk, action, _ = recorded
        return RecordProblem(
            seq, pk, f"{name} is gone: its rows were deleted after event seq {seq} ({action})"
        )
    for seq, pk, action, digest in filter(None, (mark.final, mark.latest)):
        if digest != now:
            return RecordProblem(
                seq,
                pk,
                f"{name} no longer matches the digest recorded by event seq {seq} ({action}): "
                "its rows were changed after that event",
            )
    return None


def attest_records(providers: Iterable[RecordDigests] | None = None) -> dict[str, int]:
    """Record an `audit.attest` event with the digest of every finished record that no event
    carries a digest of yet; return how many, by kind. Run once after upgrading (and by
    `make run`): it vouches for the rows as they are now, so run it before trusting them to
    anyone else."""
    # audit_record lives beside audit_verify, which imports this module.
    from screening.core.audit import audit_record

    attested: dict[str, int] = {}
    for provider in record_providers() if providers is None else providers:
        finals = _final_events(provider)
        missing = [key for key in provider.in_scope() if key not in finals]
        for batch in _batched(missing, BATCH):
            for object_id, digest in provider.digests(batch).items():
                audit_record(
                    actor=None,
                    action=ATTEST_ACTION,
                    object_type=provider.object_type,
                    object_id=object_id,
                    detail={"record": provider.label, DIGEST_KEY: digest},
                )
        attested[provider.label] = len(missing)
    return attested
