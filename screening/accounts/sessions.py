"""Signed-in sessions: when each began (for the absolute lifetime), and ending them all when an
account is deactivated or its password changes."""

from __future__ import annotations

import datetime
from typing import Any

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone

SIGNED_IN_AT = "screening_signed_in_at"


def mark_signed_in(request: HttpRequest) -> None:
    request.session[SIGNED_IN_AT] = timezone.now().isoformat()


def signed_in_at(request: HttpRequest) -> datetime.datetime | None:
    value = request.session.get(SIGNED_IN_AT)
    return datetime.datetime.fromisoformat(value) if value else None


def end_all(user: Any, *, except_key: str | None = None) -> int:
    """End every session `user` is signed in with (but `except_key`'s); how many ended. Sessions
    are found in the session table itself, so none is missed however it began."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == except_key:
            continue
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    UserSession.objects.filter(user=user).exclude(session_key=except_key or "").delete()
    return ended
