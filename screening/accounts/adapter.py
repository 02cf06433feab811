"""How django-allauth behaves here: nobody signs up with a password (a user administrator
invites), the sign-in page words its refusal as it always has, and single sign-on makes each
account at its first sign-in with the roles its identity provider's claim gives, and sets those
roles again at every sign-in (`screening.accounts.sso`)."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.shortcuts import render

from screening.accounts import services, sso
from screening.core.clientip import client_ip

logger = logging.getLogger(__name__)

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

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Sensitive account pages (setting up a second factor) ask who you are again, unless
        you signed in a moment ago. allauth counts only a password or a second factor as such a
        moment: an account that signs in through the identity provider has neither, so its
        sign-in counts too, for the same `ACCOUNT_REAUTHENTICATION_TIMEOUT`; later, signing in
        again through the provider is how it proves itself."""
        request = context.request
        if request is not None and sso.signed_in_by_sso(request, within=_reauthentication_window()):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_login_stages(self) -> list[str]:
        # The second-factor step knows about single sign-on (`OIDC_TRUSTS_IDP_MFA`).
        return [
            "screening.accounts.stages.SecondFactorStage"
            if stage == "allauth.mfa.stages.AuthenticateStage"
            else stage
            for stage in super().get_login_stages()
        ]


class SecondFactorAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": INCORRECT_CODE,
    }


def _reauthentication_window() -> float:
    return float(account_settings.REAUTHENTICATION_TIMEOUT)


def _refuse(request: HttpRequest, template: str, status: int, **context: Any) -> None:
    raise ImmediateHttpResponse(
        render(
            request,
            template,
            {"provider_name": settings.OIDC_PROVIDER_NAME, **context},
            status=status,
        )
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: the nonce is checked, the account made or found by the provider's
    subject, and its roles set from the claim, before anyone is signed in."""

    def get_provider(self, request: HttpRequest, provider: Any, client_id: Any = None) -> Any:
        found = super().get_provider(request, provider, client_id=client_id)
        if type(found) is OpenIDConnectProvider:
            return sso.NonceCheckingProvider(request, app=found.app)
        return found

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        data = sociallogin.account.extra_data
        if sociallogin.state.get("process") != AuthProcess.LOGIN:
            # Signing in only: an identity is never attached to an account someone is already
            # signed in to ("connect"), which would hand that account the claim's roles.
            logger.warning("Single sign-on refused: only signing in is offered")
            _refuse(request, "accounts/sso_failed.html", 403, reason="failed")
        if not sso.nonce_matches(sociallogin.state, data):
            logger.warning("Single sign-on refused: the ID token's nonce does not match")
            _refuse(request, "accounts/sso_failed.html", 403, reason="nonce")
        # The e-mail address is kept on the account only: allauth would otherwise match it
        # against other accounts' and ask for a sign-up form when it is taken.
        sociallogin.email_addresses = []
        roles = sso.mapped_roles(data)
        if sociallogin.is_existing:
            services.sso_roles_sync(
                user=sociallogin.user, roles=roles, provider=settings.OIDC_PROVIDER_NAME
            )
        if not roles:
            logger.info("Single sign-on refused: no role is mapped from the claim")
            _refuse(request, "accounts/sso_no_role.html", 403)

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        user = super().save_user(request, sociallogin, form=form)
        services.sso_roles_sync(
            user=user,
            roles=sso.mapped_roles(sociallogin.account.extra_data),
            provider=settings.OIDC_PROVIDER_NAME,
        )
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A refused or failed exchange (state not this browser's, the IdP's error, a token
        that does not verify, the IdP unreachable) is one page in words, never a trace."""
        logger.warning(
            "Single sign-on failed: %s (%s)",
            error,
            type(exception).__name__ if exception is not None else "no exception",
        )
        reason = "cancelled" if error == AuthError.CANCELLED else "failed"
        _refuse(
            request, "accounts/sso_failed.html", 403 if reason == "failed" else 200, reason=reason
        )
