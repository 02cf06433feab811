"""Template context shared by every page: which roles the signed-in user holds."""

from typing import Any

from django.http import HttpRequest

from screening.roles import Role, has_role, roles_of


def roles(request: HttpRequest) -> dict[str, Any]:
    """Role flags for the navigation and pages; empty for anonymous visitors.

    `request.user` is missing when a page renders before the authentication middleware ran
    (for example a CSRF failure page), so its absence means "no roles" rather than an error.
    """
    user = getattr(request, "user", None)
    if user is None:
        return {
            "user_roles": frozenset(),
            "is_clinician": False,
            "is_reviewer": False,
            "is_rule_admin": False,
        }
    return {
        "user_roles": roles_of(user),
        "is_clinician": has_role(user, Role.CLINICIAN),
        "is_reviewer": has_role(user, Role.REVIEWER),
        "is_rule_admin": has_role(user, Role.RULE_ADMIN),
    }
