"""Creating and revoking API tokens; each change writes its audit event in the same transaction."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from screening.api.models import ApiToken, token_hash
from screening.core.audit import audit_record
from screening.core.errors import InputInvalid, LockedError, PermissionDenied

#: Marks a string as one of our tokens (secret scanners and people recognise it).
TOKEN_MARK = "kst_"  # noqa: S105  (a public prefix, not a secret)


def api_token_create(
    *, user: User, name: str, lifetime_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` that expires after `lifetime_days` (default
    `API_TOKEN_LIFETIME_DAYS`, at most `API_TOKEN_MAX_LIFETIME_DAYS`); returns the row and the
    token, which is never shown again."""
    days = settings.API_TOKEN_LIFETIME_DAYS if lifetime_days is None else lifetime_days
    if not 1 <= days <= settings.API_TOKEN_MAX_LIFETIME_DAYS:
        raise InputInvalid.one(
            "lifetime_days",
            f"A token lives between 1 and {settings.API_TOKEN_MAX_LIFETIME_DAYS} days.",
        )
    token = TOKEN_MARK + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=token[: ApiToken.PREFIX_LENGTH],
            key_hash=token_hash(token),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            actor=user,
            action="api_token.create",
            target=row,
            detail={"name": row.name, "prefix": row.prefix, "expires_at": row.expires_at},
        )
    return row, token


def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    """Revoke one of `user`'s own tokens; it stops working at once."""
    if token.user_id != user.pk:
        raise PermissionDenied("You can revoke only your own tokens.")
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
            revoked_at=timezone.now(), revoked_reason=ApiToken.Revoked.BY_OWNER
        )
        if not revoked:
            raise LockedError("This token was already revoked.")
        token.refresh_from_db()
        audit_record(
            actor=user,
            action="api_token.revoke",
            target=token,
            detail={"name": token.name, "prefix": token.prefix},
        )
    return token


def api_tokens_revoke_all(
    *, user: User, reason: ApiToken.Revoked, actor: User | None
) -> list[ApiToken]:
    """Revoke every token of `user` that still works (their password changed, or the account was
    deactivated); one audit event per token, in the caller's transaction."""
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update().filter(
                user=user, revoked_at=None, expires_at__gt=timezone.now()
            )
        )
        now = timezone.now()
        for token in tokens:
            token.revoked_at = now
            token.revoked_reason = reason
            token.save(update_fields=["revoked_at", "revoked_reason"])
            audit_record(
                actor=actor,
                action="api_token.revoke",
                target=token,
                detail={"name": token.name, "prefix": token.prefix, "reason": reason.value},
            )
    return tokens


def api_token_user(token: str) -> User | None:
    """The active user an unrevoked, unexpired token belongs to (and note its use), or None."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=token_hash(token),
            revoked_at=None,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    if row is None:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
