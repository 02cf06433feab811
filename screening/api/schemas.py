"""Request and response bodies of the API. Facts and results use the engine's own models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from rules.engine import IsoDate
from screening.models import FlagReview


class FieldProblem(Schema):
    """One problem with the input, as the data dictionary's `{field, message}`."""

    field: str
    message: str


class Detail(Schema):
    """Every error answer: a machine code (`malformed`, `unauthorized`, `forbidden`,
    `not_found`, `not_allowed`, `refused`, `conflict`, `locked`, `too_large`,
    `unsupported_media_type`, `invalid`, `unavailable`), a sentence, and the problems by field
    (the data dictionary's error list; empty when no field is to blame)."""

    code: str
    detail: str
    errors: list[FieldProblem]


#: Request bodies are JSON as documented: a number is not text, text is not a number, 37.0 is
#: not an integer, and a property the schema does not name is refused, not ignored.
STRICT = ConfigDict(strict=True, extra="forbid")
#: Text a database column can store: no NUL character (the schema says so as well as the server).
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

#: The errors every operation may answer (400, 413 and 415 only where a body is read).
REFUSALS: dict[int | frozenset[int], Any] = {frozenset({400, 401, 403, 404, 413, 415, 422}): Detail}


class PatientIn(Schema):
    model_config = STRICT

    mrn: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    family_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    given_names: str = Field(min_length=1, max_length=150, pattern=NO_NUL)
    date_of_birth: IsoDate = Field(
        description="An ISO date (YYYY-MM-DD), not in the future, at most 120 years ago."
    )
    sex_at_birth: Literal["female", "male", "intersex"]

    @field_validator("mrn", "family_name", "given_names")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class PatientSearch(Schema):
    model_config = STRICT

    mrn: str = Field(
        min_length=1, max_length=32, pattern=NO_NUL, description="The medical record number."
    )

    @field_validator("mrn")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class PatientOut(Schema):
    uuid: UUID
    mrn: str
    family_name: str
    given_names: str
    date_of_birth: date
    sex_at_birth: str
    created_at: datetime


class IntakeOut(Schema):
    uuid: UUID
    patient: UUID
    status: Literal["draft", "locked"]
    version: int = Field(
        description="Send it back when saving (or as If-Match) to detect conflicts."
    )
    amends: UUID | None = Field(description="The signed screening this intake amends.")
    answers: dict[str, Any] = Field(
        description="The recorded facts, as the data dictionary's facts document without "
        "age_years, date_of_birth, sex_at_birth and screening_date (the patient record's)."
    )
    created_at: datetime
    updated_at: datetime


class IntakeUpdate(Schema):
    model_config = STRICT

    version: int | None = Field(
        default=None,
        description="The version you read (required; a client may send it as an If-Match "
        'header instead, e.g. `If-Match: "3"`). A stale version is refused with 409.',
    )
    answers: dict[str, Any] = Field(
        description="Every recorded answer (a save replaces them all; absent = not recorded)."
    )


class RuleSetOut(Schema):
    name: str
    version: int


class ReviewOut(Schema):
    carried_from: UUID | None = Field(
        default=None,
        description="The screening whose review of the same flag, fired for the same reasons, "
        "this one carries forward.",
    )
    rule: str
    severity: str
    kind: str
    reason_code: str
    reason: str
    reviewed_by: str
    reviewed_at: datetime
    seen: str = Field(
        description="Pass back as `seen` when revising this review, so that a review someone "
        "else saved meanwhile is not silently replaced."
    )


class ScreeningSummary(Schema):
    uuid: UUID
    patient: UUID
    intake: UUID
    status: Literal["unsigned", "superseded", "signed"]
    disposition: str
    urgent: bool
    ruleset: RuleSetOut
    screening_date: date
    run_by: str
    run_at: datetime
    signed_by: str | None
    signed_at: datetime | None


class ScreeningOut(ScreeningSummary):
    facts: dict[str, Any] = Field(description="The input facts as evaluated.")
    result: dict[str, Any] = Field(description="The result, as the data dictionary defines it.")
    reviews: list[ReviewOut]
    pending_flags: list[str] = Field(description="Flags still to handle before signing.")
    stale_rules_reason: str = Field(
        description="Why it was signed although its rule-set version was no longer published."
    )
    incomplete_reasons: dict[Text, Text] = Field(
        description="Why missing information could not be obtained, by fact (signed only)."
    )


class ScreeningPage(Schema):
    items: list[ScreeningSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class AcknowledgeIn(Schema):
    model_config = STRICT

    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    seen: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_NUL,
        description="The flag's review as you last read it: its `seen` from the screening's "
        '`reviews`, or `"none"` when it had none. When the review changed since, nothing is '
        "saved and the answer is 409. Omit it to skip the check.",
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a reason: it is kept with the screening")
        return value.strip()


class OverrideIn(AcknowledgeIn):
    reason_code: Literal[tuple(FlagReview.OverrideReason.values)]  # type: ignore[valid-type]


class SignIn(Schema):
    """What signing may need besides reviewed flags (the body may be left out otherwise)."""

    model_config = STRICT

    stale_reason: str = Field(
        default="",
        max_length=2000,
        pattern=NO_NUL,
        description="Required when the screening's rule-set version is no longer published: "
        "why it is signed without running it again.",
    )
    incomplete_reasons: dict[Text, Text] = Field(
        default_factory=dict,
        max_length=100,
        json_schema_extra={"propertyNames": {"pattern": NO_NUL}},
        description="Required for an incomplete result: why each missing fact a stop or urgent "
        'rule needed could not be obtained, by fact name, or one reason for all under `"*"`.',
    )


class IntakeFromFhir(Schema):
    patient: UUID = Field(description="The patient (registered already) the Bundle is about.")
    bundle: dict[str, Any] = Field(
        description="A FHIR R4 Bundle: Observations, Conditions, MedicationRequests, the Patient."
    )


class PrefillSource(Schema):
    reference: str = Field(description="The FHIR resource, e.g. Observation/abc.")
    date: str | None
    display: str


class PrefillNotUsed(Schema):
    fact: str
    value: Any
    source: PrefillSource
    status: Literal["stale", "conflict", "invalid"]
    note: str


class IntakePrefilled(Schema):
    intake: IntakeOut
    sources: dict[str, list[PrefillSource]] = Field(
        description="Per prefilled answer, where it came from; unchecked until a clinician "
        "confirms, changes or clears it (the form, one by one) or saves the intake (PUT): the "
        "screening does not run before."
    )
    not_used: list[PrefillNotUsed] = Field(
        description="What the data said that was not used: stale, conflicting or invalid."
    )
    unmapped: int = Field(description="Resources the mapping does not read (left unknown).")
