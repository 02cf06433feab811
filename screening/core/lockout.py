"""Sign-in lock-out (django-axes) without storing what was typed.

Axes counts failed sign-ins per username and address, and would keep the username as typed in
its tables. What people type there is often not a username: a password typed one box too early,
or a patient's name in the wrong window. So attempts are counted under a keyed hash of the
username instead (`AXES_USERNAME_CALLABLE`): the same username always gives the same key, so
lock-out works as before, but the text cannot be read back from the table, nor found by hashing
guesses without the `SECRET_KEY`. (Rotating the key resets every count.)

Two limits apply (`SignInLockoutHandler`): `AXES_FAILURE_LIMIT` failures for one username from
one address lock that pair, and `SIGN_IN_ADDRESS_FAILURE_LIMIT` failures from one address,
whatever the usernames, lock that address, which slows password spraying (one password tried
against many accounts). The address is the real client's behind a trusted proxy
(`screening.core.clientip`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

KEY_LENGTH = 32


def username_key(username: str) -> str:
    """The key attempts for `username` are counted under: 32 hex digits of an HMAC-SHA256."""
    # Normalised as Django's sign-in form does (NFKC, surrounding spaces dropped), so that the
    # key follows the account the form would look up. Lone surrogates cannot be UTF-8 encoded.
    normalised = unicodedata.normalize("NFKC", username).strip()
    value = normalised.encode("utf-8", "surrogatepass")
    return salted_hmac(
        "screening.core.lockout.username_key", value, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()[:KEY_LENGTH]


def axes_username(request: HttpRequest | None, credentials: Mapping[str, Any] | None) -> str | None:
    """`AXES_USERNAME_CALLABLE`: the key for the username being signed in with, from the
    credentials (or, as axes does by default, the POSTed form), or None when there is none."""
    field = str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    username = (credentials or {}).get(field)
    if username is None and request is not None and request.method == "POST":
        username = request.POST.get(field)
    if not isinstance(username, str) or not username:
        return None
    return username_key(username)


class SignInLockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes has no types
    """Axes' database handler (`AXES_HANDLER`) with a second limit: failures from one address
    across all usernames. A request from a locked address counts as over the limit, so axes
    refuses it as it refuses a locked account, and the page says which lock it is."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        failures = int(super().get_failures(request, credentials))
        limit = int(get_failure_limit(request, credentials))
        if failures < limit and address_failures(request) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            request.sign_in_locked_by_address = True  # type: ignore[attr-defined]
            return limit
        return failures


def address_failures(request: HttpRequest) -> int:
    """Failed sign-ins from the request's address within the cool-off time, for all usernames."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
