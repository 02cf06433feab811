"""The sign-in page: django-allauth's, with the single sign-on button when one is configured
and without the password form when local passwords are switched off."""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from screening.accounts import sso


class SignInView(LoginView):
    template_name = "account/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and not settings.LOCAL_PASSWORDS_ENABLED:
            raise PermissionDenied("Sign in with your organisation's single sign-on.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["local_sign_in"] = settings.LOCAL_PASSWORDS_ENABLED
        context["single_sign_on"] = sso.sign_in_button()
        return context


sign_in = login_not_required(SignInView.as_view())
