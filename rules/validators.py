"""Adapters from the engine's checks to Django validation errors.

Forms and services touch the engine's validation only through this module: rule logic through
`check_logic`, test-case facts through `validate_facts`, rule IDs through the engine's pattern.
Every problem becomes a `ValidationError` naming its field, in a sentence a rule admin can act
on; logic problems carry their position (line and column) and a caret excerpt of the text.

The excerpt is built with `format_html`, so the rule text inside it is escaped: rule text is
plain text wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.html import format_html
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from rules.engine import CONDITIONS, FactsInvalid, IntakeFacts, LogicProblem, check_logic
from rules.engine import validate_facts as engine_validate_facts
from rules.engine.result import Disposition, Status
from rules.engine.ruleset import RULE_ID, RuleSpec

#: Longest excerpt of a logic line shown under a problem; longer lines are cut around it.
EXCERPT_WIDTH = 72

#: Limits of the engine's `RuleSpec`, so a form refuses what the engine would refuse.
TEXT_LIMITS: dict[str, int] = {
    name: next(
        m.max_length for m in RuleSpec.model_fields[spec].metadata if hasattr(m, "max_length")
    )
    for name, spec in {
        "title": "title",
        "message": "message",
        "evidence": "evidence",
        "source": "source",
        "logic": "logic",
        "diagnosis_logic": "logic",
    }.items()
}
RULE_ID_MAX_LENGTH = 40
SEVERITIES = ("stop", "urgent", "review", "info")


# --- rule logic ------------------------------------------------------------------------------


def logic_location(text: str, position: int) -> tuple[int, int]:
    """The 1-based (line, column) of the engine's 1-based `position` in `text`."""
    before = text[: max(position - 1, 0)]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1)
    return line, column


def logic_message(text: str, problem: LogicProblem) -> str:
    """A problem as one sentence ending with where it is: `… (column 12)`."""
    line, column = logic_location(text, problem.position)
    where = f"column {column}" if "\n" not in text else f"line {line}, column {column}"
    return f"{problem.message} ({where})"


