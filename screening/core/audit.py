"""Writing and verifying the audit trail.

Every event stores the SHA-256 of its own canonical content and the hash of the event before it,
so changing, deleting or splicing in a row breaks the chain at that point. `AuditChainHead`
holds the last seq and hash, so deleting the newest events is detected too.

Writers take turns on the chain head: on PostgreSQL a row lock (SELECT … FOR UPDATE) on the
head, on SQLite the database write lock, taken by writing the head row before reading it. The
lock is held until the outermost transaction commits, so services should record their event as
the last step of their transaction, and a service made of other services records theirs together
at its end (`audit_together`).

The chain alone does not stop whoever administers the database from rewriting it and recomputing
every hash: signed checkpoints kept outside the database do (`screening.core.checkpoints`), and
`audit_verify` holds the chain against them. An append that crosses a multiple of
`AUDIT_CHECKPOINT_EVERY_EVENTS` queues a checkpoint for the worker once it commits.
"""

import datetime
import decimal
import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.functional import Promise

from screening.core.checkpoints import CheckpointError, CheckpointSource, Statement
from screening.core.models import GENESIS_HASH, AuditChainHead, AuditEvent
from screening.core.records import RecordCheck, check_records

logger = logging.getLogger(__name__)

ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
VERIFY_CHUNK_SIZE = 2000
#: The events held back by this thread's outermost `audit_together` block, if one is open.
_held_back: ContextVar[list[AuditEvent] | None] = ContextVar("audit_held_back", default=None)


@dataclass(frozen=True)
class Finding:
    """One problem `audit_verify` found. `seq` and `event_id` name the first event it concerns
    when it concerns one (`event_id` None: that event is missing)."""

    message: str
    seq: int | None = None
    event_id: int | None = None


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of `audit_verify`. When `ok` is false, `findings` lists every problem (the
    chain's first break, then the checkpoints', then each record that no longer matches) and
    the other fields name the first: `first_broken_id` is None when that event is missing (a
    deleted tail), and both seq and id are None when the problem is not an event's (the chain
    head row missing, a checkpoint line edited).

    `chain_broken` says whether the first problem is the chain's own (its walk stopped there).
    `checkpoints_checked` counts the trusted checkpoints the chain was held against, from
    `checkpoint_source`; `records_checked` and `records_uncovered` count, by kind, the finished
    records whose rows were compared with their digest events, and those that have none (they
    predate record digests). `notes` say what was not checked, and why.
    """

    ok: bool
    events_checked: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    chain_broken: bool = False
    checkpoints_checked: int = 0
    checkpoint_source: str = ""
    latest_checkpoint: Statement | None = None
    records_checked: Mapping[str, int] = field(default_factory=dict)
    records_uncovered: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    Call it inside the transaction that makes the change, so the change and its event commit or
    roll back together; it opens its own `transaction.atomic()` so it also works standalone.
    `actor` is None (or anonymous) for the system. `action` is a dotted code such as
    `auth.login`. `target` is the object acted on: the event names it by its
    `app_label.model` and its UUID (its primary key when it has none); `object_type` and
    `object_id` name it instead when there is no object at hand (a list, a failed login).
    `detail` is a readable snapshot: plain JSON
    plus datetimes, dates, UUIDs and Decimals, which are stored as strings. It must never carry
    patient data a reviewer of the audit trail should not see, nor secrets such as passwords.

    Raises ValueError for a malformed action and TypeError for a detail that is not JSON.
    """
    if not ACTION_PATTERN.fullmatch(action) or len(action) > 64:
        raise ValueError(
            f"audit action must be a short dotted code like auth.login, got {action!r}"
        )
    if target is not None:
        object_type, object_id = target_of(target)
    snapshot = _json_snapshot(dict(detail or {}), path="detail")
    user = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        actor_id=None if user is None else user.pk,
        actor_repr=user.get_username() if user is not None else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=snapshot,
    )
    held_back = _held_back.get()
    if held_back is None:
        _append([event])
    else:
        held_back.append(event)
    return event


def audit_view(
    actor: AbstractBaseUser | AnonymousUser, target: models.Model, *, page: str
) -> AuditEvent:
    """Record that `actor` looked at `target` (a patient, an intake, a screening): every look
    at patient data is an event, `<model>.view`, whose detail says which page or door showed it
    (`result`, `intake`, `api`, `fhir`, `review`, ...)."""
    return audit_record(
        actor=actor, action=f"{target._meta.model_name}.view", target=target, detail={"page": page}
    )


def target_of(target: models.Model) -> tuple[str, str]:
    """How events name `target`: `app_label.model` and its UUID (or primary key)."""
    key = getattr(target, "uuid", None) or target.pk
    return target._meta.label_lower, str(key)


