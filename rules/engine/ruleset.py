"""Rule sets: their specification, compilation, and evaluation into a `ScreeningResult`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.engine.compiler import Expr, compile_logic
from rules.engine.errors import LogicInvalid, RuleProblem, RuleSetInvalid
from rules.engine.facts import Facts, validate_facts
from rules.engine.result import (
    Disposition,
    Flag,
    Indication,
    Missing,
    RuleSetRef,
    ScreeningResult,
    Severity,
    Status,
)
from rules.engine.schema import CONDITIONS

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")


class RuleSpec(BaseModel):
    """One rule as admins write it. Indication rules have a diagnosis test and criteria;
    consideration rules have a severity and one condition (`logic`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=RULE_ID.pattern, max_length=40)
    kind: Literal["indication", "consideration"]
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=2000)
    evidence: str = Field(default="", max_length=2000)
    source: str = Field(default="", max_length=500)
    severity: Severity | None = None
    condition: str | None = None
    diagnosis: str = ""
    logic: str = Field(min_length=1, max_length=2000)


class RuleSetSpec(BaseModel):
    """A rule set: its name, version, the rule language level its rules are written in
    (`LANGUAGES`; 1 when not given, so a version written before levels existed keeps its
    meaning), and its rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    version: int = Field(ge=1)
    language: Literal[1, 2] = 1
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True, slots=True)
class _IndicationRule:
    spec: RuleSpec
    diagnosis: Expr
    criteria: Expr


@dataclass(frozen=True, slots=True)
class _ConsiderationRule:
    spec: RuleSpec
    severity: Severity
    logic: Expr

    def flag(self, values: Mapping[str, Any]) -> Flag:
        spec = self.spec
        because = tuple(self.logic.explain(values))
        return Flag(spec.id, self.severity, spec.title, spec.message, because, spec.source)


_ABOVE_INFO = ("stop", "urgent", "review")


class CompiledRuleSet:
    """A rule set ready to evaluate many times. Build it with `compile_ruleset`."""

    def __init__(
        self,
        ref: RuleSetRef,
        indications: tuple[_IndicationRule, ...],
        considerations: tuple[_ConsiderationRule, ...],
        language: int = 1,
    ) -> None:
        self.ref = ref
        self.language = language
        self.indications = indications
        self.considerations = considerations
        self._checks = tuple((c.logic.eval, c) for c in considerations)

    @property
    def inputs(self) -> frozenset[str]:
        """Every input fact some rule of this set reads (derived facts as their inputs, as the
        `missing` list names them): the questions this rule set asks."""
        found: set[str] = set()
        for rule in self.indications:
            found |= rule.diagnosis.inputs() | rule.criteria.inputs()
        for consideration in self.considerations:
            found |= consideration.logic.inputs()
        return frozenset(found)

    def screen(self, document: Mapping[str, Any], *, today: date) -> ScreeningResult:
        """Validate an input document and evaluate it (raises `FactsInvalid`)."""
        return self.evaluate(validate_facts(document, today=today))

    def evaluate(self, facts: Facts) -> ScreeningResult:
        """Evaluate validated facts under this rule set, read as its language level says."""
        values = facts.values_for(self.language)
        blocked: dict[str, list[str]] = {}

        def undetermined(rule_id: str, expr: Expr) -> None:
            for fact in expr.blame(values):
                blocked.setdefault(fact, []).append(rule_id)

        indications = []
        for rule in self.indications:
            status, because = _indication(rule, values)
            if status == "undetermined":
                decided = rule.diagnosis.eval(values)
                undetermined(rule.spec.id, rule.criteria if decided else rule.diagnosis)
            indications.append(
                Indication(str(rule.spec.condition), status, rule.spec.id, tuple(because))
            )

        flags = []
        fired: set[str] = set()
        open_severities: set[str] = set()
        for evaluate, consideration in self._checks:
            outcome = evaluate(values)
            if outcome is None:
                open_severities.add(consideration.severity)
                undetermined(consideration.spec.id, consideration.logic)
            elif outcome:
                fired.add(consideration.severity)
                flags.append(consideration.flag(values))

        statuses: set[str] = {i.status for i in indications}
        return ScreeningResult.model_construct(
            ruleset=self.ref,
            disposition=_disposition(statuses, fired, open_severities),
            urgent="urgent" in fired,
            indications=tuple(indications),
            flags=tuple(flags),
            missing=tuple(Missing(fact, tuple(blocked[fact])) for fact in sorted(blocked)),
        )


def _indication(rule: _IndicationRule, values: Mapping[str, Any]) -> tuple[Status, list[str]]:
    diagnosed = rule.diagnosis.eval(values)
    because = rule.diagnosis.explain(values)
    if diagnosed is not True:
        return indication_status(diagnosed, None), because
    met = rule.criteria.eval(values)
    return indication_status(diagnosed, met), [*because, *rule.criteria.explain(values)]


def indication_status(diagnosed: bool | None, met: bool | None) -> Status:
    """An indication's status from its diagnosis test and its criteria (three-valued each):
    not indicated when the diagnosis test is false, undetermined while either is unknown (the
    criteria count only once the diagnosis holds), else indicated or possible."""
    if diagnosed is False:
        return "not_indicated"
    if diagnosed is None or met is None:
        return "undetermined"
    return "indicated" if met else "possible"


def _disposition(statuses: set[str], fired: set[str], open_severities: set[str]) -> Disposition:
    """The rule catalogue's disposition: the first that applies."""
    any_candidate = bool(statuses & {"indicated", "possible"})
    if "stop" in fired:
        return "contraindicated"
    if open_severities & {"stop", "urgent"} or (not any_candidate and "undetermined" in statuses):
        return "incomplete"
    if not any_candidate:
        return "not_indicated"
    if fired & {"review", "urgent"} or "review" in open_severities or "indicated" not in statuses:
        return "review_required"
    return "eligible"


