"""Two checks on every signed-in request: the session's absolute lifetime, and enrolment of a
second factor for the roles that need one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from screening.accounts import sessions
from screening.accounts.policy import second_factor_required
from screening.accounts.sso import signed_in_by_sso, trusts_idp_mfa


class SessionLifetimeMiddleware:
    """A session ends `SESSION_ABSOLUTE_LIFETIME` after its sign-in, however active (the idle
    timeout is the session cookie's age). Then the page asks for a sign-in as after idling."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            began = sessions.signed_in_at(request)
            if began is None:
                sessions.mark_signed_in(request)
            elif timezone.now() - began > settings.SESSION_ABSOLUTE_LIFETIME:
                logout(request)
        return self.get_response(request)


#: Pages a person who must enrol may still reach: enrolment itself, signing out, static files.
ENROLMENT_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        "logout",
        "account_logout",
        "session_keepalive",
    }
)


class SecondFactorEnrolmentMiddleware:
    """Someone whose role needs a second factor (`MFA_REQUIRED_ROLES`) and has none is sent to
    set one up before any other page. The API (bearer tokens) is not a page and is left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is None or match.url_name in ENROLMENT_URL_NAMES or match.namespace == "api":
            return None
        if request.path.startswith(("/api/", "/static/")):
            return None
        if not second_factor_required(user) or is_mfa_enabled(user):
            return None
        if trusts_idp_mfa() and signed_in_by_sso(request):
            return None
        messages.warning(
            request,
            "Your role needs a second factor: set up an authenticator app or a security key"
            " before you continue.",
        )
        return HttpResponseRedirect(reverse("mfa_index"))
