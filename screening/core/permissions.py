"""Who may do what: Django's model permissions, granted to the three role groups by the apps'
data migrations, checked the same way by every page, service and API operation.

Pages are wrapped in `permission_required`; services and API operations call `require_perm`;
templates read `perms`. Group names appear only where a person reads them (the role badges on
every page, `roles_of`) and in the migrations that create the groups and grant them their
permissions; a superuser passes every check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase

View = Callable[..., HttpResponseBase]
AnyUser = AbstractBaseUser | AnonymousUser


class Role(models.TextChoices):
    """The role groups (created by migration `screening.0001_roles`): what a person is told
    they are. What a role may do is the permissions its group holds."""

    CLINICIAN = "clinician", "Clinician"
    REVIEWER = "reviewer", "Reviewer"
    RULE_ADMIN = "rule_admin", "Rule admin"


def roles_of(user: AnyUser) -> frozenset[str]:
    """The role names a user holds, for display (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_screening_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)  # type: ignore[attr-defined]
        cached = frozenset(names)
        user._screening_roles = cached  # type: ignore[attr-defined]
    return cached


def has_perm(user: AnyUser, perm: str) -> bool:
    """Whether `user` holds `perm` (`app_label.codename`); False for anonymous visitors."""
    return bool(user.is_authenticated and user.has_perm(perm))  # type: ignore[attr-defined]


def require_perm(user: AnyUser, perm: str, message: str = "") -> None:
    """Raise `PermissionDenied` (403 on a page, in the API) unless `user` holds `perm`."""
    if not has_perm(user, perm):
        raise PermissionDenied(message or "Your role does not give access to this.")


def roles_holding(perm: str) -> list[str]:
    """The labels of the roles whose group holds `perm` (`app_label.codename`), in `Role`'s
    order: what a refused person is told they would need."""
    app_label, codename = perm.split(".", 1)
    names = set(
        Group.objects.filter(
            name__in=Role.values,
            permissions__content_type__app_label=app_label,
            permissions__codename=codename,
        ).values_list("name", flat=True)
    )
    return [role.label for role in Role if role.value in names]


class RoleRequired(PermissionDenied):
    """A page refused for want of a role: its message names the roles that open the page, in
    plain words, and is the only refusal text the 403 page shows (`screening.core.views`)."""

    def __init__(self, perm: str) -> None:
        roles = [f"{label.lower()}s" for label in roles_holding(perm)]
        if not roles:
            sentence = "No role opens this page; your system administrator can tell you who may."
        else:
            if len(roles) > 1:
                roles = [", ".join(roles[:-1]) + " and " + roles[-1]]
            sentence = f"This page is for {roles[0]}; your role does not give access to it."
        super().__init__(sentence)


def permission_required(perm: str) -> Callable[[View], View]:
    """Allow the view only to users holding `perm` (403 otherwise, with a sentence naming the
    roles that would open it; login is already required for every page by
    LoginRequiredMiddleware). The permission is kept on the view as `required_permission`, so
    tests can list what every page asks for."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_perm(request.user, perm):
                raise RoleRequired(perm)
            return view(request, *args, **kwargs)

        wrapper.required_permission = perm  # type: ignore[attr-defined]
        return wrapper

    return decorate
