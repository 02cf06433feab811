"""Running a rule set's test cases against a version, and saying what differs.

An outcome is a result reduced to what a case expects (the shape of the clinical vignettes):
disposition, urgent, each condition's status, the sorted IDs of the flags that fired, and the
missing facts. A case passes when the outcome equals its expectation exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rules.engine import CompiledRuleSet, FactsInvalid, ScreeningResult
from rules.models import RuleTestCase


@dataclass(frozen=True, slots=True)
class Difference:
    """One part of the outcome where a case's expectation and the version disagree."""

    field: str
    expected: str
    got: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseCheck:
    """A case run against a version: its actual outcome and how that differs from expected."""

    case: RuleTestCase
    actual: dict[str, Any] | None
    differences: tuple[Difference, ...] = ()
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and not self.differences


@dataclass(frozen=True, slots=True)
class CaseSummary:
    checks: list[CaseCheck] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks if check.passed)

    @property
    def failed(self) -> list[CaseCheck]:
        return [check for check in self.checks if not check.passed]

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def all_pass(self) -> bool:
        return self.passed == self.total


def outcome(result: ScreeningResult) -> dict[str, Any]:
    """A result reduced to what a test case expects."""
    return {
        "disposition": result.disposition,
        "urgent": result.urgent,
        "indications": {i.condition: i.status for i in result.indications},
        "flags": sorted(f.rule for f in result.flags),
        "missing": [m.fact for m in result.missing],
    }


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if value is None:
        return "not given"
    return str(value)


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> tuple[Difference, ...]:
    """Every part of the outcome that differs, in the order a reader checks them."""
    found: list[Difference] = []
    for name in ("disposition", "urgent"):
        if expected.get(name) != actual[name]:
            found.append(Difference(name, _words(expected.get(name)), _words(actual[name])))
    wanted = expected.get("indications") or {}
    for condition, status in actual["indications"].items():
        if wanted.get(condition) != status:
            found.append(
                Difference(f"indications.{condition}", _words(wanted.get(condition)), status)
            )
    for name in ("flags", "missing"):
        want = list(expected.get(name) or [])
        got = list(actual[name])
        if sorted(want) != sorted(got):
            found.append(
                Difference(
                    name,
                    _words(want),
                    _words(got),
                    added=tuple(sorted(set(got) - set(want))),
                    removed=tuple(sorted(set(want) - set(got))),
                )
            )
    return tuple(found)


def case_check(compiled: CompiledRuleSet, case: RuleTestCase, *, today: date) -> CaseCheck:
    """Run one case. Facts that no longer validate fail the case with the reason."""
    try:
        result = compiled.screen(case.facts, today=today)
    except FactsInvalid as exc:
        reasons = "; ".join(f"{e.field} {e.message}" for e in exc.errors)
        return CaseCheck(case, None, error=f"The case's facts are not valid: {reasons}")
    actual = outcome(result)
    return CaseCheck(case, actual, differences(case.expected, actual))


def cases_check(
    compiled: CompiledRuleSet, cases: Iterable[RuleTestCase], *, today: date
) -> CaseSummary:
    """Run every case against one compiled version."""
    return CaseSummary([case_check(compiled, case, today=today) for case in cases])
