"""CDS Hooks 2.0 authentication: the EHR signs a JWT (ES384 or RS384) sent as a bearer token.

Trusted clients are named in `CDS_CLIENTS` (settings; `CDS_CLIENTS_FILE` in the environment: a
JSON object `{"<iss>": {"public_keys": ["-----BEGIN PUBLIC KEY-----…"]}}`). A token counts when
its issuer is allow-listed, its signature verifies with one of that issuer's keys, `aud` is the
URL of the service called, it has not expired, and its `jti` was never seen (replays refused).
PyJWT with `cryptography` does the cryptography.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction

from screening.ehr.models import CdsTokenUse

ALGORITHMS = ["ES384", "RS384"]


class CdsRefused(Exception):
    """The call is not authenticated; the sentence says why (never the token)."""


def verify(authorization: str, *, audience: str) -> str:
    """The client (`iss`) of a valid, fresh bearer token for `audience`; raises `CdsRefused`."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise CdsRefused("a JWT bearer token is required")
    try:
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise CdsRefused("the token is not a JWT") from None
    issuer = unverified.get("iss")
    client = settings.CDS_CLIENTS.get(issuer) if isinstance(issuer, str) else None
    if client is None or not isinstance(issuer, str):
        raise CdsRefused("the token's issuer is not an allowed client")
    claims = _verified(token, client.get("public_keys", []), audience)
    _first_use(claims, issuer)
    return str(issuer)


def _verified(token: str, keys: list[str], audience: str) -> dict[str, Any]:
    last = "no key of this client verifies the token"
    for key in keys:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=audience,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise CdsRefused("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise CdsRefused("the token's aud is not this service's URL") from None
        except jwt.PyJWTError as problem:
            last = f"the token is invalid ({type(problem).__name__})"
    raise CdsRefused(last)


def _first_use(claims: dict[str, Any], issuer: str) -> None:
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    try:
        with transaction.atomic():
            CdsTokenUse.objects.create(
                issuer=issuer, jti=str(claims["jti"])[:200], expires_at=expires
            )
    except IntegrityError:
        raise CdsRefused("the token was already used (jti replayed)") from None