def compile_ruleset(spec: RuleSetSpec | Mapping[str, Any]) -> CompiledRuleSet:
    """Check and compile a rule set. Raises `RuleSetInvalid` listing every problem by rule."""
    if not isinstance(spec, RuleSetSpec):
        raw = spec
        try:
            spec = RuleSetSpec.model_validate(raw)
        except ValidationError as exc:
            raise RuleSetInvalid(
                [
                    RuleProblem(_rule_of(raw, err["loc"]), _loc_field(err["loc"]), err["msg"])
                    for err in exc.errors(include_url=False)
                ]
            ) from None
    problems = list(_structure_problems(spec.rules))
    indications: dict[str, _IndicationRule] = {}
    considerations: list[_ConsiderationRule] = []
    for rule in spec.rules:
        compiled = {}
        fields = ("diagnosis", "logic") if rule.kind == "indication" else ("logic",)
        for field in fields:
            try:
                compiled[field] = compile_logic(getattr(rule, field))
            except LogicInvalid as exc:
                problems.extend(
                    RuleProblem(rule.id, field, p.message, p.position) for p in exc.problems
                )
        if len(compiled) != len(fields):
            continue
        if rule.kind == "indication" and rule.condition in CONDITIONS:
            indications[rule.condition] = _IndicationRule(
                rule, compiled["diagnosis"], compiled["logic"]
            )
        elif rule.kind == "consideration" and rule.severity is not None:
            considerations.append(_ConsiderationRule(rule, rule.severity, compiled["logic"]))
    if problems:
        raise RuleSetInvalid(problems)
    return CompiledRuleSet(
        RuleSetRef(spec.name, spec.version),
        tuple(indications[c] for c in CONDITIONS),
        tuple(considerations),
        spec.language,
    )


def _structure_problems(rules: Iterable[RuleSpec]) -> Iterable[RuleProblem]:
    seen: set[str] = set()
    covered: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            yield RuleProblem(rule.id, "id", "appears more than once in the rule set")
        seen.add(rule.id)
        if rule.kind == "indication":
            if rule.condition not in CONDITIONS:
                yield RuleProblem(rule.id, "condition", f"must be one of {', '.join(CONDITIONS)}")
            elif rule.condition in covered:
                yield RuleProblem(
                    rule.id,
                    "condition",
                    f"{rule.condition} already has indication rule {covered[rule.condition]}",
                )
            else:
                covered[rule.condition] = rule.id
            if not rule.diagnosis.strip():
                yield RuleProblem(rule.id, "diagnosis", "an indication rule needs a diagnosis test")
            if rule.severity is not None:
                yield RuleProblem(rule.id, "severity", "indication rules have no severity")
        else:
            if rule.severity is None:
                yield RuleProblem(rule.id, "severity", "a consideration rule needs a severity")
            if rule.condition is not None or rule.diagnosis:
                yield RuleProblem(
                    rule.id, "condition", "consideration rules have no condition or diagnosis test"
                )
    for condition in CONDITIONS:
        if condition not in covered:
            yield RuleProblem("(rule set)", "rules", f"no indication rule for {condition}")


def _rule_of(spec: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return str(spec["rules"][loc[1]].get("id", f"rule {loc[1] + 1}"))
        except (KeyError, IndexError, TypeError, AttributeError):
            return f"rule {loc[1] + 1}"
    return "(rule set)"


def _loc_field(loc: tuple[Any, ...]) -> str:
    return str(loc[2]) if len(loc) >= 3 and loc[0] == "rules" else ".".join(map(str, loc))
