"""The test identity provider's people: `directory.json` in `OIDC_TEST_DIR`, read at every sign-in
and every token, `{"<username>": {"password", "name", "email", "roles": [...]}}`."""

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from oauth2_provider.oauth2_validators import OAuth2Validator


def people() -> dict[str, dict[str, Any]]:
    path = settings.DIRECTORY / "directory.json"
    return json.loads(path.read_text()) if path.exists() else {}


class DirectoryBackend:
    def authenticate(self, request: Any, username: str = "", password: str = "", **kw: Any) -> Any:
        person = people().get(username)
        if person is None or person["password"] != password:
            return None
        user, _ = User.objects.get_or_create(username=username)
        return user

    def get_user(self, user_id: int) -> Any:
        return User.objects.filter(pk=user_id).first()


class RolesValidator(OAuth2Validator):
    # The `roles` claim goes with the `openid` scope (DOT drops claims no scope names).
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "roles": "openid"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        person = people().get(request.user.username, {})
        return {
            "preferred_username": request.user.username,
            "name": person.get("name", ""),
            "email": person.get("email", ""),
            "roles": person.get("roles", []),
        }

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # The app's callback on whichever loopback port the test runs it (test client or live
        # server): the port is not known when the client is registered.
        parts = urlsplit(redirect_uri)
        return parts.hostname in {"testserver", "localhost", "127.0.0.1"} and (
            parts.path == "/oidc/sso/login/callback/"
        )
