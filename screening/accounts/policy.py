"""Who must have a second factor: members of the roles in `MFA_REQUIRED_ROLES` ("*": everyone)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def second_factor_required(user: Any) -> bool:
    required = set(getattr(settings, "MFA_REQUIRED_ROLES", ()))
    if not required or not getattr(user, "is_authenticated", False):
        return False
    if "*" in required:
        return True
    return user.groups.filter(name__in=required).exists()
