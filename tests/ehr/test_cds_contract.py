"""CDS Hooks 2.0 contract: the spec's own example objects (https://cds-hooks.hl7.org/2.0/,
shaped as its examples: discovery, a patient-view request, a card, feedback) validate against
the pydantic models, the invariants are enforced, and the service's own discovery and cards
validate too."""

import pytest
from pydantic import ValidationError

from rules.engine import compile_ruleset
from screening.ehr.cds import SERVICES, _cards
from screening.ehr.cds_schema import (
    CONTEXTS,
    Card,
    CdsRequest,
    CdsResponse,
    Discovery,
    Feedback,
    OrderSelectContext,
    OrderSignContext,
)
from tests.engine.data import TODAY, ruleset_v2_spec, vignette_v2

SPEC_DISCOVERY = {
    "services": [
        {
            "hook": "patient-view",
            "title": "Static CDS Service Example",
            "description": "An example of a CDS Service that returns a card with SMART app "
            "recommendations.",
            "id": "static-patient-view",
            "prefetch": {
                "patientToGreet": "Patient/{{context.patientId}}",
                "hemoglobin-a1c": "Observation?patient={{context.patientId}}&code=4548-4&_count=1&sort:desc=date",
                "user": "{{context.userId}}",
            },
        }
    ]
}

SPEC_REQUEST = {
    "hookInstance": "23f1a303-991f-4118-86c5-11d99a39222e",
    "fhirServer": "https://fhir.example.org",
    "hook": "patient-view",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    },
    "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}

#: Shaped as the order-select hook's example (https://cds-hooks.hl7.org/hooks/order-select/):
#: a draft MedicationRequest newly selected, named in `selections`.
SPEC_DRAFT_ORDERS = {
    "resourceType": "Bundle",
    "entry": [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "smart-MedicationRequest-103",
                "status": "draft",
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "617993",
                            "display": "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML "
                            "Oral Suspension",
                        }
                    ]
                },
                "subject": {"reference": "Patient/MedReq-pat-1"},
            }
        }
    ],
}

SPEC_ORDER_SELECT = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "hook": "order-select",
    "context": {
        "userId": "Practitioner/123",
        "patientId": "MedReq-pat-1",
        "encounterId": "MedReq-enc-1",
        "selections": ["MedicationRequest/smart-MedicationRequest-103"],
        "draftOrders": SPEC_DRAFT_ORDERS,
    },
}

SPEC_ORDER_SIGN = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "hook": "order-sign",
    "context": {
        "userId": "PractitionerRole/123",
        "patientId": "1288992",
        "encounterId": "89284",
        "draftOrders": SPEC_DRAFT_ORDERS,
    },
}

SPEC_CARD = {
    "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
    "summary": "Example Card",
    "indicator": "info",
    "detail": "This is an example card.",
    "source": {
        "label": "Static CDS Service Example",
        "url": "https://example.com",
        "icon": "https://example.com/img/icon-100px.png",
        "topic": {
            "system": "http://example.org/cds-services/fhir/CodeSystem/topics",
            "code": "12345",
            "display": "Mortality Prediction",
        },
    },
    "links": [{"label": "Google", "url": "https://google.com", "type": "absolute"}],
    "overrideReasons": [
        {
            "code": "reason-code-provided-by-service",
            "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
            "display": "Patient refused",
        }
    ],
}

SPEC_FEEDBACK = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "d7f4f1b4-bd5e-4a69-9a4b-6b9b2c0b3e52",
                    "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
                    "display": "Patient refused",
                },
                "userComment": "The patient will look into this with their own physician.",
            },
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}


def test_the_specs_examples_validate():
    Discovery.model_validate(SPEC_DISCOVERY)
    CdsRequest.model_validate(SPEC_REQUEST)
    for example in (SPEC_REQUEST, SPEC_ORDER_SELECT, SPEC_ORDER_SIGN):
        CONTEXTS[example["hook"]].model_validate(CdsRequest.model_validate(example).context)
    CdsResponse.model_validate({"cards": [SPEC_CARD]})
    Feedback.model_validate(SPEC_FEEDBACK)


@pytest.mark.parametrize(
    "change",
    [
        {"summary": "x" * 140},
        {"summary": ""},
        {"indicator": "hard-stop"},
        {"source": {}},
        {"links": [{"label": "App", "url": "https://x", "type": "relative"}]},
    ],
)
def test_a_card_breaking_the_specs_rules_is_refused(change):
    with pytest.raises(ValidationError):
        Card.model_validate({**SPEC_CARD, **change})


def test_feedback_needs_a_card_and_a_known_outcome():
    item = SPEC_FEEDBACK["feedback"][0]
    for broken in ({**item, "outcome": "ignored"}, {k: v for k, v in item.items() if k != "card"}):
        with pytest.raises(ValidationError):
            Feedback.model_validate({"feedback": [broken]})


def test_the_services_discovery_and_cards_keep_the_contract():
    Discovery.model_validate({"services": list(SERVICES.values())})
    ruleset = compile_ruleset(ruleset_v2_spec())
    severity = {c.spec.id: c.severity for c in ruleset.considerations}
    for name in ("pregnant", "suicide-high-risk", "bipolar-ii-hypomanic", "cssrs-q1-unrecorded"):
        result = ruleset.screen(vignette_v2(name)["facts"], today=TODAY)
        cards = _cards(result, severity, "https://screening.example/patients/")
        for card in cards:
            card.pop("_rule")
            assert card["uuid"]
        CdsResponse.model_validate({"cards": cards})
        if result.urgent or any(f.severity == "stop" for f in result.flags):
            assert any(c["indicator"] == "critical" for c in cards)


@pytest.mark.parametrize(
    "change",
    [
        {"selections": []},
        {"selections": ["smart-MedicationRequest-103"]},
        {"draftOrders": {"resourceType": "MedicationRequest"}},
        {"patientId": ""},
    ],
)
def test_an_order_select_context_breaking_the_hooks_rules_is_refused(change):
    with pytest.raises(ValidationError):
        OrderSelectContext.model_validate({**SPEC_ORDER_SELECT["context"], **change})


def test_order_sign_needs_its_draft_orders_and_order_select_its_selections():
    context = SPEC_ORDER_SIGN["context"]
    with pytest.raises(ValidationError):
        OrderSignContext.model_validate({k: v for k, v in context.items() if k != "draftOrders"})
    with pytest.raises(ValidationError):
        OrderSelectContext.model_validate(context)  # no selections


def test_discovery_offers_the_three_hooks():
    hooks = {
        s.hook: s.id
        for s in Discovery.model_validate({"services": list(SERVICES.values())}).services
    }

    assert hooks == {
        "patient-view": "ketamine-screening",
        "order-sign": "ketamine-order-check",
        "order-select": "ketamine-order-select",
    }
    assert all(service["prefetch"] for service in SERVICES.values())
