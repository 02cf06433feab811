"""Creating and revoking API tokens; each change writes its audit event in the same transaction."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from screening.api.models import ApiToken, token_hash
from screening.core.audit import audit_record
from screening.core.errors import LockedError, PermissionDenied

#: Marks a string as one of our tokens (secret scanners and people recognise it).
TOKEN_MARK = "kst_"  # noqa: S105  (a public prefix, not a secret)


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the token, which is never shown again."""
    token = TOKEN_MARK + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=token[: ApiToken.PREFIX_LENGTH],
            key_hash=token_hash(token),
        )
        audit_record(
            actor=user,
            action="api_token.create",
            target=row,
            detail={"name": row.name, "prefix": row.prefix},
        )
    return row, token


def api_token_revoke(*, token: ApiToken, user: User) -> ApiToken:
    """Revoke one of `user`'s own tokens; it stops working at once."""
    if token.user_id != user.pk:
        raise PermissionDenied("You can revoke only your own tokens.")
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
            revoked_at=timezone.now()
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


def api_token_user(token: str) -> User | None:
    """The active user an unrevoked token belongs to (and note its use), or None."""
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(token), revoked_at=None, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user
