"""Logins, logouts and failed logins go into the audit trail.

Failed logins record the attempted username only when it names an existing account: then it is
a staff account name, not patient data. Failures anyone can repeat for free (a username that
names no account, a sign-in refused while locked out) are audited once per address and hour and
counted in between (`SignInFailureTally`), so an outsider cannot grow the permanent trail
without bound; the hour's count is appended as `auth.login_failed_summary`. Whatever else was typed into the username box (often a
password typed one field too early) is never stored, and neither is the password, since the
audit trail can never be cleaned. The client address is the connection's own address, or
behind a proxy listed in TRUSTED_PROXIES the client it forwarded (`screening.core.clientip`);
otherwise X-Forwarded-For is ignored, because any client can write it, which would let an
attacker choose what the trail says.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from screening.core.audit import audit_record
from screening.core.clientip import client_ip as _client_ip
from screening.core.models import SignInFailureTally
from screening.core.tasks import SIGN_IN_FAILURE_WINDOW, schedule_sign_in_failure_summary

USER_OBJECT_TYPE = "auth.user"


@receiver(user_logged_in, dispatch_uid="screening.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(
        actor=user,
        action="auth.login",
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        detail={"ip": _client_ip(request)},
    )


@receiver(user_logged_out, dispatch_uid="screening.audit_logout")
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Django also sends this for a visitor who was not logged in (user None): nothing happened.
    if user is None:
        return
    audit_record(
        actor=user,
        action="auth.logout",
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        detail={"ip": _client_ip(request)},
    )


@receiver(user_login_failed, dispatch_uid="screening.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    user_model = get_user_model()
    attempted = credentials.get(user_model.USERNAME_FIELD)
    account_pk = None
    if isinstance(attempted, str) and attempted:
        account_pk = (
            user_model._default_manager.filter(**{user_model.USERNAME_FIELD: attempted})
            .values_list("pk", flat=True)
            .first()
        )
    known = account_pk is not None
    ip = _client_ip(request)
    locked_out = bool(getattr(request, "axes_locked_out", False))
    if not known or locked_out:
        # Free to repeat: the first of the hour from this address is audited, the rest counted.
        reason = (
            SignInFailureTally.Reason.LOCKED_OUT
            if known
            else SignInFailureTally.Reason.UNKNOWN_ACCOUNT
        )
        if not count_repeatable_failure(ip, reason, str(account_pk) if known else ""):
            return
    audit_record(
        actor=None,
        action="auth.login_failed",
        object_type=USER_OBJECT_TYPE if known else "",
        object_id=str(account_pk) if known else "",
        detail={
            "username": attempted if known else None,
            "known_account": known,
            "ip": ip,
            **({"locked_out": True} if locked_out else {}),
            **(
                {"further_failures": "counted for the hour, then summarised"}
                if not known or locked_out
                else {}
            ),
        },
    )


def count_repeatable_failure(ip: str | None, reason: str, account: str) -> bool:
    """Count a failure in its address's tally for this hour; True when it is the hour's first
    (then it is audited on its own, and a summary of the hour is scheduled)."""
    now = timezone.now()
    window = now.replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        tally, created = SignInFailureTally.objects.select_for_update().get_or_create(
            address=ip or "",
            window_start=window,
            reason=reason,
            account=account,
            defaults={"last_at": now},
        )
        if not created:
            SignInFailureTally.objects.filter(pk=tally.pk).update(
                failures=F("failures") + 1, last_at=now
            )
            return False
        transaction.on_commit(
            lambda: schedule_sign_in_failure_summary(window + SIGN_IN_FAILURE_WINDOW)
        )
    return True
