"""The three roles of the product, as Django groups.

Groups are created by the data migration `0001_roles`; views and selectors ask
`has_role(user, Role.CLINICIAN)` rather than testing group names inline.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    REVIEWER = "reviewer", "Reviewer"
    RULE_ADMIN = "rule_admin", "Rule admin"


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The role names a user holds (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_screening_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)  # type: ignore[attr-defined]
        cached = frozenset(names)
        user._screening_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    return role.value in roles_of(user)
