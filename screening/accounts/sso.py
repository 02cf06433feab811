"""Single sign-on through an OpenID Connect identity provider (django-allauth's `openid_connect`
provider), configured by environment variables only (`OIDC_*` in settings.py; none set: no SSO).

What the app adds to allauth's client:

- a `nonce` in every authorization request, kept in the sign-in's stashed state and compared
  with the ID token's (allauth 65 sends none for OpenID Connect; the state and PKCE it checks
  itself);
- roles from one claim of the ID token or userinfo (`OIDC_ROLES_CLAIM`), translated by
  `OIDC_ROLE_MAP` into the app's roles on every sign-in (`services.sso_roles_sync`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.conf import settings
from django.http import HttpRequest

from screening.core.permissions import Role

#: The `provider_id` of the one configured identity provider: its URLs are
#: /oidc/sso/login/ and /oidc/sso/login/callback/ (the redirect URI to register at the IdP).
PROVIDER_ID = "sso"

NONCE_STATE_KEY = "oidc_nonce"


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", ""))


def local_passwords() -> bool:
    """Whether people may sign in with a password of this app (`LOCAL_PASSWORDS`)."""
    return bool(getattr(settings, "LOCAL_PASSWORDS", True))


def trusts_idp_mfa() -> bool:
    """Whether a sign-in through the identity provider counts as done with a second factor
    (`OIDC_TRUSTS_IDP_MFA`): then the app neither asks for its own code nor makes the person
    enrol one in that session."""
    return sso_enabled() and bool(getattr(settings, "OIDC_TRUSTS_IDP_MFA", False))


def unknown_mapped_roles(mapping: Mapping[str, Iterable[str]]) -> set[str]:
    """The role names in the map that are not the app's roles (a system check reports them)."""
    return {role for roles in mapping.values() for role in roles} - set(Role.values)


def claim_values(data: Mapping[str, Any], claim: str) -> list[str]:
    """The values of `claim` in what the IdP said (userinfo first, then the ID token), as a
    list whether the IdP sends a list or one space- or comma-separated string."""
    for source in ("userinfo", "id_token"):
        part = data.get(source)
        if isinstance(part, Mapping) and claim in part:
            raw = part[claim]
            break
    else:
        return []
    if isinstance(raw, str):
        return [value for value in raw.replace(",", " ").split() if value]
    if isinstance(raw, list | tuple):
        return [str(value) for value in raw]
    return []


def mapped_roles(data: Mapping[str, Any]) -> set[str]:
    """The app's roles the IdP's claim gives, through `OIDC_ROLE_MAP`: unmapped values give
    nothing (so an IdP group the app does not know opens nothing)."""
    mapping: Mapping[str, Iterable[str]] = getattr(settings, "OIDC_ROLE_MAP", {})
    claim = getattr(settings, "OIDC_ROLES_CLAIM", "roles")
    roles = {role for value in claim_values(data, claim) for role in mapping.get(value, ())}
    return roles & set(Role.values)


class NonceCheckingProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider, sending a fresh `nonce` with each sign-in and
    keeping it in the sign-in's state (in the session), for `nonce_matches`."""

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> Any:
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        kwargs[NONCE_STATE_KEY] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kwargs)


def nonce_matches(state: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether the ID token carries the nonce this browser's sign-in sent."""
    expected = state.get(NONCE_STATE_KEY)
    id_token = data.get("id_token")
    received = id_token.get("nonce") if isinstance(id_token, Mapping) else None
    if not isinstance(expected, str) or not isinstance(received, str):
        return False
    return secrets.compare_digest(expected, received)


def signed_in_by_sso(request: HttpRequest, within: float | None = None) -> bool:
    """Whether this session's signed-in user came through the identity provider (in the last
    `within` seconds, when given)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    now = time.time()
    return any(
        record.get("method") == "socialaccount"
        and (within is None or now - float(record.get("at", 0)) < within)
        for record in get_authentication_records(request, user)
    )
