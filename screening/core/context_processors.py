"""Template context shared by every page: which roles the signed-in user holds, for the badges
and the home page's description of each role. What a page offers follows `perms` instead."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from screening.core.held import has_held_post
from screening.core.permissions import Role, roles_of


def roles(request: HttpRequest) -> dict[str, Any]:
    """Role flags for the navigation and pages; empty for anonymous visitors.

    `request.user` is missing when a page renders before the authentication middleware ran
    (for example a CSRF failure page), so its absence means "no roles" rather than an error.
    """
    user = getattr(request, "user", None)
    if user is None:
        return {
            "user_roles": frozenset(),
            "user_role_labels": [],
            "is_clinician": False,
            "is_reviewer": False,
            "is_rule_admin": False,
            "is_user_admin": False,
        }
    held = roles_of(user)
    return {
        "user_roles": held,
        "user_role_labels": [role.label for role in Role if role.value in held],
        "is_clinician": Role.CLINICIAN.value in held,
        "is_reviewer": Role.REVIEWER.value in held,
        "is_rule_admin": Role.RULE_ADMIN.value in held,
        "is_user_admin": Role.USER_ADMIN.value in held,
    }


def session(request: HttpRequest) -> dict[str, Any]:
    """The idle timeout, for the warning shown before it (`static/js/session.js`), and whether
    answers sent after it ended are waiting for the sign-in (`screening.core.held`)."""
    return {
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "held_post_waiting": has_held_post(request),
    }
