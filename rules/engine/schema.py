"""The facts schema as the rule language sees it: every name a rule may use, with its type.

Input facts are read off `IntakeFacts` (so the schema cannot drift from the data dictionary's
model); derived facts are declared here. Three derived facts are *definitions* in the rule
language itself, so evaluation, explanations ("systolic_bp = 150 (> 140)") and the `missing`
list see through them to the inputs they come from.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Literal

from rules.engine.facts import DATE_FIELDS, IntakeFacts, SuicideRisk

Kind = Literal["integer", "number", "boolean", "enum", "set"]


@dataclass(frozen=True, slots=True)
class FactType:
    """What a fact holds: its kind, its allowed values (enum and set) or range (numbers)."""

    kind: Kind
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        if self.kind in ("enum", "set"):
            noun = "one of" if self.kind == "enum" else "a set of"
            return f"{noun} {', '.join(self.values)}"
        if self.minimum is not None:
            return f"{self.kind} {_number(self.minimum)}–{_number(self.maximum)}"
        return self.kind


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _fact_type(name: str) -> FactType | None:
    info = IntakeFacts.model_fields[name]
    args = [a for a in typing.get_args(info.annotation) if a is not type(None)]
    inner = _first_shape(args[0] if args else info.annotation)
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    if inner is bool:
        return FactType("boolean")
    if inner is int:
        return FactType("integer", minimum=lo, maximum=hi)
    if inner is float:
        return FactType("number", minimum=lo, maximum=hi)
    if typing.get_origin(inner) is Literal:
        return FactType("enum", values=typing.get_args(inner))
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        if typing.get_origin(item) is Literal:
            return FactType("set", values=typing.get_args(item))
    return None  # nested objects (trials, C-SSRS) are reached through derived facts


def _first_shape(annotation: object) -> object:
    """A set fact's complete-list shape, seen through `Annotated[A | B, Discriminator]`."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return _first_shape(typing.get_args(annotation)[0])
    return annotation


def _input_facts() -> dict[str, FactType]:
    facts: dict[str, FactType] = {}
    for name in IntakeFacts.model_fields:
        if name in DATE_FIELDS:
            continue
        fact_type = _fact_type(name)
        if fact_type is not None:
            facts[name] = fact_type
    return facts


#: Facts computed in Python by `rules.engine.facts`.
COMPUTED_FACTS: dict[str, FactType] = {
    "failed_adequate_antidepressant_trials": FactType("integer", minimum=0, maximum=50),
    "suicide_risk": FactType("enum", values=typing.get_args(SuicideRisk)),
    "acute_suicidal_ideation_or_behavior": FactType("boolean"),
}

#: Facts that rule language level 2 may give as known in part (`rules.engine.partial`): every
#: comparison on them is decided over the values still possible.
KNOWN_IN_PART: frozenset[str] = frozenset({"suicide_risk"})

#: Derived facts defined in the rule language (inlined when a rule is compiled).
DEFINITIONS: dict[str, str] = {
    "bipolar": '"bipolar_i" in diagnoses or "bipolar_ii" in diagnoses',
    "bp_elevated": "systolic_bp > 140 or diastolic_bp > 90",
    "bp_crisis": "systolic_bp > 180 or diastolic_bp > 120",
}

#: Every value fact a rule may name (definitions are boolean and listed in `DEFINITIONS`).
FACTS: types.MappingProxyType[str, FactType] = types.MappingProxyType(
    {**_input_facts(), **COMPUTED_FACTS}
)

#: The eight conditions, in catalogue order: every result lists all of them.
CONDITIONS: tuple[str, ...] = (
    "mdd",
    "trd",
    "bipolar_depression",
    "gad",
    "ptsd",
    "ocd",
    "fibromyalgia",
    "crps",
)

SEVERITIES: tuple[str, ...] = ("stop", "urgent", "review", "info")


def all_names() -> list[str]:
    """Every name a rule may use, for suggestions in error messages and the admin's help."""
    return sorted([*FACTS, *DEFINITIONS])
