"""Changes to staff accounts go into the audit trail: who changed whose roles, permissions,
active flag, staff or superuser flag, or password, wherever the change was made (the admin, a
management command, a service), since roles are what every permission check reads.

Django sends no "role changed" signal, so this listens to the model signals: `m2m_changed` on a
user's groups and permissions, and `pre_save`/`post_save` on the user (the flags and the password
hash are compared with the stored row). The actor is the signed-in user of the request being
served (`ActingUserMiddleware`), or None for a command or task (the system). The detail names
accounts and groups, never a password or its hash.

Other apps react to the same changes through `account_changed` (the API revokes a user's tokens
when their password changes or they are deactivated), so the platform imports no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import Signal, receiver
from django.http import HttpRequest, HttpResponse

from screening.core.audit import audit_record

#: Sent after a user row was saved with `changes` (a set of: "password", "is_active",
#: "is_staff", "is_superuser") and `previous` (their stored values before, the password as a
#: flag only), inside the saving transaction, with `actor` as in the audit event.
account_changed = Signal()

WATCHED_FLAGS = ("is_active", "is_staff", "is_superuser")

_request: ContextVar[HttpRequest | None] = ContextVar("screening_acting_request", default=None)


class ActingUserMiddleware:
    """Makes the request being served known to the audit of account changes (after the
    authentication middleware; an API token's user is read when the change happens)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def acting_request() -> HttpRequest | None:
    """The request being served, or None (a command, a task)."""
    return _request.get()


def acting_user() -> User | None:
    """The signed-in user of the request being served, or None (a command, a task)."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, User) and user.is_authenticated else None


@receiver(pre_save, sender=User, dispatch_uid="screening.core.accounts.remember")
def _remember_stored_values(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        instance._audit_stored = None  # type: ignore[attr-defined]
        return
    stored = User.objects.filter(pk=instance.pk).values("password", *WATCHED_FLAGS).first()
    instance._audit_stored = stored  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="screening.core.accounts.audit_save")
def _audit_account_save(
    sender: Any, instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    actor = acting_user()
    if created:
        audit_record(
            actor=actor,
            action="auth.user_create",
            target=instance,
            detail={"username": instance.get_username(), **_flags(instance)},
        )
        return
    stored = getattr(instance, "_audit_stored", None)
    if stored is None:
        return
    changes = {flag for flag in WATCHED_FLAGS if stored[flag] != getattr(instance, flag)}
    if stored["password"] != instance.password:
        changes.add("password")
    if not changes:
        return
    audit_record(
        actor=actor,
        action="auth.user_change",
        target=instance,
        detail={
            "username": instance.get_username(),
            "changed": sorted(changes),
            # Booleans only: a password appears as "changed", never as its hash.
            "now": {flag: getattr(instance, flag) for flag in WATCHED_FLAGS if flag in changes},
        },
    )
    account_changed.send(
        sender=User,
        user=instance,
        changes=frozenset(changes),
        previous={flag: stored[flag] for flag in WATCHED_FLAGS},
        actor=actor,
    )
    instance._audit_stored = {  # type: ignore[attr-defined]
        "password": instance.password,
        **{flag: getattr(instance, flag) for flag in WATCHED_FLAGS},
    }


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="screening.core.accounts.groups")
def _audit_group_change(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    _audit_membership(instance, action, kwargs, Group, "auth.user_roles_change", _group_names)


@receiver(
    m2m_changed,
    sender=User.user_permissions.through,
    dispatch_uid="screening.core.accounts.permissions",
)
def _audit_permission_change(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    _audit_membership(
        instance, action, kwargs, Permission, "auth.user_permissions_change", _permission_names
    )


def _audit_membership(
    instance: Any,
    action: str,
    kwargs: dict[str, Any],
    model: type[Group] | type[Permission],
    code: str,
    names: Callable[[Iterable[int]], list[str]],
) -> None:
    """One event per add, remove or clear, on the user's side (`user.groups.add(…)`) or the
    group's (`group.user_set.add(…)`): then each user named gets their own event."""
    if action not in {"pre_clear", "post_add", "post_remove"}:
        return
    reverse = not isinstance(instance, User)
    if action == "pre_clear":
        # Who is about to be removed is known only before the clear.
        if reverse:
            users = list(instance.user_set.all())
            pks = {instance.pk}
        else:
            users = [instance]
            related = instance.groups if model is Group else instance.user_permissions
            pks = set(related.values_list("pk", flat=True))
        verb = "removed"
    else:
        pk_set = set(kwargs.get("pk_set") or ())
        if not pk_set:
            return
        verb = "added" if action == "post_add" else "removed"
        if reverse:
            users = list(User.objects.filter(pk__in=pk_set))
            pks = {instance.pk}
        else:
            users = [instance]
            pks = pk_set
    if not pks:
        return
    named = names(pks)
    actor = acting_user()
    for user in users:
        audit_record(
            actor=actor,
            action=code,
            target=user,
            detail={"username": user.get_username(), verb: named},
        )


def _group_names(pks: Iterable[int]) -> list[str]:
    return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))


def _permission_names(pks: Iterable[int]) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(pk__in=pks).values_list(
            "content_type__app_label", "codename"
        )
    )


def _flags(user: User) -> dict[str, bool]:
    return {flag: getattr(user, flag) for flag in WATCHED_FLAGS}