@contextmanager
def audit_together() -> Iterator[None]:
    """Inside a transaction, hold back the events recorded in the block and append them to the
    chain together, in order, when it ends: the chain head is locked once, and last.

    For a service made of other services, which each record their event as their last step:
    without it the first one's event would hold the chain lock through the rest of the work.
    Events returned by `audit_record` inside the block get their seq and hash when it ends; if
    the block raises, none is written. A block inside another one leaves the writing to it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("audit_together() belongs inside transaction.atomic()")
    if _held_back.get() is not None:
        yield
        return
    events: list[AuditEvent] = []
    token = _held_back.set(events)
    try:
        yield
    finally:
        _held_back.reset(token)
    if events:
        _append(events)


def _append(events: list[AuditEvent]) -> None:
    """Link `events` to the end of the chain and store them, under the chain lock."""
    # No savepoint inside a caller's transaction: events that fail to write must take the
    # change down with them, and the savepoint would cost two round trips.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_postgresql(events)
            return
        head = _lock_chain_head()
        seq, prev_hash = _link(events, head.last_seq, head.last_hash)
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev_hash)
        _note_growth(head.last_seq, seq)


def _note_growth(before: int, after: int) -> None:
    """Queue a checkpoint once this transaction commits if the chain just crossed a multiple
    of `AUDIT_CHECKPOINT_EVERY_EVENTS` (0: never)."""
    every = getattr(settings, "AUDIT_CHECKPOINT_EVERY_EVENTS", 0)
    if every > 0 and after // every > before // every:
        transaction.on_commit(_checkpoint_due)


def _checkpoint_due() -> None:
    # The change has committed: a failure to queue the checkpoint must not turn it into an
    # error page. The periodic checkpoint comes anyway.
    try:
        from screening.core.tasks import checkpoint_soon

        checkpoint_soon()
    except Exception:
        logger.exception("could not queue an audit checkpoint")


def _link(events: list[AuditEvent], seq: int, prev_hash: str) -> tuple[int, str]:
    """Give `events` their seq, time and hashes after (`seq`, `prev_hash`); the new end."""
    for event in events:
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        # Read the clock under the lock, so on one clock timestamps follow seq order.
        event.occurred_at = timezone.now().astimezone(datetime.UTC)
        event.hash = prev_hash = event_hash(event)
    return seq, prev_hash


# Every change pays for its audit events, so on PostgreSQL they cost two statements of fixed
# text (prepared once per connection, never rebuilt by the ORM): lock and read the chain head,
# then insert the events and move the head in one data-modifying WITH.
_LOCK_HEAD_SQL = (
    'SELECT "last_seq", "last_hash" FROM "screening_auditchainhead" WHERE "id" = %s FOR UPDATE'
)
_STORE_SQL = """WITH head AS (
        UPDATE "screening_auditchainhead" SET "last_seq" = %s, "last_hash" = %s WHERE "id" = %s
    )
    INSERT INTO "screening_auditevent" (
        "seq", "occurred_at", "actor_id", "actor_repr", "action", "object_type", "object_id",
        "detail", "prev_hash", "hash"
    )
    SELECT * FROM unnest(
        %s::bigint[], %s::timestamptz[], %s::integer[], %s::text[], %s::text[], %s::text[],
        %s::text[], %s::jsonb[], %s::text[], %s::text[]
    )
    RETURNING "seq", "id"
