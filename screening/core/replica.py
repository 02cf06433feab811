"""Reads that may come from a streaming replica of the database (`DATABASE_REPLICA_URL`).

Only reads marked for it go to the replica: views decorated `@reads_from_replica` (the
reviewer's list and CSV export, rule analytics) and code inside `replica_reads()` (the past
screenings an impact preview scans). Everything else — every write, every clinician page, the
audit verification, anything inside a transaction — uses the primary (`default`).

Read-your-writes: after a request that stored something, the primary's WAL position is kept in
the session; a marked read uses the replica only once it has replayed that far, else the
primary. It also falls back to the primary when the replica lags more than
`DATABASE_REPLICA_MAX_LAG` seconds behind what it has received, or cannot be reached. Without a
replica configured nothing here runs a query.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

logger = logging.getLogger("screening.replica")

REPLICA = "replica"
SESSION_KEY = "_primary_lsn"

_reading_from_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "reading_from_replica", default=False
)


def configured() -> bool:
    """Whether DATABASE_REPLICA_URL names a replica (settings then define its connection)."""
    return bool(getattr(settings, "DATABASE_REPLICA_URL", ""))


class ReplicaRouter:
    """Marked reads to the replica; all else, and all writes and migrations, on the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if (
            _reading_from_replica.get()
            and configured()
            and not connections["default"].in_atomic_block  # a write's reads stay with it
        ):
            return REPLICA
        return None

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def replica_fresh(primary_lsn: str | None) -> bool:
    """Whether the replica has replayed `primary_lsn` (if given) and lags no more than the
    allowed seconds; False when it cannot be asked."""
    if not configured() or transaction.get_connection().in_atomic_block:
        return False
    max_lag = getattr(settings, "DATABASE_REPLICA_MAX_LAG", 30)
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery()"
                " AND (%s::pg_lsn IS NULL OR pg_last_wal_replay_lsn() >= %s::pg_lsn)"
                " AND (pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
                "      OR now() - pg_last_xact_replay_timestamp() <= make_interval(secs => %s))",
                [primary_lsn, primary_lsn, max_lag],
            )
            row = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("replica unavailable (%s): reading from the primary", type(error).__name__)
        connections[REPLICA].close()
        return False
    return bool(row and row[0])


@contextlib.contextmanager
def replica_reads(primary_lsn: str | None = None) -> Iterator[bool]:
    """Route reads in the block to the replica when it is fresh enough; yields whether."""
    use = replica_fresh(primary_lsn)
    token = _reading_from_replica.set(use)
    try:
        yield use
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a read-only view whose reads may come from the replica (a streamed response's
    rows too). Its user's own writes are seen (see module doc)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not configured():
            plain: HttpResponseBase = view(request, *args, **kwargs)
            return plain
        lsn = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        with replica_reads(lsn) as use:
            response: HttpResponseBase = view(request, *args, **kwargs)
        response["X-Read-From"] = REPLICA if use else "primary"
        if use and isinstance(response, StreamingHttpResponse):
            response.streaming_content = _on_replica(response.streaming_content)
        return response

    return wrapper


def _on_replica(chunks: Any) -> Iterator[Any]:
    token = _reading_from_replica.set(True)
    try:
        yield from chunks
    finally:
        _reading_from_replica.reset(token)


class ReadYourWritesMiddleware:
    """After a request that stored something, keep the primary's WAL position in the session
    (only with a replica configured). Belongs after SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        writes = getattr(request, "_database_writes", None)
        if configured() and writes is not None and writes.committed:
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_current_wal_lsn()::text")
                    row = cursor.fetchone()
            except DatabaseError:
                return response  # the outage middleware has answered; nothing to remember
            if row is not None:
                request.session[SESSION_KEY] = row[0]
        return response
