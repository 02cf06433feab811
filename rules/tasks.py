"""Background work of the rules app, run through Django's Tasks API.

Tasks are queued on the backend the settings choose (`screening.core.queue`: the database, in
the same transaction as the row they work on, or Redis, after its commit) and executed by that
backend's workers.
"""

from __future__ import annotations

from django_tasks import task

from rules.impact import impact_preview_execute


@task()
def impact_preview_run(preview_uuid: str) -> dict[str, int]:
    """Re-evaluate every past screening under a draft for the impact preview `preview_uuid`."""
    return impact_preview_execute(preview_uuid=preview_uuid)


@task()
def rule_set_publish_due(version_uuid: str) -> str:
    """Publish the approved draft `version_uuid` once its effective time has come."""
    from rules.services import rule_set_publish_scheduled  # services queue this task

    return rule_set_publish_scheduled(version_uuid=version_uuid)
