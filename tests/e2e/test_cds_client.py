"""A CDS Hooks client over real HTTP against the live server: JWT-signed (ES384, the test's own
key), five patients built as FHIR resources, the right cards for each; feedback on an
overridden card is stored; replayed, unsigned, foreign and expired tokens are refused."""

import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from screening.core.models import AuditEvent
from screening.ehr.cds_schema import CdsResponse, Discovery
from screening.ehr.models import CdsFeedback
from screening.review.selectors import rule_titles
from tests.ehr.bundles import (
    RXNORM,
    blood_pressure,
    condition,
    cssrs_response,
    patient,
    pregnancy,
    score,
)

pytestmark = pytest.mark.e2e

CLIENT = "https://ehr.example.org"
KEY = ec.generate_private_key(ec.SECP384R1())
PUBLIC = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture(autouse=True)
def _trusted_client(settings):
    settings.CDS_CLIENTS = {CLIENT: {"public_keys": [PUBLIC]}}


def token(
    audience: str, *, key: Any = KEY, iss: str = CLIENT, ttl: int = 300, jti: str = ""
) -> str:
    now = int(time.time())
    claims = {
        "iss": iss,
        "aud": audience,
        "exp": now + ttl,
        "iat": now,
        "jti": jti or str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": "test-key"})


def call(url: str, body: Any = None, bearer: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the test's own server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def searchset(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def hook(pid: str, *resources: dict, sex: str = "F") -> dict:
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": pid},
        "prefetch": {
            "patient": patient(pid, born="1990-05-05", sex=sex),
            "observations": searchset(*observations),
            "conditions": searchset(*conditions),
            "medications": searchset(),
            "questionnaires": searchset(*responses),
        },
    }


def test_five_patients_get_the_right_cards_and_feedback_is_stored(live_server, reviewer):
    today = timezone.localdate()
    base = f"{live_server.url}/cds-services"
    status, services = call(base)
    assert status == 200
    Discovery.model_validate(services)
    url = f"{base}/ketamine-screening"

    def cards_for(request: dict) -> list[dict]:
        status, body = call(url, request, token(url))
        assert status == 200, body
        return CdsResponse.model_validate(body).model_dump(exclude_none=True)["cards"]

    pregnant = cards_for(hook("pregnant", pregnancy("preg", "LA15173-0", today)))
    stop = next(c for c in pregnant if c["indicator"] == "critical")
    assert "STOP-PREGNANCY" in stop["source"]["label"]
    assert stop["overrideReasons"]
    assert "**Why**" in stop["detail"]

    raised = cards_for(
        hook(
            "trd-bp",
            condition("dx", "F33.1"),
            score("phq", "44261-6", 19, today),
            blood_pressure("bp", 152, 94, today),
        )
    )
    assert any(
        c["indicator"] == "warning" and "REV-BP-ELEVATED" in c["source"]["label"] for c in raised
    )
    assert not any(c["indicator"] == "critical" for c in raised)

    nothing = cards_for(hook("empty"))
    assert [c["indicator"] for c in nothing] == ["info"]
    assert nothing[0]["summary"].startswith("Ketamine screening incomplete")
    assert nothing[0]["links"][0]["type"] == "absolute"

    # High suicide risk: the C-SSRS screener (LOINC 93373-9, answered in the EHR as a
    # QuestionnaireResponse) says intent with thoughts in the past month: a critical, urgent card.
    risk = cards_for(
        hook(
            "risk",
            score("item9", "44260-8", 3, today),
            cssrs_response(
                "cssrs",
                today,
                wish_dead=True,
                active_thoughts=True,
                method=True,
                intent=True,
                plan=False,
                behavior_lifetime=False,
            ),
        )
    )
    urgent = next(c for c in risk if "URG-SUICIDE-RISK" in c["source"]["label"])
    assert urgent["indicator"] == "critical"
    assert urgent["summary"].startswith("Urgent: ")
    assert "suicide_risk" in urgent["detail"]
    assert any("REV-PHQ9-ITEM9" in c["source"]["label"] for c in risk)
    assert all("`cssrs`" not in c["detail"] for c in risk)  # the C-SSRS is recorded now

    bipolar = cards_for(hook("bipolar", condition("bp2", "F31.81")))
    assert any("REV-BIPOLAR-SWITCH" in c["source"]["label"] for c in bipolar)
    # No MedicationRequest is not "no mood stabiliser": that rule stays open, named in the info card.
    assert not any("REV-BIPOLAR-NO-STABILISER" in c["source"]["label"] for c in bipolar)
    assert "takes_mood_stabilizer" in next(c for c in bipolar if c["indicator"] == "info")["detail"]

    feedback_url = f"{url}/feedback"
    status, body = call(
        feedback_url,
        {
            "feedback": [
                {
                    "card": stop["uuid"],
                    "outcome": "overridden",
                    "overrideReason": {
                        "reason": {
                            "code": "specialist_approval",
                            "system": "urn:ketamine-screening:override-reason",
                        },
                        "userComment": "MDT approved",
                    },
                    "outcomeTimestamp": "2026-12-07T01:50:00Z",
                }
            ]
        },
        token(url),
    )
    assert status == 200, body
    stored = CdsFeedback.objects.get()
    assert (stored.outcome, stored.card.rule, stored.reason_code) == (
        "overridden",
        "STOP-PREGNANCY",
        "specialist_approval",
    )
    desk = Client()
    desk.force_login(reviewer)
    page = desk.get(reverse("screening:analytics")).content.decode()
    row = re.search(r'<tr data-rule="STOP-PREGNANCY">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(?:<code>)?([^<]*)", row.group(1))
    # rule, title, cards shown, accepted, overridden, no feedback
    assert cells[0] == "STOP-PREGNANCY"
    assert cells[1] == rule_titles()["STOP-PREGNANCY"]
    assert cells[2:] == ["1", "0", "1", "0"]
    events = AuditEvent.objects.filter(action__startswith="cds.")
    assert events.filter(action="cds.call").count() == 5
    assert all("pregnan" not in json.dumps(e.detail).lower() for e in events)


def draft_order(rid: str, rxcui: str) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "subject": {"reference": "Patient/pregnant"},
    }


def order_hook(name: str, request: dict, *orders: dict, selections: list[str] | None = None):
    """The patient-view `request` as an order-sign or order-select call with `orders` drafted."""
    context = {**request["context"], "draftOrders": searchset(*orders)}
    if name == "order-select":
        context["selections"] = selections or []
    return {**request, "hook": name, "context": context}


def test_order_select_and_order_sign_answer_for_ketamine_orders(live_server):
    today = timezone.localdate()
    base = f"{live_server.url}/cds-services"
    status, services = call(base)
    assert {s["hook"] for s in services["services"]} == {
        "patient-view",
        "order-sign",
        "order-select",
    }
    pregnant = hook("pregnant", pregnancy("preg", "LA15173-0", today))
    ketamine = draft_order("ket-1", "6130")  # RxNorm ketamine, from the mapping's [orders]
    spravato = draft_order("esk-1", "2201625")  # esketamine nasal spray [Spravato]
    other = draft_order("amox-1", "617993")

    def cards(service: str, request: dict) -> tuple[int, list[dict]]:
        url = f"{base}/{service}"
        status, body = call(url, request, token(url))
        if status != 200:
            return status, body
        return status, CdsResponse.model_validate(body).model_dump(exclude_none=True)["cards"]

    def stops(found: list[dict]) -> list[str]:
        return [
            c["source"]["label"].split(", rule ")[1].split(":")[0]
            for c in found
            if c["indicator"] == "critical"
        ]

    selected = order_hook(
        "order-select", pregnant, ketamine, other, selections=["MedicationRequest/ket-1"]
    )
    status, found = cards("ketamine-order-select", selected)
    assert status == 200, found
    assert stops(found) == ["STOP-PREGNANCY"]

    status, found = cards(
        "ketamine-order-select",
        order_hook("order-select", pregnant, spravato, selections=["MedicationRequest/esk-1"]),
    )
    assert stops(found) == ["STOP-PREGNANCY"]

    # Ketamine drafted earlier but not among the new selections: this hook says nothing.
    not_selected = order_hook(
        "order-select", pregnant, ketamine, other, selections=["MedicationRequest/amox-1"]
    )
    assert cards("ketamine-order-select", not_selected) == (200, [])

    status, found = cards("ketamine-order-check", order_hook("order-sign", pregnant, ketamine))
    assert stops(found) == ["STOP-PREGNANCY"]
    assert cards("ketamine-order-check", order_hook("order-sign", pregnant, other)) == (200, [])

    # The hook's own context is checked: no selections, or a patient-view body, is refused.
    status, body = cards("ketamine-order-select", order_hook("order-select", pregnant, ketamine))
    assert (status, body) == (400, {"error": "the order-select context is invalid: selections"})
    status, body = cards("ketamine-order-select", pregnant)
    assert (status, body) == (400, {"error": "this service answers order-select"})


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("ketamine-screening", "patient-view"),
        ("ketamine-order-check", "order-sign"),
        ("ketamine-order-select", "order-select"),
    ],
)
def test_tokens_that_do_not_hold_are_refused(live_server, service, name):
    url = f"{live_server.url}/cds-services/{service}"
    body = hook("empty")
    if name != "patient-view":
        body = order_hook(name, body, draft_order("k", "6130"), selections=["MedicationRequest/k"])
    once = token(url, jti="only-once")
    assert call(url, body, once)[0] == 200
    assert call(url, body, once) == (401, {"error": "the token was already used (jti replayed)"})
    assert call(url, body)[0] == 401
    stranger = ec.generate_private_key(ec.SECP384R1())
    assert call(url, body, token(url, key=stranger))[0] == 401
    assert call(url, body, token(url, iss="https://other.example"))[0] == 401
    assert call(url, body, token(f"{url}x"))[0] == 401
    assert call(url, body, token(url, ttl=-60))[0] == 401


