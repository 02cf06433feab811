"""Changes to accounts made by a user administrator: invite, set roles, deactivate, reset the
second factor. Each checks its rules and records its audit event in one transaction (role and
flag changes are also recorded by `screening.core.accounts`, wherever they are made)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from screening.accounts.sso import local_passwords
from screening.core.audit import audit_record
from screening.core.errors import InputInvalid, ServiceError
from screening.core.permissions import Role, require_perm

INVITATION_SALT = "screening.accounts.invitation"


def _require_user_admin(actor: Any) -> None:
    require_perm(actor, "auth.change_user", "Only a user administrator may change accounts.")


def _active_user_admins() -> Any:
    # (one row per user: the role is one group, and group names are unique)
    return User.objects.filter(is_active=True, groups__name=Role.USER_ADMIN.value)


def _password_state(user: User) -> str:
    """Changes when the password is set, so an invitation link works once."""
    return salted_hmac(INVITATION_SALT, user.password, algorithm="sha256").hexdigest()[:16]


def invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "p": _password_state(user)}, salt=INVITATION_SALT)


def invitation_user(token: str) -> User | None:
    """The invited account the link is for, or None when it is altered, expired or used."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or data.get("p") != _password_state(user):
        return None
    return user


def user_invite(
    *, actor: Any, username: str, email: str, name: str, roles: list[str], base_url: str
) -> User:
    """Make an account with no usable password and e-mail its holder a link to set one (the
    link expires after `INVITATION_MAX_AGE` and works once)."""
    _require_user_admin(actor)
    if not local_passwords():
        # The link would set a password nobody may use, and the account would not be the one
        # single sign-on makes for the same person (keyed by the provider's subject).
        raise InputInvalid.one(
            "invitation",
            "Invitations are switched off: people sign in with single sign-on, which makes"
            " their account and gives their roles from their groups at the identity provider.",
        )
    if User.objects.filter(username=username).exists():
        raise InputInvalid.one("username", "An account with this username already exists.")
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise InputInvalid.one("roles", "Unknown role.")
    first, _, last = name.strip().partition(" ")
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first, last_name=last)
        user.set_unusable_password()
        user.save()
        user.groups.add(*Group.objects.filter(name__in=roles))
        audit_record(
            actor=actor,
            action="auth.user_invite",
            target=user,
            detail={"username": username, "roles": sorted(roles)},
        )
        link = base_url + reverse("accounts:invitation", args=[invitation_token(user)])
        days = settings.INVITATION_MAX_AGE.days
        transaction.on_commit(
            lambda: send_mail(
                "Ketamine screening: your account",
                f"An account was made for you (username: {username}).\n\n"
                f"Choose your password here within {days} days:\n{link}\n\n"
                "The link works once. If you did not expect this, ignore this message.",
                None,
                [email],
            )
        )
    return user


def invitation_accept(*, user: User, password: str) -> None:
    with transaction.atomic():
        user.set_password(password)
        user.save()
        audit_record(
            actor=user,
            action="auth.invitation_accept",
            target=user,
            detail={"username": user.get_username()},
        )


def user_roles_set(*, actor: Any, user: User, roles: list[str]) -> None:
    """Give `user` exactly `roles`. Nobody adds a role to themselves, and the last active user
    administrator keeps that role."""
    _require_user_admin(actor)
    wanted = set(roles)
    if wanted - set(Role.values):
        raise InputInvalid.one("roles", "Unknown role.")
    with transaction.atomic():
        current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.pk == actor.pk and wanted - current:
            raise ServiceError("You cannot give yourself a role: ask another user administrator.")
        if Role.USER_ADMIN.value in current - wanted:
            _keep_one_user_admin(user)
        if current - wanted:
            user.groups.remove(*Group.objects.filter(name__in=current - wanted))
        if wanted - current:
            user.groups.add(*Group.objects.filter(name__in=wanted - current))


def _keep_one_user_admin(user: User) -> None:
    others = _active_user_admins().select_for_update().exclude(pk=user.pk)
    if not list(others):
        raise ServiceError("This is the last user administrator: make someone else one first.")


def user_deactivate(*, actor: Any, user: User) -> None:
    """The account can no longer sign in; its sessions and API tokens end at once (receivers
    of `screening.core.accounts.account_changed`)."""
    _require_user_admin(actor)
    if user.pk == actor.pk:
        raise ServiceError("You cannot deactivate your own account.")
    with transaction.atomic():
        if user.groups.filter(name=Role.USER_ADMIN.value).exists():
            _keep_one_user_admin(user)
        user.is_active = False
        user.save(update_fields=["is_active"])


def user_reactivate(*, actor: Any, user: User) -> None:
    _require_user_admin(actor)
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])


def user_mfa_reset(*, actor: Any, user: User) -> None:
    """Remove every second factor of `user` (a lost phone or key): they enrol again at their
    next sign-in if their role needs one."""
    _require_user_admin(actor)
    with transaction.atomic():
        kinds = sorted(set(Authenticator.objects.filter(user=user).values_list("type", flat=True)))
        Authenticator.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="auth.mfa_reset",
            target=user,
            detail={"username": user.get_username(), "removed": kinds},
        )


def sso_roles_sync(*, user: User, roles: set[str], provider: str) -> None:
    """Give `user` exactly `roles`, as the identity provider's claim says at a single sign-on.
    The claim is the authority: no actor, and none of a user administrator's rules apply. Each
    group added or removed is an `auth.user_roles_change` event (`screening.core.accounts`);
    this adds one `auth.sso_roles_sync` event naming the provider, when anything changed."""
    wanted = set(roles) & set(Role.values)
    with transaction.atomic():
        current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        removed, added = current - wanted, wanted - current
        if not removed and not added:
            return
        if removed:
            user.groups.remove(*Group.objects.filter(name__in=removed))
        if added:
            user.groups.add(*Group.objects.filter(name__in=added))
        audit_record(
            actor=None,
            action="auth.sso_roles_sync",
            target=user,
            detail={
                "username": user.get_username(),
                "provider": provider,
                "added": sorted(added),
                "removed": sorted(removed),
            },
        )