def logic_excerpt(text: str, problem: LogicProblem) -> str:
    """The line holding the problem with a caret line under the offending part."""
    line_number, column = logic_location(text, problem.position)
    line = text.split("\n")[line_number - 1]
    start = 0
    if len(line) > EXCERPT_WIDTH:
        start = max(0, min(column - 1 - EXCERPT_WIDTH // 3, len(line) - EXCERPT_WIDTH))
        line = line[start : start + EXCERPT_WIDTH]
    offset = column - 1 - start
    width = max(1, min(problem.length, len(line) - offset))
    return f"{line}\n{' ' * offset}{'^' * width}"


def logic_problems(text: str) -> list[str]:
    """Every problem in `text` as a plain sentence with its position (empty when it compiles)."""
    return [logic_message(text, p) for p in check_logic(text)]


class LogicMessage(str):
    """A logic problem as a plain sentence with its position; in HTML it also shows the caret
    excerpt under the offending part (escaped: rule text is plain text wherever it is shown).

    It stays a `str`, so services, the API and the audit trail see the sentence alone.
    """

    excerpt: str

    def __new__(cls, sentence: str, excerpt: str) -> LogicMessage:
        message = super().__new__(cls, sentence)
        message.excerpt = excerpt
        return message

    def __str__(self) -> str:  # keep the subclass through str(), as Django's SafeString does
        return self

    def __html__(self) -> str:
        return format_html(
            '{}<code class="logic-pointer" aria-hidden="true">{}</code>',
            str.__str__(self),
            self.excerpt,
        )


def logic_errors(text: str) -> list[ValidationError]:
    """Every problem in `text` as a validation error whose message is a `LogicMessage`."""
    return [
        ValidationError(
            LogicMessage(logic_message(text, problem), logic_excerpt(text, problem)),
            code="logic",
        )
        for problem in check_logic(text)
    ]


def validate_logic(text: str) -> None:
    """A form-field validator: raise every problem the engine finds in rule logic."""
    errors = logic_errors(text)
    if errors:
        raise ValidationError(errors)


def validate_rule_values(kind: str, values: Mapping[str, Any]) -> None:
    """Check the editable fields of a rule of `kind`; raise a `ValidationError` by field.

    Used by the forms (errors beside each field) and again by the services, so every door
    into a draft gets the same checks.
    """
    errors: dict[str, list[Any]] = {}
    title = values.get("title")
    if title is not None and not str(title).strip():
        errors.setdefault("title", []).append("Give the rule a title.")
    for name, limit in TEXT_LIMITS.items():
        value = values.get(name)
        if value is not None and len(str(value)) > limit:
            errors.setdefault(name, []).append(f"Keep this under {limit} characters.")
    if "severity" in values and values["severity"] not in SEVERITIES:
        errors.setdefault("severity", []).append(f"Choose one of {', '.join(SEVERITIES)}.")
    logic_fields = ("diagnosis_logic", "logic") if kind == "indication" else ("logic",)
    for name in logic_fields:
        text = values.get(name)
        if text is None:
            continue
        if not str(text).strip():
            errors.setdefault(name, []).append("Write the rule's logic.")
            continue
        errors.setdefault(name, []).extend(logic_errors(str(text)))
    problems = {name: messages for name, messages in errors.items() if messages}
    if problems:
        raise ValidationError(problems)


def validate_rule_id(value: str) -> None:
    """A new rule's ID: capitals, digits and hyphens, as the engine requires."""
    if len(value) > RULE_ID_MAX_LENGTH or not RULE_ID.fullmatch(value):
        raise ValidationError(
            "Use capital letters, digits and single hyphens, starting with a letter and at most "
            f"{RULE_ID_MAX_LENGTH} characters, e.g. REV-NEW-CHECK.",
            code="rule_id",
        )


# --- test cases ------------------------------------------------------------------------------


def validate_case_facts(facts: Any, *, today: date) -> None:
    """A test case's facts must be a valid input document; every problem names its fact."""
    try:
        engine_validate_facts(facts, today=today)
    except FactsInvalid as exc:
        raise ValidationError(
            [f"{error.field} {error.message}" for error in exc.errors], code="facts"
        ) from None


#: Facts a result can report as missing: the input facts (dates only feed `age_years`).
INPUT_FACTS = frozenset(IntakeFacts.model_fields) - {"date_of_birth", "screening_date"}


class _Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    disposition: Disposition
    urgent: bool
    indications: dict[str, Status]
    flags: list[str] = Field(max_length=200)
    missing: list[str] = Field(max_length=200)


def clean_expected(document: Any) -> dict[str, Any]:
    """A test case's expected outcome, checked and normalised (flags sorted, no repeats).

    Raises a `ValidationError` naming each wrong part.
    """
    try:
        expected = _Expected.model_validate(document)
    except PydanticValidationError as exc:
        raise ValidationError(
            [
                f"{'.'.join(str(p) for p in err['loc']) or 'expected'}: {err['msg']}"
                for err in exc.errors(include_url=False)
            ],
            code="expected",
        ) from None
    problems = []
    conditions = set(expected.indications)
    if conditions != set(CONDITIONS):
        absent = ", ".join(c for c in CONDITIONS if c not in conditions)
        unknown = ", ".join(sorted(conditions - set(CONDITIONS)))
        if absent:
            problems.append(f"indications: give a status for every condition (absent: {absent})")
        if unknown:
            problems.append(f"indications: unknown condition {unknown}")
    bad_ids = [rule for rule in expected.flags if not RULE_ID.fullmatch(rule)]
    if bad_ids:
        problems.append(f"flags: not rule IDs: {', '.join(bad_ids)}")
    unknown_facts = [fact for fact in expected.missing if fact not in INPUT_FACTS]
    if unknown_facts:
        problems.append(f"missing: unknown facts {', '.join(unknown_facts)}")
    if problems:
        raise ValidationError(problems, code="expected")
    return {
        "disposition": expected.disposition,
        "urgent": expected.urgent,
        "indications": {c: expected.indications[c] for c in CONDITIONS},
        "flags": sorted(set(expected.flags)),
        "missing": sorted(set(expected.missing)),
    }