class _FhirServer(BaseHTTPRequestHandler):
    """A small FHIR server: read and search over a few resources, behind a bearer token."""

    resources: ClassVar[dict[str, list[dict]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.headers.get("Authorization") != "Bearer ehr-access-token":
            self._send(401, {"resourceType": "OperationOutcome"})
            return
        path = self.path.removeprefix("/fhir/").partition("?")[0]
        kind, _, rid = path.partition("/")
        matches = self.resources.get(kind, [])
        if rid:
            found = next((r for r in matches if r["id"] == rid), None)
            self._send(200 if found else 404, found or {"resourceType": "OperationOutcome"})
            return
        self._send(200, searchset(*matches))

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fhir_server(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FhirServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/fhir"
    settings.CDS_CLIENTS = {CLIENT: {"public_keys": [PUBLIC], "fhir_servers": [url]}}
    yield url
    server.shutdown()
    server.server_close()


def test_without_prefetch_the_service_fetches_from_the_ehrs_fhir_server(live_server, fhir_server):
    today = timezone.localdate()
    _FhirServer.resources = {
        "Patient": [patient("p9", born="1990-05-05", sex="F")],
        "Observation": [pregnancy("preg9", "LA15173-0", today)],
    }
    _FhirServer.seen.clear()
    url = f"{live_server.url}/cds-services/ketamine-screening"
    request = hook("p9")
    del request["prefetch"]
    request["fhirServer"] = fhir_server
    request["fhirAuthorization"] = {
        "access_token": "ehr-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "ketamine-screening",
    }

    status, body = call(url, request, token(url))

    assert status == 200, body
    assert any("STOP-PREGNANCY" in c["source"]["label"] for c in body["cards"])
    assert "/fhir/Patient/p9" in _FhirServer.seen
    assert any(p.startswith("/fhir/Observation?patient=p9") for p in _FhirServer.seen)

    # A server the client is not allowed to name is never fetched from.
    request["fhirServer"] = "http://127.0.0.1:9/fhir"
    status, body = call(url, request, token(url))
    assert (status, body) == (412, {"error": "fhirServer is not allowed for this client"})
