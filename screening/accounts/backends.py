"""With `LOCAL_PASSWORDS=false` nobody signs in with a password of this app, whatever the door
(the sign-in page refuses first; this also closes Django's admin login)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from screening.accounts.sso import local_passwords


class LocalPasswordsSwitch:
    """First in `AUTHENTICATION_BACKENDS`: refuses every password check while local passwords
    are off (Django then stops asking the other backends and reports a failed sign-in). It has
    no `get_user`, so it never holds a session."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if "password" in credentials and not local_passwords():
            raise PermissionDenied("Passwords are switched off: sign in with single sign-on.")
        return None
