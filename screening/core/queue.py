"""The task queue, on either backend the settings choose (`TASKS_BACKEND`).

- `database` (default, zero setup): `django_tasks_db`, tasks are rows of the application's
  database, run by `manage.py db_worker`. A task queued inside a transaction is committed (or
  rolled back) with it.
- `rq`: `django_tasks_rq`, RQ on Redis (`REDIS_URL`), run by `manage.py rqworker default
  --with-scheduler`. Redis is not in the transaction, so a task that needs the rows written with
  it is pushed after the commit (`enqueue_after_commit`).

`waiting` answers "is a run of this task queued and not started?" on both, so a task that
reschedules itself (the periodic audit checkpoint) is never queued twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks.base import Task, TaskResult


def in_database(task: Task[Any, Any]) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_after_commit(
    task: Task[Any, Any],
    *args: Any,
    then: Callable[[TaskResult[Any]], None] | None = None,
) -> None:
    """Queue `task(*args)` so that a worker never runs it before the caller's transaction is
    committed: in that transaction with the database backend, just after the commit with
    another. `then(result)` runs once it is queued (to remember the task's id)."""

    def push() -> None:
        result = task.enqueue(*args)
        if then is not None:
            then(result)

    if in_database(task):
        push()
    else:
        transaction.on_commit(push)


def waiting(task: Task[Any, Any]) -> bool:
    """Whether a run of `task` is queued or scheduled and has not started."""
    if in_database(task):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(
            task_path=task.module_path, status=TaskResultStatus.READY
        ).exists()
    backend = task.get_backend()
    if type(backend).__module__.startswith("django_tasks_rq"):
        return _waiting_in_rq(task)
    return False


def _waiting_in_rq(task: Task[Any, Any]) -> bool:
    import django_rq
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    queue = django_rq.get_queue(task.queue_name)
    ids = [*queue.get_job_ids(), *ScheduledJobRegistry(queue=queue).get_job_ids()]  # type: ignore[no-untyped-call]
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is not None and job.func_name == task.module_path:
            return True
    return False
