"""A CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/) over the published rule set.

`GET /cds-services` lists the services; `POST /cds-services/{id}` answers a hook with cards;
`POST /cds-services/{id}/feedback` stores accepted/overridden outcomes. Calls are authenticated
with the EHR's signed JWT (`cds_auth`); every call is an audit event without patient data.

Cards come from the same engine, mapping and rule set as the app: stop and urgent flags are
`critical`, review flags `warning`; a stop or urgent rule left undetermined, or an incomplete
screening, is one `info` card naming what is not recorded, with a link into the app.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from rules.engine import ScreeningResult
from rules.loader import compiled_version
from rules.selectors import published_version
from screening.core.audit import audit_record
from screening.ehr.cds_auth import CdsRefused, verify
from screening.ehr.cds_schema import (
    CONTEXTS,
    CdsRequest,
    CdsResponse,
    Discovery,
    Feedback,
    OrderSelectContext,
    OrderSignContext,
)
from screening.ehr.mapping import fhir_map, map_resources
from screening.ehr.models import CdsCard, CdsFeedback
from screening.fhir.hygiene import fhir_hygiene

PATIENT_VIEW = "ketamine-screening"
ORDER_SIGN = "ketamine-order-check"
ORDER_SELECT = "ketamine-order-select"

_PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&status=final",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "questionnaires": "QuestionnaireResponse?patient={{context.patientId}}&status=completed",
}

SERVICES = {
    PATIENT_VIEW: {
        "hook": "patient-view",
        "id": PATIENT_VIEW,
        "title": "Ketamine therapy screening",
        "description": "Screens the patient's recorded data against the published ketamine "
        "screening rules: contraindications, urgent flags and what needs review. Data the "
        "record does not hold is reported as not recorded, never as no.",
        "prefetch": _PREFETCH,
    },
    ORDER_SIGN: {
        "hook": "order-sign",
        "id": ORDER_SIGN,
        "title": "Ketamine / esketamine order check",
        "description": "When a ketamine or esketamine order is signed, screens the patient "
        "against the published ketamine screening rules.",
        "prefetch": _PREFETCH,
    },
    ORDER_SELECT: {
        "hook": "order-select",
        "id": ORDER_SELECT,
        "title": "Ketamine / esketamine order selection check",
        "description": "When a ketamine or esketamine order is selected, screens the patient "
        "against the published ketamine screening rules, before the order is signed.",
        "prefetch": _PREFETCH,
    },
}

#: Stop cards offer these reasons to override.
OVERRIDE_REASONS = [
    {
        "code": "specialist_approval",
        "system": "urn:ketamine-screening:override-reason",
        "display": "Specialist or MDT approval",
    },
    {
        "code": "data_incorrect",
        "system": "urn:ketamine-screening:override-reason",
        "display": "The recorded data is incorrect",
    },
    {
        "code": "risk_accepted",
        "system": "urn:ketamine-screening:override-reason",
        "display": "Benefit judged to outweigh the risk, documented",
    },
]


def _json(status: int, body: Any) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@login_not_required
@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """The services this CDS service offers (public, as the spec says)."""
    body = Discovery.model_validate({"services": list(SERVICES.values())})
    return _json(200, body.model_dump(exclude_none=True))


def _authenticated(request: HttpRequest, service_id: str) -> str:
    audience = request.build_absolute_uri(reverse("ehr:cds_service", args=[service_id]))
    return verify(request.headers.get("Authorization", ""), audience=audience)


@csrf_exempt
@login_not_required
@require_POST
def service(request: HttpRequest, service_id: str) -> JsonResponse:
    """Answer a hook with cards."""
    if service_id not in SERVICES:
        return _json(404, {"error": "no such service"})
    try:
        client = _authenticated(request, service_id)
    except CdsRefused as refused:
        audit_record(
            actor=None,
            action="cds.refused",
            object_type="cds.service",
            object_id=service_id,
            detail={"why": str(refused)},
        )
        return _json(401, {"error": str(refused)})
    try:
        call = CdsRequest.model_validate(json.loads(request.body))
    except (ValueError, ValidationError):
        return _json(400, {"error": "the body is not a CDS Hooks request"})
    if call.hook != SERVICES[service_id]["hook"]:
        return _json(400, {"error": f"this service answers {SERVICES[service_id]['hook']}"})
    try:
        context = CONTEXTS[call.hook].model_validate(call.context)
    except ValidationError as invalid:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in invalid.errors()})
        return _json(400, {"error": f"the {call.hook} context is invalid: {', '.join(fields)}"})
    resources = _prefetched(call.prefetch or {})
    if resources is None:
        try:
            resources = _fetched(call, client)
        except CdsRefused as refused:
            return _json(412, {"error": str(refused)})
    # The order hooks (order-select's context extends order-sign's) answer only for ketamine.
    if isinstance(context, OrderSignContext) and not _orders_ketamine(context):
        cards: list[dict[str, Any]] = []
    else:
        cards = _screen(resources, request, service_id)
    body = CdsResponse.model_validate({"cards": cards}).model_dump(exclude_none=True)
    audit_record(
        actor=None,
        action="cds.call",
        object_type="cds.service",
        object_id=service_id,
        detail={
            "client": client,
            "hook": call.hook,
            "cards": sorted(c["indicator"] for c in cards),
        },
    )
    return _json(200, fhir_hygiene(body) if body["cards"] else body)


def _prefetched(prefetch: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The resources of the prefetch (single resources or searchset Bundles); None when the
    EHR sent none of the templates' keys."""
    if not any(key in prefetch for key in _PREFETCH):
        return None
    resources: list[Mapping[str, Any]] = []
    for value in prefetch.values():
        if not isinstance(value, Mapping):
            continue
        if value.get("resourceType") == "Bundle":
            resources.extend(
                e["resource"]
                for e in value.get("entry", [])
                if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
            )
        else:
            resources.append(value)
    return resources


