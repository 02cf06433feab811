"""The session fixture that runs the test identity provider (gunicorn, one worker, on a free
port of 127.0.0.1) and the helpers a test uses to point the app at it."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from csp.constants import SELF

from screening.settings import sso_origin

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "ketamine-screening"
CLIENT_SECRET = "test-client-secret-not-a-secret"
ROLE_MAP = {
    "ketamine-clinicians": ["clinician"],
    "ketamine-reviewers": ["reviewer"],
    "ketamine-rule-admins": ["rule_admin"],
    "it-admins": ["user_admin"],
}


@dataclass
class OidcProvider:
    url: str
    directory: Path

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def person(
        self, username: str, password: str, roles: list[str], name: str = "", email: str = ""
    ) -> None:
        """Add or change someone the provider signs in (their `roles` claim included)."""
        path = self.directory / "directory.json"
        people = json.loads(path.read_text()) if path.exists() else {}
        people[username] = {
            "password": password,
            "roles": roles,
            "name": name or username.title(),
            "email": email or f"{username}@idp.example",
        }
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(people))
        staging.replace(path)

    def configure(self, settings: Any, **overrides: Any) -> None:
        """Point the app's settings at this provider, as the OIDC_* variables would."""
        values = {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_PROVIDER_NAME": "Test IdP",
            "OIDC_ROLES_CLAIM": "roles",
            "OIDC_ROLE_MAP": ROLE_MAP,
            "OIDC_TRUSTS_IDP_MFA": False,
            "LOCAL_PASSWORDS": True,
            **overrides,
        }
        for name, value in values.items():
            setattr(settings, name, value)
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"] = [SELF, sso_origin(self.issuer)]
        settings.CONTENT_SECURITY_POLICY = policy
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "sso",
                        "name": values["OIDC_PROVIDER_NAME"],
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": self.issuer,
                            "oauth_pkce_enabled": True,
                            "scope": ["openid", "profile", "email"],
                        },
                    }
                ],
            }
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signing_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    directory = tmp_path_factory.mktemp("oidc-provider")
    (directory / "signing-key.pem").write_bytes(_signing_key())
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        OIDC_TEST_DIR=str(directory),
        DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(
        [sys.executable, "-m", "tests.oidc_provider.bootstrap", CLIENT_ID, CLIENT_SECRET],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = _free_port()
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "tests.oidc_provider.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    provider = OidcProvider(url=f"http://127.0.0.1:{port}", directory=directory)
    try:
        _wait_until_up(provider, server)
        yield provider
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _wait_until_up(provider: OidcProvider, server: subprocess.Popen[bytes]) -> None:
    discovery = f"{provider.issuer}/.well-known/openid-configuration"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                "The test identity provider stopped: "
                + (provider.directory / "server.log").read_text()[-2000:]
            )
        try:
            if requests.get(discovery, timeout=5).ok:
                return
        except requests.RequestException:
            pass  # not listening yet, or slow to start on a busy machine
        time.sleep(0.2)
    raise RuntimeError("The test identity provider did not answer within 60 seconds")
