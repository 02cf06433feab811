"""How API calls authenticate: a personal bearer token, or the browser's session with CSRF.

Either way the call acts as that user, with that user's roles. A failed check returns None, so
ninja answers 401; it never raises (which would stop ninja trying the next method).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from screening.api.services import api_token_user
from screening.core.permissions import require_perm


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token from the API tokens page."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods need the CSRF token (`X-CSRFToken`).

    Unlike ninja's own `SessionAuth`, CSRF is checked only once a session user exists, so a call
    with neither a session nor a valid token gets 401, not a CSRF 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key or not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return request.user


AUTH = [TokenAuth(), SessionAuth()]


def caller(request: HttpRequest, perm: str) -> User:
    """The authenticated caller, who must hold `perm` (403 otherwise), as `permission_required`
    checks for the pages."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Your role does not give access to this.")
    require_perm(user, perm)
    return user