#: Seconds to wait for the EHR's FHIR server per query (the hook should answer in well under 1 s).
FETCH_TIMEOUT = 5.0


def _fetched(call: CdsRequest, client: str) -> list[Mapping[str, Any]]:
    """The prefetch templates' resources, fetched from the hook's `fhirServer` with its
    `fhirAuthorization` (only from a server allow-listed for the client: no fetching from
    anywhere a caller names)."""
    server = (call.fhirServer or "").rstrip("/")
    allowed = settings.CDS_CLIENTS.get(client, {}).get("fhir_servers", [])
    if not server or not call.fhirAuthorization:
        raise CdsRefused("no prefetch, and no fhirServer with fhirAuthorization to fetch from")
    if not any(server == s.rstrip("/") or server.startswith(s.rstrip("/") + "/") for s in allowed):
        raise CdsRefused("fhirServer is not allowed for this client")
    patient_id = str(call.context.get("patientId", ""))
    if not patient_id or "/" in patient_id or "?" in patient_id:
        raise CdsRefused("context.patientId is missing or not an id")
    headers = {
        "Accept": "application/fhir+json",
        "Authorization": f"Bearer {call.fhirAuthorization.get('access_token', '')}",
    }
    prefetch: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=server + "/", headers=headers, timeout=FETCH_TIMEOUT) as http:
            for key, template in _PREFETCH.items():
                response = http.get(template.replace("{{context.patientId}}", patient_id))
                if response.status_code == 404:
                    continue
                response.raise_for_status()
                prefetch[key] = response.json()
    except (httpx.HTTPError, ValueError):
        raise CdsRefused("fetching from fhirServer failed") from None
    return _prefetched(prefetch) or []


def _orders_ketamine(context: OrderSignContext | OrderSelectContext) -> bool:
    """Whether the draft orders (for order-select: the selected ones) name ketamine or
    esketamine by an RxNorm code of the mapping file's `[orders]`."""
    spec = fhir_map()
    codes = spec["orders"]["rxnorm"]
    rxnorm = spec["systems"]["rxnorm"]
    selected = set(context.selections) if isinstance(context, OrderSelectContext) else None
    for entry in context.draftOrders.get("entry", []):
        resource = entry.get("resource", {}) if isinstance(entry, Mapping) else {}
        if not isinstance(resource, Mapping):
            continue
        reference = f"{resource.get('resourceType')}/{resource.get('id')}"
        if selected is not None and reference not in selected:
            continue
        concept = resource.get("medicationCodeableConcept") or {}
        for coding in concept.get("coding", []) if isinstance(concept, Mapping) else []:
            if (
                isinstance(coding, Mapping)
                and coding.get("system") in (rxnorm, None)
                and coding.get("code") in codes
            ):
                return True
    return False


