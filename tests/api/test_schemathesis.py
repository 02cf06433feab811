"""The OpenAPI schema and the server agree, for every role (issue 16, finding 9 and the fuzzer
in CI): schemathesis generates requests from the live schema, sends them to the WSGI app in
this process, and runs every check on every answer (no server error, status codes, content
types and bodies as documented, invalid data rejected, valid data accepted, unsupported methods
refused, ...). A fixed seed and a bounded number of examples keep it repeatable and quick.

Each role calls with its own bearer token, so every operation is checked both where the role may
call it and where it is refused.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, seed, settings
from schemathesis import GenerationMode

from screening.api.api import api as screening_api
from screening.api.services import api_token_create
from tests.factories import make_intake, make_patient

ROLES = os.environ.get("SCHEMATHESIS_ROLES", "clinician,rule_admin,reviewer").split(",")
#: Examples per operation and role (14 operations × 3 roles); SCHEMATHESIS_EXAMPLES=50 for a
#: deeper run by hand, SCHEMATHESIS_COVERAGE=1 adds the boundary-value phase.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))
SEED = 16

CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": os.environ.get("SCHEMATHESIS_COVERAGE") == "1"}}}
)
schema = schemathesis.openapi.from_dict(screening_api.get_openapi_schema(), config=CONFIG)
schema.app = WSGIHandler()


#: C-SSRS questions asked only when Q2 (active thoughts) is yes.
CSSRS_FOLLOW_UPS = ("method", "intent", "plan")


@schema.hook
def map_case(context, case):
    """Valid data the schema cannot describe: rules across fields (the data dictionary's and the
    patient form's) are applied to generated *valid* cases, so that "valid per the schema" means
    valid for the server too. Invalid (negative) cases are left as generated."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    body = case.body
    if not isinstance(body, dict):
        return case
    if case.operation.path.endswith("/patients"):  # born in the last 120 years
        body["date_of_birth"] = "1984-03-01"
    elif case.operation.path.endswith("/evaluate"):
        _consistent(body)
    elif case.operation.path.endswith("/from-fhir"):
        # Any JSON object fits the schema's `bundle`; the server reads FHIR Bundles only.
        body["bundle"] = {"resourceType": "Bundle", "type": "collection"}
    elif isinstance(body.get("answers"), dict):
        _consistent(body["answers"])
    return case


def _consistent(facts: dict) -> None:
    # A date of birth is checked against the screening date and age: leave them out.
    for name in ("date_of_birth", "screening_date"):
        facts.pop(name, None)
    systolic, diastolic = facts.get("systolic_bp"), facts.get("diastolic_bp")
    if isinstance(systolic, int) and isinstance(diastolic, int) and diastolic >= systolic:
        facts["diastolic_bp"] = None
    if facts.get("pregnancy_status") == "pregnant" and facts.get("sex_at_birth") == "male":
        facts["sex_at_birth"] = "female"
    cssrs = facts.get("cssrs")
    if isinstance(cssrs, dict) and cssrs.get("active_thoughts") is False:
        for name in CSSRS_FOLLOW_UPS:
            if cssrs.get(name) is True:
                cssrs[name] = None


@pytest.fixture
def in_test_transaction():
    """The WSGI app runs in this thread, inside the test's transaction: keep Django from closing
    the connection at each request's end (as its own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(request, role, db, settings, in_test_transaction):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    user = request.getfixturevalue(role)
    # Something to find: a patient with an intake, so reads can succeed as well as fail.
    clinician = request.getfixturevalue("clinician")
    make_intake(patient=make_patient(created_by=clinician), by=clinician)
    return api_token_create(user=user, name="schemathesis")[1]


def test_the_served_schema_is_the_one_fuzzed(client):
    served = client.get("/api/v1/openapi.json").json()
    assert served == json.loads(json.dumps(screening_api.get_openapi_schema()))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, role, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
