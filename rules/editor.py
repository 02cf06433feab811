"""The rule editor's help: the facts palette, the operators, and trying logic before saving.

Everything here comes from the engine (`FACTS`, `DEFINITIONS`, `OPERATORS`, `FACT_LABELS`),
so the help names exactly what the parser and the checker accept. Trying logic stores nothing:
it reads a test case's facts and evaluates the text as typed, as the engine would under the
draft's rule language level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from rules.engine import (
    DEFINITIONS,
    FACTS,
    OPERATORS,
    FactsInvalid,
    FactType,
    LogicInvalid,
    LogicOutcome,
    Operator,
    evaluate_logic,
    fact_label,
    indication_status,
    validate_facts,
)
from rules.engine.schema import COMPUTED_FACTS
from rules.models import Rule, RuleTestCase
from rules.validators import logic_errors

_KIND_WORDS = {
    "boolean": "yes/no",
    "integer": "whole number",
    "number": "number",
    "enum": "one of",
    "set": "set of",
}


@dataclass(frozen=True, slots=True)
class PaletteFact:
    """One name a rule may use, as the palette lists it."""

    name: str
    label: str
    kind: str  # the engine's kind, or "definition"
    kind_words: str
    values: tuple[str, ...] = ()
    range: str = ""
    definition: str = ""

    @property
    def search_text(self) -> str:
        """What the palette's search box matches (lower case)."""
        return " ".join((self.name, self.label, *self.values, self.definition)).lower()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _palette_fact(name: str, fact_type: FactType) -> PaletteFact:
    span = ""
    if fact_type.minimum is not None or fact_type.maximum is not None:
        span = f"{_number(fact_type.minimum)}–{_number(fact_type.maximum)}"
    return PaletteFact(
        name=name,
        label=fact_label(name),
        kind=fact_type.kind,
        kind_words=_KIND_WORDS[fact_type.kind],
        values=fact_type.values,
        range=span,
    )


@dataclass(frozen=True, slots=True)
class Palette:
    input_facts: tuple[PaletteFact, ...]
    derived_facts: tuple[PaletteFact, ...]
    operators: tuple[Operator, ...]

    @property
    def fact_count(self) -> int:
        return len(self.input_facts) + len(self.derived_facts)


def fact_palette() -> Palette:
    """Every input fact and derived fact with its type, values or range and label, and every
    operator with an example: the help beside the rule editor's logic fields."""
    inputs = tuple(
        _palette_fact(name, fact_type)
        for name, fact_type in FACTS.items()
        if name not in COMPUTED_FACTS
    )
    derived = tuple(
        _palette_fact(name, fact_type) for name, fact_type in COMPUTED_FACTS.items()
    ) + tuple(
        PaletteFact(
            name=name,
            label=fact_label(name),
            kind="definition",
            kind_words="yes/no",
            definition=text,
        )
        for name, text in DEFINITIONS.items()
    )
    return Palette(inputs, derived, OPERATORS)


# --- trying logic ------------------------------------------------------------------------------

#: The logic fields of each kind of rule, with how the try-it answer names them.
LOGIC_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    Rule.Kind.INDICATION: (("diagnosis_logic", "Diagnosis test"), ("logic", "Criteria")),
    Rule.Kind.CONSIDERATION: (("logic", "Logic"),),
}

_TRUTH_WORDS = {True: "true", False: "false", None: "unknown"}


@dataclass(frozen=True, slots=True)
class FieldTrial:
    """One logic field evaluated: its outcome, or the problems that stop it compiling."""

    name: str
    label: str
    outcome: LogicOutcome | None = None
    #: Sentences with their position; in HTML each shows the caret excerpt (`LogicMessage`).
    problems: tuple[str, ...] = ()

    @property
    def answer(self) -> str:
        return "" if self.outcome is None else _TRUTH_WORDS[self.outcome.value]


@dataclass(frozen=True, slots=True)
class RuleTrial:
    """Logic as typed, tried against one test case (nothing stored)."""

    case: RuleTestCase
    kind: str
    fields: tuple[FieldTrial, ...] = ()
    facts_problems: tuple[str, ...] = field(default=())

    @property
    def has_problems(self) -> bool:
        return bool(self.facts_problems) or any(f.problems for f in self.fields)

    @property
    def status(self) -> str:
        """For an indication rule whose fields all compile: the condition's status."""
        if self.kind != Rule.Kind.INDICATION or self.has_problems:
            return ""
        outcomes = {f.name: f.outcome for f in self.fields}
        diagnosis, criteria = outcomes["diagnosis_logic"], outcomes["logic"]
        assert diagnosis is not None
        assert criteria is not None
        return indication_status(diagnosis.value, criteria.value).replace("_", " ")

    @property
    def unknown(self) -> tuple[str, ...]:
        """Input facts that left any field unknown."""
        found = dict.fromkeys(name for f in self.fields if f.outcome for name in f.outcome.unknown)
        return tuple(found)


def rule_try(
    *,
    case: RuleTestCase,
    kind: str,
    logic: Mapping[str, str],
    language: int,
    today: date,
) -> RuleTrial:
    """Evaluate the logic fields of a rule of `kind` as typed (`logic`: field name → text)
    against `case`'s facts, read at rule language `language`. Stores nothing."""
    try:
        facts = validate_facts(case.facts, today=today)
    except FactsInvalid as exc:
        problems = tuple(f"{error.field} {error.message}" for error in exc.errors)
        return RuleTrial(case, kind, facts_problems=problems)
    values = facts.values_for(language)
    fields = []
    for name, label in LOGIC_FIELDS[kind]:
        text = logic.get(name, "")
        if not text.strip():
            fields.append(FieldTrial(name, label, problems=("Write the rule's logic.",)))
            continue
        try:
            fields.append(FieldTrial(name, label, outcome=evaluate_logic(text, values)))
        except LogicInvalid:
            problems = tuple(m for error in logic_errors(text) for m in error.messages)
            fields.append(FieldTrial(name, label, problems=problems))
    return RuleTrial(case, kind, tuple(fields))
