"""The background tasks on both queues the settings offer: the database (`django_tasks_db`, the
default) and RQ on Redis (`django_tasks_rq`, TASKS_BACKEND=rq): queued by the services, run by
that queue's worker (`db_worker`, an RQ worker), never queued twice while one waits.

Redis runs on the CI machine (`.ci/run` starts it). These tests use a Redis database number of
their own, derived from the test database's name (parallel runs for other checkouts use other
names), and empty it before and after each test.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from rules.models import ImpactPreview
from rules.services import impact_preview_start
from screening.core.models import AuditCheckpoint, AuditEvent, SignInFailureTally
from screening.core.queue import waiting
from screening.core.tasks import (
    audit_checkpoint_after_events,
    audit_checkpoint_periodic,
    checkpoint_soon,
    schedule_sign_in_failure_summary,
    sign_in_failures_summarise,
)
from tests.rules.test_impact import draft, screenings  # noqa: F401  (fixtures)
from tests.screening.conftest import anchors  # noqa: F401  (fixture)
from tests.screening.test_audit_checkpoints import record

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


@dataclass
class Queue:
    name: str
    run_worker: Callable[[], None]


def _redis_database() -> int:
    """1-15, the same for one test database name: runs for other checkouts seldom share it."""
    return zlib.crc32(connection.settings_dict["NAME"].encode()) % 15 + 1


@pytest.fixture(params=["database", "rq"])
def queue(request, settings, monkeypatch) -> Iterator[Queue]:
    if request.param == "database":
        # The worker drops connections whose autocommit state differs from the settings'
        # between tasks; inside this test's transaction that would close it under the test.
        monkeypatch.setattr(
            "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
        )
        yield Queue(
            "database",
            lambda: call_command(
                "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0
            ),
        )
        return

    import django_rq
    from django_tasks_rq.backend import Job
    from rq.worker import SimpleWorker

    settings.RQ_QUEUES = {
        "default": {"URL": f"{REDIS}/{_redis_database()}", "DEFAULT_TIMEOUT": 600}
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    redis = django_rq.get_connection("default")
    redis.flushdb()

    def work() -> None:
        # In this process and thread, so it sees the test's uncommitted rows.
        worker = SimpleWorker(
            [django_rq.get_queue("default", job_class=Job)], connection=redis, job_class=Job
        )
        worker.work(burst=True)

    yield Queue("rq", work)
    redis.flushdb()


def test_an_impact_preview_is_queued_and_run_by_the_worker(
    queue,
    screenings,  # noqa: F811  (the imported fixture)
    draft,  # noqa: F811
    rule_admin,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        preview = impact_preview_start(draft=draft, user=rule_admin)
    preview.refresh_from_db()
    assert preview.task_id, "the task's id is remembered"
    assert preview.status == ImpactPreview.Status.QUEUED

    queue.run_worker()

    preview.refresh_from_db()
    assert preview.status == ImpactPreview.Status.DONE
    assert (preview.changed_disposition, preview.changed_flags) == (1, 2)


def test_on_redis_a_preview_is_pushed_only_once_its_row_is_committed(
    queue,
    screenings,  # noqa: F811  (the imported fixture)
    draft,  # noqa: F811
    rule_admin,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        impact_preview_start(draft=draft, user=rule_admin)
    assert len(after_commit) == (1 if queue.name == "rq" else 0)


def test_audit_checkpoints_are_written_by_the_worker_and_never_queued_twice(
    queue,
    anchors,  # noqa: F811  (the imported fixture)
    settings,
):
    record(3)
    checkpoint_soon()
    checkpoint_soon()
    assert waiting(audit_checkpoint_after_events)
    assert waiting(audit_checkpoint_periodic), "the periodic checkpoint is scheduled"

    queue.run_worker()

    [checkpoint] = AuditCheckpoint.objects.all()
    assert checkpoint.seq == 3
    assert not waiting(audit_checkpoint_after_events)
    # The periodic run waits for its time; scheduling it again adds nothing.
    assert waiting(audit_checkpoint_periodic)
    checkpoint_soon()
    assert AuditCheckpoint.objects.count() == 1


def test_failed_sign_ins_are_summarised_by_the_worker_and_scheduled_once(queue):
    SignInFailureTally.objects.create(
        address="203.0.113.7",
        reason="unknown_account",
        failures=4,
        window_start=timezone.now() - timedelta(hours=2),
        last_at=timezone.now() - timedelta(hours=1, minutes=30),
    )
    later = timezone.now() + timedelta(minutes=30)
    assert schedule_sign_in_failure_summary(later)
    assert not schedule_sign_in_failure_summary(later), "one run waits at a time"

    sign_in_failures_summarise.enqueue()
    queue.run_worker()

    [summary] = AuditEvent.objects.filter(action="auth.login_failed_summary")
    assert summary.detail["failures"] == 4
