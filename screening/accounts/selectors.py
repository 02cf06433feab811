"""Reads for the user administrator's pages."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, User
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from screening.core.permissions import Role, require_perm


def users_for_admin(actor: Any) -> QuerySet[User]:
    require_perm(actor, "auth.view_user", "Only a user administrator may see accounts.")
    return (
        User.objects.annotate(
            has_second_factor=Exists(Authenticator.objects.filter(user=OuterRef("pk")))
        )
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.filter(name__in=Role.values), to_attr="roles")
        )
        .order_by("username")
    )


def role_labels(user: User) -> list[str]:
    names = {group.name for group in getattr(user, "roles", user.groups.all())}
    return [label for value, label in Role.choices if value in names]
