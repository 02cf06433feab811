"""A user's API tokens stop working when their password changes or the account is deactivated:
whoever holds a copy of a token kept it through the change that was meant to lock them out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.dispatch import receiver

from screening.api.models import ApiToken
from screening.api.services import api_tokens_revoke_all
from screening.core.accounts import account_changed


@receiver(account_changed, dispatch_uid="screening.api.revoke_tokens_on_account_change")
def revoke_tokens_on_account_change(
    sender: Any, user: User, changes: frozenset[str], actor: User | None, **kwargs: Any
) -> None:
    if "is_active" in changes and not user.is_active:
        api_tokens_revoke_all(user=user, reason=ApiToken.Revoked.DEACTIVATED, actor=actor)
    elif "password" in changes:
        api_tokens_revoke_all(user=user, reason=ApiToken.Revoked.PASSWORD_CHANGED, actor=actor)
