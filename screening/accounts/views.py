"""The sign-in page (django-allauth's, in the app's look) and the user administrator's pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.views import LoginView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from screening.accounts import selectors, services, sso
from screening.accounts.admin_forms import InviteForm, RolesForm
from screening.core.errors import InputInvalid, ServiceError
from screening.core.permissions import permission_required


class SignInView(LoginView):
    """allauth's sign-in, in the app's look (templates/account/login.html): the password form
    unless `LOCAL_PASSWORDS` is false, and the single sign-on button when `OIDC_ISSUER` is set."""

    template_name = "account/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso.local_passwords():
            # Refused before any password is checked: nothing to count, nothing to lock.
            return self.render_to_response(
                self.get_context_data(passwords_refused=True), status=403
            )
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["local_passwords"] = sso.local_passwords()
        if sso.sso_enabled():
            context["sso_provider_name"] = settings.OIDC_PROVIDER_NAME
            context["sso_login_url"] = reverse(
                "openid_connect_login", kwargs={"provider_id": sso.PROVIDER_ID}
            )
        return context


sign_in = login_not_required(SignInView.as_view())


def local_passwords_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages that set or reset a password of this app: 404 while `LOCAL_PASSWORDS` is false."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso.local_passwords():
            raise Http404("Passwords are managed by single sign-on.")
        return view(request, *args, **kwargs)

    return wrapper


# --- user administration -----------------------------------------------------------------------


@permission_required("auth.view_user")
def user_list(request: HttpRequest) -> HttpResponse:
    people = [
        {"user": user, "roles": selectors.role_labels(user)}
        for user in selectors.users_for_admin(request.user)
    ]
    return render(request, "accounts/user_list.html", {"people": people})


@permission_required("auth.add_user")
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(
                actor=request.user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
                **form.cleaned_data,
            )
        except InputInvalid as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, f"Invitation sent to {user.get_username()}.")
            return redirect("accounts:user_list")
    return render(request, "accounts/user_invite.html", {"form": form})


@permission_required("auth.view_user")
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(selectors.users_for_admin(request.user), pk=user_id)
    form = RolesForm(initial={"roles": [group.name for group in person.roles]})  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/user_detail.html",
        {"person": person, "roles": selectors.role_labels(person), "form": form},
    )


def _change(request: HttpRequest, user_id: int, change: Any, done: str) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    try:
        change(person)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("accounts:user_detail", user_id=person.pk)


@require_POST
@permission_required("auth.change_user")
def user_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RolesForm(request.POST)
    roles = form.cleaned_data["roles"] if form.is_valid() else []
    if not form.is_valid():
        messages.error(request, "Choose roles from the list.")
        return redirect("accounts:user_detail", user_id=user_id)
    return _change(
        request,
        user_id,
        lambda person: services.user_roles_set(actor=request.user, user=person, roles=roles),
        "Roles saved.",
    )


@require_POST
@permission_required("auth.change_user")
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(
        request,
        user_id,
        lambda person: services.user_deactivate(actor=request.user, user=person),
        "Account deactivated: its sessions and API tokens have ended.",
    )


@require_POST
@permission_required("auth.change_user")
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(
        request,
        user_id,
        lambda person: services.user_reactivate(actor=request.user, user=person),
        "Account reactivated.",
    )


@require_POST
@permission_required("auth.change_user")
def user_mfa_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(
        request,
        user_id,
        lambda person: services.user_mfa_reset(actor=request.user, user=person),
        "Second factors removed: they set one up again at their next sign-in.",
    )


@login_not_required
@local_passwords_required
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee chooses a password (Django's validators), once, before the link expires."""
    user = services.invitation_user(token)
    if user is None:
        return render(request, "accounts/invitation_invalid.html", status=410)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.invitation_accept(user=user, password=form.cleaned_data["new_password1"])
        messages.success(request, "Your password is set: sign in.")
        return redirect("login")
    return render(
        request,
        "accounts/invitation.html",
        {
            "form": form,
            "person": user,
            "help": password_validation.password_validators_help_texts(),
        },
    )
