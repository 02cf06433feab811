"""How django-allauth behaves here: nobody signs up (a user administrator invites), and the
sign-in page words its refusal as it always has."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from screening.core.clientip import client_ip

#: A code that is wrong and one already used get the same answer (neither helps a guesser).
INCORRECT_CODE = "That code is not right, or was already used. Try the next one."


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": (
            "Please enter a correct username and password. Note that both fields may be"
            " case-sensitive."
        ),
        "incorrect_code": INCORRECT_CODE,
    }

    def get_client_ip(self, request: HttpRequest) -> str:
        """The real client behind a trusted proxy, as the lock-out and audit trail see it."""
        return client_ip(request) or "unknown"

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return super().get_login_redirect_url(request)

    def add_message(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # allauth's "Successfully signed in as …" and similar: the page says who is signed in.
        template = kwargs.get("message_template") or (args[1] if len(args) > 1 else "")
        if template in (
            "account/messages/logged_in.txt",
            "account/messages/logged_out.txt",
        ):
            return
        super().add_message(request, *args, **kwargs)


class SecondFactorAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": INCORRECT_CODE,
    }
