"""The screening result, exactly as the data dictionary's result JSON.

The parts of a result are slotted dataclasses (cheap to build: the engine makes a dozen per
evaluation, and frozen dataclasses cost four times as much to construct); `ScreeningResult` is
the frozen pydantic model that validates, serialises and documents the whole, so stored
snapshots and API payloads go through one schema. Results are never mutated after `evaluate`
returns; the parts' sequences are tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["indicated", "possible", "not_indicated", "undetermined"]
Severity = Literal["stop", "urgent", "review", "info"]
Disposition = Literal[
    "contraindicated", "incomplete", "not_indicated", "review_required", "eligible"
]


@dataclass(frozen=True, slots=True)
class RuleSetRef:
    name: str
    version: int


@dataclass(slots=True)
class Indication:
    condition: str
    status: Status
    rule: str
    because: tuple[str, ...]


@dataclass(slots=True)
class Flag:
    rule: str
    severity: Severity
    title: str
    message: str
    because: tuple[str, ...]
    source: str


@dataclass(slots=True)
class Missing:
    fact: str
    needed_by: tuple[str, ...]


class ScreeningResult(BaseModel):
    """What a screening shows: disposition, all eight indications, flags and missing facts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ruleset: RuleSetRef
    disposition: Disposition
    urgent: bool
    indications: tuple[Indication, ...]
    flags: tuple[Flag, ...]
    missing: tuple[Missing, ...]

    def flag(self, rule_id: str) -> Flag | None:
        """The flag `rule_id` raised, or None when it did not fire."""
        return next((flag for flag in self.flags if flag.rule == rule_id), None)
