"""CDS Hooks 2.0 objects as pydantic models (https://cds-hooks.hl7.org/2.0/): requests,
cards, responses, feedback and discovery, with the invariants the spec states."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_OPEN = ConfigDict(extra="allow")  # the spec allows extensions and fields of later versions
_CLOSED = ConfigDict(extra="forbid")


class Coding(BaseModel):
    model_config = _OPEN
    code: str
    system: str | None = None
    display: str | None = None


class CdsRequest(BaseModel):
    """A hook call: `hook`, `hookInstance`, `context`, optional `fhirServer`,
    `fhirAuthorization` and `prefetch`."""

    model_config = _OPEN
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    context: dict[str, Any]
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None
    prefetch: dict[str, Any] | None = None


class PatientViewContext(BaseModel):
    """`patient-view` context: who is looking at which patient."""

    model_config = _OPEN
    userId: str = Field(min_length=1)
    patientId: str = Field(min_length=1)
    encounterId: str | None = None


class OrderSignContext(PatientViewContext):
    """`order-sign` context: the orders about to be signed, as a FHIR Bundle."""

    draftOrders: dict[str, Any]

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("resourceType") != "Bundle" or not isinstance(value.get("entry", []), list):
            raise ValueError("draftOrders must be a FHIR Bundle")
        return value


class OrderSelectContext(OrderSignContext):
    """`order-select` context: `selections` names (`MedicationRequest/103`) the newly selected
    orders among the `draftOrders` Bundle."""

    selections: list[str] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _references(cls, value: list[str]) -> list[str]:
        if any(len(s.split("/")) != 2 or not all(s.split("/")) for s in value):
            raise ValueError("each selection is {type}/{id}")
        return value


#: The context model of each hook the service answers.
CONTEXTS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-sign": OrderSignContext,
    "order-select": OrderSelectContext,
}


class CardSource(BaseModel):
    model_config = _OPEN
    label: str = Field(min_length=1)
    url: str | None = None
    topic: Coding | None = None


class Link(BaseModel):
    model_config = _OPEN
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]


class Card(BaseModel):
    """A card: `summary` under 140 characters, `indicator` info/warning/critical, a `source`
    with a label; `uuid` so the EHR can send feedback."""

    model_config = _OPEN
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: CardSource
    suggestions: list[dict[str, Any]] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CdsResponse(BaseModel):
    model_config = _OPEN
    cards: list[Card]
    systemActions: list[dict[str, Any]] | None = None


class OverrideReason(BaseModel):
    model_config = _OPEN
    reason: Coding | None = None
    userComment: str | None = None


class FeedbackItem(BaseModel):
    model_config = _OPEN
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: str = Field(min_length=1)
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: OverrideReason | None = None


class Feedback(BaseModel):
    model_config = _OPEN
    feedback: list[FeedbackItem] = Field(min_length=1)


class Service(BaseModel):
    model_config = _OPEN
    hook: str
    id: str
    title: str | None = None
    description: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None

    @field_validator("id")
    @classmethod
    def _url_safe(cls, value: str) -> str:
        if not value or "/" in value:
            raise ValueError("a service id is one URL path segment")
        return value


class Discovery(BaseModel):
    model_config = _OPEN
    services: list[Service]
