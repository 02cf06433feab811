"""Logins, logouts and failed logins go into the audit trail.

Failed logins record the attempted username only when it names an existing account: then it is
a staff account name, not patient data. Whatever else was typed into the username box (often a
password typed one field too early) is never stored, and neither is the password, since the
audit trail can never be cleaned. The client address is the connection's own address, or
behind a proxy listed in TRUSTED_PROXIES the client it forwarded (`screening.core.clientip`);
otherwise X-Forwarded-For is ignored, because any client can write it, which would let an
attacker choose what the trail says.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from screening.core.audit import audit_record
from screening.core.clientip import client_ip as _client_ip

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
    audit_record(
        actor=None,
        action="auth.login_failed",
        object_type=USER_OBJECT_TYPE if known else "",
        object_id=str(account_pk) if known else "",
        detail={
            "username": attempted if known else None,
            "known_account": known,
            "ip": _client_ip(request),
        },
    )