"""


def _append_postgresql(events: list[AuditEvent]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_HEAD_SQL, [AuditChainHead.SINGLETON_ID])
        row = cursor.fetchone()
        if row is None:  # an emptied database (test runs, `flush`): create the head, then lock
            head = _lock_chain_head()
            row = (head.last_seq, head.last_hash)
        seq, prev_hash = _link(events, *row)
        _note_growth(row[0], seq)
        cursor.execute(
            _STORE_SQL,
            [
                seq,
                prev_hash,
                AuditChainHead.SINGLETON_ID,
                [event.seq for event in events],
                [event.occurred_at for event in events],
                [event.actor_id for event in events],
                [event.actor_repr for event in events],
                [event.action for event in events],
                [event.object_type for event in events],
                [event.object_id for event in events],
                [json.dumps(event.detail) for event in events],
                [event.prev_hash for event in events],
                [event.hash for event in events],
            ],
        )
        ids = dict(cursor.fetchall())
    for event in events:
        event.pk, event._state.adding = ids[event.seq], False


def audit_verify(
    *,
    chunk_size: int = VERIFY_CHUNK_SIZE,
    checkpoints: CheckpointSource | None = None,
    records: bool = True,
) -> AuditVerification:
    """Walk the whole chain in seq order, hold it against the signed checkpoints, and compare
    every finished clinical record with its digest events; report every problem found.

    Checks, for each event: seq follows the previous one (nothing deleted or spliced in), its
    content still hashes to its stored hash (not changed), its prev_hash is the previous
    event's hash (not forged), and its hash is the head of every checkpoint taken at its seq
    (not rewritten with recomputed hashes); then that the chain head names the last event and
    that the chain is at least as long as every checkpoint (no tail deleted, no truncation).
    The checkpoints themselves must carry good signatures, numbered without gaps, each linked
    to the one before (see `CheckpointSource.load`). Rows are streamed `chunk_size` at a time,
    so memory stays flat however long the trail is.

    `checkpoints` says where the checkpoints are and which public keys verify them (default:
    the settings). No signing key is needed. With `records`, the digests of signed screenings
    and published rule sets are recomputed from their rows (`screening.core.records`).

    Outside a transaction the walk runs in one read-only snapshot, so events committed while it
    runs are neither half-seen nor mistaken for tampering.
    """
    notes: list[str] = []
    findings: list[Finding] = []
    # Only the statement that opens a transaction may set its isolation level.
    starts_transaction = connection.get_autocommit()
    with transaction.atomic():
        if starts_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            loaded = (checkpoints or CheckpointSource.from_settings()).load()
        except (CheckpointError, OSError, ValueError) as exc:
            findings.append(Finding(f"the checkpoints could not be checked: {exc}"))
            loaded = None
        statements = loaded.statements if loaded else []
        checked, chain_break = _walk_chain(chunk_size, statements)
        record_check = check_records() if records else RecordCheck()
    if chain_break is not None:
        findings.insert(0, chain_break)
    if loaded is not None:
        findings.extend(Finding(problem.message) for problem in loaded.problems)
        notes.extend(loaded.notes)
    findings.extend(
        Finding(problem.message, problem.seq, problem.event_id) for problem in record_check.problems
    )
    for label, count in record_check.uncovered.items():
        if count:
            plural = "s have" if count != 1 else " has"
            notes.append(
                f"{count} {label}{plural} no event carrying a digest (finished before record "
                "digests existed, or their events are gone) and could not be compared with the "
                "chain: `manage.py audit_attest` records the digests of those that predate them"
            )
    first = findings[0] if findings else Finding("")
    return AuditVerification(
        ok=not findings,
        events_checked=checked,
        first_broken_seq=first.seq,
        first_broken_id=first.event_id,
        reason=first.message,
        findings=tuple(findings),
        chain_broken=chain_break is not None,
        checkpoints_checked=len(statements),
        checkpoint_source=loaded.source if loaded else "",
        latest_checkpoint=statements[-1] if statements else None,
        records_checked=record_check.checked,
        records_uncovered=record_check.uncovered,
        notes=tuple(notes),
    )


def event_hash(event: AuditEvent) -> str:
    """The SHA-256 (hex) of an event's canonical content, including its seq and prev_hash.

    Canonical means JSON with sorted keys, no insignificant whitespace and UTF-8, so the same
    content always hashes the same whether it was just built or read back from PostgreSQL
    (whose jsonb reorders keys) or SQLite.
    """
    content = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(
            timespec="microseconds"
        ),
        "actor_id": None if event.actor_id is None else str(event.actor_id),
        "actor_repr": event.actor_repr,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain_head() -> AuditChainHead:
    """Make sure the head row exists, then lock and return it.

    On SQLite the insert comes first on purpose: a write statement takes the database write
    lock, so a second writer waits here instead of reading a head that is about to change. On
    PostgreSQL, FOR UPDATE makes a second writer wait for the first to commit and then read the
    head the first one wrote, so the insert is only needed when the row is missing. (The row is
    created lazily because test runs and `flush` empty every table.)
    """
    heads = AuditChainHead.objects.select_for_update().filter(pk=AuditChainHead.SINGLETON_ID)
    if connection.vendor == "postgresql":
        head = heads.first()
        if head is not None:
            return head
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(pk=AuditChainHead.SINGLETON_ID)], ignore_conflicts=True
    )
    return heads.get()


def _walk_chain(chunk_size: int, statements: list[Statement]) -> tuple[int, Finding | None]:
    """How many events verify before the first break, and the break (None: no break)."""
    signed: dict[int, list[Statement]] = {}
    for statement in statements:
        signed.setdefault(statement.seq, []).append(statement)
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    confirmed = 0  # the last seq a checkpoint confirmed
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        reason = _break_in(event, expected_seq=expected_seq, prev_hash=prev_hash)
        if reason:
            return checked, Finding(reason, event.seq, event.pk)
        for statement in signed.get(event.seq, ()):
            if statement.head != event.hash:
                # Only the events up to the last confirmed checkpoint can be vouched for.
                return confirmed, _rewritten(statement, event, confirmed)
            confirmed = event.seq
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    problem = _check_head(last_seq=last_seq, last_hash=prev_hash)
    if problem is None and statements:
        longest = max(statements, key=lambda statement: statement.seq)
        if longest.seq > last_seq:
            problem = _shortened(longest, last_seq)
    return checked, problem


def _rewritten(statement: Statement, event: AuditEvent, confirmed: int) -> Finding:
    """The chain disagrees with checkpoint `statement` at `event`: somewhere after the last
    confirmed seq, an event was changed and every later hash recomputed."""
    first = confirmed + 1
    where = f"seq {first}" if first == event.seq else f"seq {first} to {event.seq}"
    return _broken(
        first,
        f"checkpoint #{statement.number}, signed {statement.at}, has event {event.seq} "
        f"hashing to {statement.head[:16]}…, but the database's event {event.seq} hashes to "
        f"{event.hash[:16]}…: the trail was rewritten at {where} (after seq {confirmed}, the "
        "last a checkpoint confirms) and the later hashes recomputed",
    )


def _shortened(statement: Statement, last_seq: int) -> Finding:
    if last_seq == 0:
        what = "the trail is empty"
        how = "every event was deleted (or the table truncated) and the chain head reset"
    else:
        what = f"the trail ends at seq {last_seq}"
        gone = (
            f"event {statement.seq} was"
            if statement.seq == last_seq + 1
            else f"events {last_seq + 1} to {statement.seq} were"
        )
        how = f"{gone} deleted and the chain head moved back"
    return Finding(
        f"{what}, but checkpoint #{statement.number}, signed {statement.at}, has "
        f"{statement.seq} events: {how}",
        last_seq + 1,
        None,
    )


def _break_in(event: AuditEvent, *, expected_seq: int, prev_hash: str) -> str:
    """Why `event` does not continue the chain, or "" when it does."""
    if event.seq != expected_seq:
        return (
            f"expected seq {expected_seq} but found seq {event.seq}: "
            f"event {expected_seq} was deleted, or this event was inserted out of order"
        )
    if event_hash(event) != event.hash:
        return "its content no longer matches its stored hash: the row was changed"
    if event.prev_hash != prev_hash:
        return (
            f"its prev_hash does not match the hash of event {expected_seq - 1}: "
            "this event was forged, or the event before it was replaced"
        )
    return ""


def _check_head(*, last_seq: int, last_hash: str) -> Finding | None:
    """Why the chain head does not name the last event the walk reached, or None."""
    head = AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_ID).first()
    if head is None:
        if last_seq == 0:
            return None
        return Finding(f"the chain head row is missing but {last_seq} events exist")
    if head.last_seq > last_seq:
        return _broken(
            last_seq + 1,
            f"the chain head says the last event is seq {head.last_seq}, but the trail ends at "
            f"seq {last_seq}: events after seq {last_seq} were deleted",
        )
    if head.last_seq < last_seq:
        return _broken(
            head.last_seq + 1,
            f"the chain head says the last event is seq {head.last_seq}, but the trail continues "
            f"to seq {last_seq}: events were added without going through audit_record",
        )
    if head.last_hash != last_hash:
        return _broken(
            last_seq,
            "the chain head's hash does not match the last event: the event was replaced",
        )
    return None


def _broken(seq: int, reason: str) -> Finding:
    """A break at `seq`, naming the event's id when that row exists."""
    event_id = AuditEvent.objects.filter(seq=seq).values_list("pk", flat=True).first()
    return Finding(reason, seq, event_id)


def _json_snapshot(value: Any, *, path: str) -> Any:
    """`value` as plain JSON data that reads back from the database exactly as it is now.

    The stored detail and the hashed detail must be identical after a round trip through
    PostgreSQL jsonb, which keeps numbers as `numeric`: floats of 1e16 and above come back as
    integers and -0.0 comes back as 0, so they are normalised here to what will be read back.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _jsonb_float(value, path=path)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"audit {path} keys must be strings, got {key!r}")
        return {key: _json_snapshot(item, path=f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_snapshot(item, path=f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal | Promise):
        return str(value)
    raise TypeError(f"audit {path} is a {type(value).__name__}, which is not JSON-serialisable")


def _jsonb_float(value: float, *, path: str) -> float | int:
    if not math.isfinite(value):
        raise TypeError(f"audit {path} is {value!r}, which JSON cannot represent")
    if value == 0:
        return 0.0
    text = repr(value)
    if "e+" in text:
        return int(decimal.Decimal(text))
    return value
