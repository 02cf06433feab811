"""System checks that make production configuration mistakes fail loudly."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from screening.core.checkpoints import CheckpointError, checkpoints_configured, signing_key
from screening.core.clientip import trusted_proxies


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


@register()
def trusted_proxies_valid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """TRUSTED_PROXIES must be addresses or networks: a typo would silently trust nobody (or,
    worse, be read differently than meant), so it stops the start-up."""
    try:
        trusted_proxies(tuple(settings.TRUSTED_PROXIES))
    except ValueError as error:
        return [
            Error(
                str(error),
                hint="List the reverse proxies' addresses or networks, comma-separated, e.g. "
                "TRUSTED_PROXIES=10.0.0.5,10.1.0.0/16.",
                id="screening.E110",
            )
        ]
    return []


@register(deploy=True)
def proxy_addresses_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Behind a TLS proxy with no trusted proxies, every client has the proxy's address: sign-in
    lock-out then counts everyone together and the audit trail names the proxy."""
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXIES:
        return [
            Warning(
                "BEHIND_TLS_PROXY is on but TRUSTED_PROXIES is empty: sign-in lock-out and the "
                "audit trail see the proxy's address for every client, so five bad passwords "
                "from anyone lock a user out for everyone.",
                hint="Set TRUSTED_PROXIES to the proxy's address (and have it append the "
                "client's address to X-Forwarded-For).",
                id="screening.W110",
            )
        ]
    return []
