"""System checks that make production configuration mistakes fail loudly."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from screening.core.checkpoints import CheckpointError, checkpoints_configured, signing_key


@register()
def secret_key_required(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        configured = bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key: that is our answer
        configured = False
    if configured:
        return []
    return [
        Error(
            "SECRET_KEY is not set.",
            hint="Set the SECRET_KEY environment variable (required when DEBUG is off).",
            id="screening.E001",
        )
    ]


@register(deploy=True)
def audit_anchors_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Production keeps signed checkpoints of the audit trail outside the database."""
    problems: list[CheckMessage] = []
    if not checkpoints_configured():
        problems.append(
            Warning(
                "No audit signing key is configured: the audit trail gets no signed "
                "checkpoints, so whoever administers the database can rewrite it undetected.",
                hint="Set AUDIT_SIGNING_KEY_FILE (make the key with `manage.py audit_keygen`) on "
                "the app and worker hosts, never on the database server.",
                id="screening.W101",
            )
        )
    if not getattr(settings, "AUDIT_CHECKPOINT_FILE", ""):
        problems.append(
            Warning(
                "AUDIT_CHECKPOINT_FILE is not set: checkpoints stay in the database, where its "
                "administrator can rewrite them along with the trail.",
                hint="Point it at an append-only file on storage the database's administrators "
                "cannot write (see the README).",
                id="screening.W102",
            )
        )
    return problems


@register()
def audit_signing_key_usable(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A configured signing key that cannot be read stops checkpoints: say so at start-up."""
    try:
        signing_key()
    except CheckpointError as exc:
        return [
            Warning(
                f"Audit checkpoints cannot be signed: {exc}.",
                hint="`manage.py audit_keygen` creates the key where AUDIT_SIGNING_KEY_FILE says.",
                id="screening.W103",
            )
        ]
    return []
