"""The sign-in and second-factor forms, as django-allauth's with the lock-out added."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth.signals import user_login_failed


class SignInForm(LoginForm):
    """allauth's sign-in form, whose username box allauth names `login`, sent as `username` as
    the page always has (password managers, scripts and django-axes read that name)."""

    def add_prefix(self, field_name: str) -> str:
        return "username" if field_name == "login" else super().add_prefix(field_name)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username"
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)


class SecondFactorForm(AuthenticateForm):
    """The code asked for after the password. A wrong code counts as a failed sign-in for the
    lock-out (django-axes, by username and address) and the audit trail; once locked, even the
    right code is refused and the lock-out page answers."""

    def clean_code(self) -> str:
        request = context.request
        credentials = {"username": self.user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            raise forms.ValidationError("Sign-in is locked.", code="locked")
        try:
            return super().clean_code()
        except forms.ValidationError:
            user_login_failed.send(sender=type(self), credentials=credentials, request=request)
            raise
