"""What accounts do when things happen elsewhere: second factors added, removed or used go into
the audit trail, a wrong code counts as a failed sign-in (`forms.SecondFactorForm`), and an
account deactivated or given a new password loses its signed-in sessions (its API tokens are
revoked by the API's own receiver of the same signal)."""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from screening.accounts import sessions
from screening.accounts.policy import second_factor_required
from screening.core.accounts import account_changed, acting_request
from screening.core.audit import audit_record


def _audit_authenticator(action: str, user: Any, authenticator: Authenticator | None) -> None:
    audit_record(
        actor=user,
        action=action,
        target=user,
        detail={
            "username": user.get_username(),
            "factor": authenticator.type if authenticator is not None else None,
        },
    )


@receiver(mfa_signals.authenticator_added, dispatch_uid="screening.accounts.mfa_added")
def _mfa_added(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    _audit_authenticator("auth.mfa_add", user, authenticator)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="screening.accounts.mfa_removed")
def _mfa_removed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any
) -> None:
    _audit_authenticator("auth.mfa_remove", user, authenticator)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="screening.accounts.mfa_reset")
def _mfa_reset(sender: Any, request: HttpRequest, user: Any, authenticator: Any, **kw: Any) -> None:
    _audit_authenticator("auth.mfa_recovery_codes_replace", user, authenticator)


@receiver(user_logged_in, dispatch_uid="screening.accounts.signed_in")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sessions.mark_signed_in(request)
    # In development (`make run`) nobody is forced: the demo users are offered a second factor.
    if (
        settings.DEBUG
        and not second_factor_required(user)
        and not Authenticator.objects.filter(user=user).exists()
        and hasattr(request, "_messages")
    ):
        messages.info(
            request,
            "You can protect your account with a second factor (an authenticator app or a"
            " security key): Account security, at /accounts/2fa/.",
        )


@receiver(account_changed, dispatch_uid="screening.accounts.end_sessions")
def _end_sessions_on_account_change(
    sender: Any, user: Any, changes: frozenset[str], **kwargs: Any
) -> None:
    if "is_active" in changes and not user.is_active:
        sessions.end_all(user)
    elif "password" in changes:
        request = acting_request()
        keep = None
        if request is not None and getattr(request, "user", None) == user:
            keep = request.session.session_key
        sessions.end_all(user, except_key=keep)