def _screen(
    resources: Iterable[Mapping[str, Any]], request: HttpRequest, service_id: str
) -> list[dict[str, Any]]:
    today = timezone.localdate()
    prefill = map_resources(resources, today=today)
    ruleset = compiled_version(published_version())
    result = ruleset.screen(prefill.facts, today=today)
    severity = {c.spec.id: c.severity for c in ruleset.considerations}
    link = request.build_absolute_uri(reverse("patients:list"))
    cards = _cards(result, severity, link)
    with transaction.atomic():
        for card in cards:
            CdsCard.objects.create(
                uuid=card["uuid"],
                service=service_id,
                rule=card.pop("_rule", ""),
                indicator=card["indicator"],
            )
    return cards


def _cards(result: ScreeningResult, severity: Mapping[str, str], link: str) -> list[dict[str, Any]]:
    version = f"{result.ruleset.name} rule set v{result.ruleset.version}"
    cards: list[dict[str, Any]] = []
    for flag in result.flags:
        if flag.severity == "info":
            continue
        why = "\n".join(f"- {reason}" for reason in flag.because)
        card: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "summary": _summary(("Urgent: " if flag.severity == "urgent" else "") + flag.title),
            "detail": f"{flag.message}\n\n**Why**\n\n{why}\n\nThe screening flags; it does not decide treatment.",
            "indicator": "critical" if flag.severity in ("stop", "urgent") else "warning",
            "source": {
                "label": f"{version}, rule {flag.rule}"
                + (f": {flag.source}" if flag.source else "")[:200]
            },
            "_rule": flag.rule,
        }
        if flag.severity == "stop":
            card["overrideReasons"] = OVERRIDE_REASONS
        cards.append(card)
    blocked = sorted(
        {
            m.fact
            for m in result.missing
            if any(severity.get(r) in ("stop", "urgent") for r in m.needed_by)
        }
    )
    if blocked or result.disposition == "incomplete":
        facts = blocked or sorted(m.fact for m in result.missing)
        others = sorted(m.fact for m in result.missing if m.fact not in facts)
        also = f"\n\nAlso not recorded: {', '.join(f'`{f}`' for f in others)}." if others else ""
        cards.append(
            {
                "uuid": str(uuid.uuid4()),
                "summary": _summary("Ketamine screening incomplete: " + ", ".join(facts)),
                "detail": "The record does not say "
                + ", ".join(f"`{f}`" for f in facts)
                + (", needed by a contraindication or urgent rule." if blocked else ".")
                + also
                + "\n\nNot recorded is not no: start an intake from this patient's EHR data "
                "in the screening app and answer what is missing.",
                "indicator": "info",
                "source": {"label": version},
                "links": [{"label": "Open the screening app", "url": link, "type": "absolute"}],
                "_rule": "",
            }
        )
    return cards


def _summary(text: str) -> str:
    return text if len(text) < 140 else text[:136].rstrip() + "…"


@csrf_exempt
@login_not_required
@require_POST
def feedback(request: HttpRequest, service_id: str) -> JsonResponse:
    """Store accepted/overridden outcomes of this service's cards."""
    if service_id not in SERVICES:
        return _json(404, {"error": "no such service"})
    try:
        audience = request.build_absolute_uri(reverse("ehr:cds_service", args=[service_id]))
        client = verify(request.headers.get("Authorization", ""), audience=audience)
    except CdsRefused as refused:
        return _json(401, {"error": str(refused)})
    try:
        items = Feedback.model_validate(json.loads(request.body)).feedback
    except (ValueError, ValidationError):
        return _json(400, {"error": "the body is not CDS Hooks feedback"})
    stored = 0
    with transaction.atomic():
        for item in items:
            card_uuid = _uuid(item.card)
            card = (
                CdsCard.objects.filter(uuid=card_uuid, service=service_id).first()
                if card_uuid
                else None
            )
            if card is None:
                continue
            reason = item.overrideReason
            CdsFeedback.objects.create(
                card=card,
                outcome=item.outcome,
                reason_code=(reason.reason.code if reason and reason.reason else "")[:64],
                comment=(reason.userComment or "") if reason else "",
                outcome_at=item.outcomeTimestamp[:40],
            )
            stored += 1
        audit_record(
            actor=None,
            action="cds.feedback",
            object_type="cds.service",
            object_id=service_id,
            detail={"client": client, "stored": stored},
        )
    if stored != len(items):
        return _json(404, {"error": "some cards are unknown", "stored": stored})
    return _json(200, {"stored": stored})


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
