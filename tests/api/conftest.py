"""API test helpers: tokens for the named people, and a client that sends them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from screening.api.services import api_token_create
from tests.factories import make_intake, make_patient


class ApiClient:
    """Calls /api/v1/ as one token's user (or anonymously), JSON in and out."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, **headers: str):
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        return getattr(self.client, method)(
            f"/api/v1{path}",
            data=data,
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def get(self, path: str, **headers: str):
        return self.client.get(f"/api/v1{path}", headers={**self.headers, **headers})

    def post(self, path: str, body: Any = None, **headers: str):
        return self.call("post", path, body if body is not None else {}, **headers)

    def put(self, path: str, body: Any, **headers: str):
        return self.call("put", path, body, **headers)


def client_for(user) -> ApiClient:
    _row, token = api_token_create(user=user, name="tests")
    return ApiClient(token)


@pytest.fixture
def as_clinician(clinician) -> ApiClient:
    return client_for(clinician)


@pytest.fixture
def as_reviewer(reviewer) -> ApiClient:
    return client_for(reviewer)


@pytest.fixture
def as_rule_admin(rule_admin) -> ApiClient:
    return client_for(rule_admin)


@pytest.fixture
def as_outsider(outsider) -> ApiClient:
    return client_for(outsider)


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician)


@pytest.fixture
def intake(patient, clinician):
    return make_intake(patient=patient, by=clinician)
