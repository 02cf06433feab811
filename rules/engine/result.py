"""The screening result, exactly as the data dictionary's result JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["indicated", "possible", "not_indicated", "undetermined"]
Severity = Literal["stop", "urgent", "review", "info"]
Disposition = Literal["contraindicated", "incomplete", "not_indicated", "review_required", "eligible"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RuleSetRef(BaseModel):
    model_config = _FROZEN

    name: str
    version: int


class Indication(BaseModel):
    model_config = _FROZEN

    condition: str
    status: Status
    rule: str
    because: tuple[str, ...]


class Flag(BaseModel):
    model_config = _FROZEN

    rule: str
    severity: Severity
    title: str
    message: str
    because: tuple[str, ...]
    source: str


class Missing(BaseModel):
    model_config = _FROZEN

    fact: str
    needed_by: tuple[str, ...]


class ScreeningResult(BaseModel):
    """What a screening shows: disposition, all eight indications, flags and missing facts."""

    model_config = _FROZEN

    ruleset: RuleSetRef
    disposition: Disposition
    urgent: bool
    indications: tuple[Indication, ...]
    flags: tuple[Flag, ...]
    missing: tuple[Missing, ...]
