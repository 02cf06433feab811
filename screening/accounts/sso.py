"""Single sign-on with OpenID Connect (django-allauth's `openid_connect` provider), configured
by environment variables (see settings `OIDC_*`)."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

PROVIDER_ID = "sso"


def sign_in_button() -> dict[str, str] | None:
    if not settings.OIDC_ISSUER:
        return None
    try:
        url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    except NoReverseMatch:
        return None
    return {"url": url, "name": settings.OIDC_DISPLAY_NAME}
