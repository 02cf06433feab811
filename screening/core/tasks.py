"""Background work of the platform: signing audit checkpoints, through Django's Tasks API.

Run by the queue's workers (`manage.py db_worker`, or `rqworker` on Redis: `screening.core.queue`),
never by a thread of the web process. Two checkpoint tasks:

- `audit_checkpoint_periodic` writes a checkpoint when the chain grew since the last one, then
  queues itself again `AUDIT_CHECKPOINT_INTERVAL` later (default 5 minutes). At most one run
  waits at a time. `manage.py audit_checkpoint --schedule` (run by `make run`, and by a deploy)
  starts it; so does the first checkpoint queued after N events.
- `audit_checkpoint_after_events` is queued, after the commit, by the append that crosses a
  multiple of `AUDIT_CHECKPOINT_EVERY_EVENTS` (default 1000), unless one is already waiting.

and `sign_in_failures_summarise`, queued for the end of the hour by the first repeatable failed
sign-in of that hour (`screening.core.signals`), which turns each hour's tally into one event.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from screening.core.audit import audit_record
from screening.core.checkpoints import audit_checkpoint, checkpoints_configured
from screening.core.models import AuditCheckpoint, SignInFailureTally
from screening.core.queue import waiting

logger = logging.getLogger(__name__)

#: Queuing checkpoint tasks takes turns on this advisory lock (not the writers' one, so a
#: request that queues a task never waits for a checkpoint being signed and timestamped).
SCHEDULE_LOCK = 0x5C7EE1_A0D2


@task()
def audit_checkpoint_periodic() -> dict[str, Any] | None:
    """Write a checkpoint if the chain grew since the last one; queue the next run."""
    try:
        return _summary(audit_checkpoint(only_if_changed=True))
    finally:
        schedule_periodic_checkpoints()


@task()
def audit_checkpoint_after_events() -> dict[str, Any] | None:
    """Write a checkpoint now: N more events were appended."""
    return _summary(audit_checkpoint(only_if_changed=True))


def schedule_periodic_checkpoints(*, delay: datetime.timedelta | None = None) -> bool:
    """Queue `audit_checkpoint_periodic` to run after `delay` (default the interval) unless a
    run of it is already waiting; return whether this queued one."""
    backend = audit_checkpoint_periodic.get_backend()
    if not backend.supports_defer:  # an immediate backend would run it now, and again, forever
        return False
    interval = getattr(settings, "AUDIT_CHECKPOINT_INTERVAL", datetime.timedelta(minutes=5))
    with transaction.atomic():
        _lock_schedule()
        if waiting(audit_checkpoint_periodic):
            return False
        run_after = timezone.now() + (interval if delay is None else delay)
        audit_checkpoint_periodic.using(run_after=run_after).enqueue()
    return True


def checkpoint_soon() -> None:
    """Queue a checkpoint for the worker, unless one is already waiting, and make sure the
    periodic checkpoints are scheduled. Does nothing when no signing key is configured."""
    if not checkpoints_configured():
        return
    with transaction.atomic():
        _lock_schedule()
        if not waiting(audit_checkpoint_after_events):
            audit_checkpoint_after_events.enqueue()
    schedule_periodic_checkpoints()


#: Repeatable failed sign-ins are counted per address over this window, then summarised.
SIGN_IN_FAILURE_WINDOW = datetime.timedelta(hours=1)
#: Summarised tallies are deleted this long after their summary (their events stay).
SIGN_IN_TALLY_KEEP = datetime.timedelta(days=7)


@task()
def sign_in_failures_summarise() -> dict[str, int]:
    """Append one `auth.login_failed_summary` event for each finished hour's tally of repeated
    failed sign-ins (when there was more than the first, which is audited on its own), mark them
    summarised, and delete tallies summarised more than a week ago."""
    now = timezone.now()
    summarised = 0
    with transaction.atomic():
        finished = SignInFailureTally.objects.select_for_update(skip_locked=True).filter(
            summarised_at=None, window_start__lte=now - SIGN_IN_FAILURE_WINDOW
        )
        for tally in finished.order_by("window_start", "pk"):
            if tally.failures > 1:
                audit_record(
                    actor=None,
                    action="auth.login_failed_summary",
                    object_type="auth.user" if tally.account else "",
                    object_id=tally.account,
                    detail={
                        "ip": tally.address or None,
                        "reason": tally.reason,
                        "failures": tally.failures,
                        "from": tally.window_start,
                        "until": tally.window_start + SIGN_IN_FAILURE_WINDOW,
                        "last_at": tally.last_at,
                    },
                )
                summarised += 1
            tally.summarised_at = now
            tally.save(update_fields=["summarised_at"])
        deleted, _ = SignInFailureTally.objects.filter(
            summarised_at__lt=now - SIGN_IN_TALLY_KEEP
        ).delete()
    return {"summarised": summarised, "deleted": deleted}


def schedule_sign_in_failure_summary(run_after: datetime.datetime) -> bool:
    """Queue `sign_in_failures_summarise` for when an hour's tally is finished, unless a run is
    already waiting (that run summarises every finished tally; a later hour queues again)."""
    backend = sign_in_failures_summarise.get_backend()
    if not backend.supports_defer:
        return False
    with transaction.atomic():
        _lock_schedule()
        if waiting(sign_in_failures_summarise):
            return False
        sign_in_failures_summarise.using(
            run_after=run_after + datetime.timedelta(seconds=1)
        ).enqueue()
    return True


def _lock_schedule() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK])


def _summary(checkpoint: AuditCheckpoint | None) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    return {"number": checkpoint.number, "seq": checkpoint.seq}
