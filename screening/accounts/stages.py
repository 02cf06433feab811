"""The second-factor step of allauth's sign-in, skipped after single sign-on when the identity
provider is trusted to have asked for a second factor itself (`OIDC_TRUSTS_IDP_MFA`)."""

from __future__ import annotations

from allauth.mfa.stages import AuthenticateStage
from django.http import HttpRequest

from screening.accounts.sso import trusts_idp_mfa


class SecondFactorStage(AuthenticateStage):
    def _should_handle(self, request: HttpRequest) -> bool:
        signal_kwargs = self.login.signal_kwargs or {}
        if trusts_idp_mfa() and signal_kwargs.get("sociallogin") is not None:
            return False
        return super()._should_handle(request)
