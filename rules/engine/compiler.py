"""Check a parsed rule against the facts schema and compile it into evaluable nodes.

Compiled nodes evaluate with three-valued (Kleene) logic over a mapping of fact values, where
`None` is *not recorded*. Each node can also say why it came out as it did (`explain`, the
`because` lines) and which input facts left it undetermined (`blame`, the `missing` list), so
explanations always come from the logic itself.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.engine.errors import LogicInvalid, LogicProblem
from rules.engine.facts import DEFAULTED, DERIVED_SOURCES
from rules.engine.parser import (
    Comparison,
    Junction,
    Membership,
    Name,
    Negation,
    Node,
    Value,
    ValueList,
    parse,
)
from rules.engine.partial import Possible, SetInPart, candidates, explain_possible
from rules.engine.reasons import Reason
from rules.engine.schema import DEFINITIONS, FACTS, KNOWN_IN_PART, FactType, all_names

Values = Mapping[str, Any]
Truth = bool | None

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "≠": operator.ne,
    "<": operator.lt,
    "≤": operator.le,
    ">": operator.gt,
    "≥": operator.ge,
}
_NEGATED = {"=": "≠", "≠": "=", "<": "≥", "≤": ">", ">": "≤", "≥": "<"}
_MIRRORED = {"=": "=", "≠": "≠", "<": ">", "≤": "≥", ">": "<", "≥": "≤"}


def show(value: Any) -> str:
    """A value as explanations print it: 8.0 → 8, True → true, sets sorted."""
    if value is None:
        return "not recorded"
    if isinstance(value, Possible | SetInPart):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, frozenset | set | tuple | list):
        return ", ".join(sorted(str(v) for v in value)) or "none"
    return str(value)


def source_of(fact: str) -> str:
    """The input fact a clinician records for `fact` (derived facts report their source)."""
    return DERIVED_SOURCES.get(fact, fact)


def _open(value: Any) -> bool:
    """Whether `value` leaves a comparison open: not recorded, or known only in part."""
    return value is None or isinstance(value, Possible | SetInPart)


def _unique(reasons: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(reasons))


# --- compiled nodes ------------------------------------------------------------------------


class Expr:
    """A compiled boolean expression.

    `eval` is a closure built once at compile time (the hot path: no method dispatch per node);
    `explain` and `blame` run only for the rules a result reports on.
    """

    __slots__ = ("eval",)
    eval: Callable[[Values], Truth]

    def explain(self, values: Values) -> list[str]:
        """Plain-language reasons for this node's outcome on `values`."""
        raise NotImplementedError

    def blame(self, values: Values) -> set[str]:
        """Input facts whose absence leaves this node undetermined (empty when it is decided)."""
        raise NotImplementedError

    def inputs(self) -> set[str]:
        """Every input fact this node reads (derived facts as the input they come from)."""
        raise NotImplementedError


class _Leaf(Expr):
    __slots__ = ("facts",)
    facts: tuple[str, ...]

    def inputs(self) -> set[str]:
        return {source_of(f) for f in self.facts}

    def blame(self, values: Values) -> set[str]:
        if self.eval(values) is not None:
            return set()
        return {source_of(f) for f in self.facts if _open(values[f])}

    def _unknown(self, values: Values) -> list[str]:
        return [str(Reason("unrecorded", source_of(f))) for f in self.facts if values[f] is None]


class _OneFact(_Leaf):
    """A leaf over one fact: its explanation depends on that fact's value alone, so it is
    worked out once per value and kept (a bounded cache; values are bounded by the schema)."""

    __slots__ = ("fact", "said")
    fact: str
    said: dict[Any, list[str]]

    def explain(self, values: Values) -> list[str]:
        value = values[self.fact]
        defaulted = values.get(DEFAULTED)
        if defaulted and self.fact in defaulted:  # filled in by the facts layer: say so
            return [defaulted[self.fact]]
        try:
            return self.said[value]
        except KeyError:
            reasons = self._unknown(values) if value is None else self.reasons_for(value)
            if len(self.said) < 512:
                self.said[value] = reasons
            return reasons

    def reasons_for(self, value: Any) -> list[str]:
        raise NotImplementedError


class FactIs(_OneFact):
    """A boolean fact on its own: `psychosis_current`."""

    __slots__ = ()

    def __init__(self, fact: str) -> None:
        self.fact, self.said = fact, {}
        self.facts = (fact,)
        self.eval = operator.itemgetter(fact)

    def reasons_for(self, value: Any) -> list[str]:
        return [str(Reason("value", self.fact, show(value)))]


class FactCompare(_OneFact):
    """`phq9_total ≥ 10`, `pregnancy_status = "pregnant"`."""

    __slots__ = ("constant", "op", "test")

    def __init__(self, fact: str, op: str, constant: Any) -> None:
        self.fact, self.op, self.constant, self.said = fact, op, constant, {}
        self.test = test = _OPERATORS[op]
        self.facts = (fact,)

        def evaluate(values: Values) -> Truth:
            value = values[fact]
            return None if value is None else test(value, constant)

        def evaluate_in_part(values: Values) -> Truth:
            value = values[fact]
            if value is None:
                return None
            if value.__class__ is Possible:
                return value.decide(lambda v: test(v, constant))
            return test(value, constant)

        self.eval = evaluate_in_part if fact in KNOWN_IN_PART else evaluate

    def reasons_for(self, value: Any) -> list[str]:
        if isinstance(value, Possible):  # only = and ≠ reach here (enum facts)
            return [explain_possible(self.fact, value, (self.constant,), FACTS[self.fact].values)]
        op = self.op if self.test(value, self.constant) else _NEGATED[self.op]
        if op == "=":
            return [str(Reason("value", self.fact, show(value)))]
        return [str(Reason("compared", self.fact, show(value), op, (show(self.constant),)))]


class FactsCompare(_Leaf):
    """Two facts compared: `heart_rate > systolic_bp`."""

    __slots__ = ("left", "op", "right", "test")

    def __init__(self, left: str, op: str, right: str) -> None:
        self.left, self.op, self.right = left, op, right
        self.test = test = _OPERATORS[op]
        self.facts = (left, right)

        def evaluate(values: Values) -> Truth:
            a, b = values[left], values[right]
            return None if a is None or b is None else test(a, b)

        def evaluate_in_part(values: Values) -> Truth:
            a, b = values[left], values[right]
            if a is None or b is None:
                return None
            seen = {test(x, y) for x in candidates(a) for y in candidates(b)}
            return seen.pop() if len(seen) == 1 else None

        in_part = left in KNOWN_IN_PART or right in KNOWN_IN_PART
        self.eval = evaluate_in_part if in_part else evaluate

    def explain(self, values: Values) -> list[str]:
        a, b = values[self.left], values[self.right]
        if a is None or b is None:
            return self._unknown(values)
        outcome = self.eval(values)
        op = "" if outcome is None else self.op if outcome else _NEGATED[self.op]
        return [str(Reason("facts", self.left, show(a), op, (self.right, show(b))))]


class FactIn(_OneFact):
    """`current_mood_episode in ("manic", "mixed")`."""

    __slots__ = ("choices", "listed")

    def __init__(self, fact: str, choices: tuple[Any, ...], negated: bool) -> None:
        self.fact, self.choices, self.said = fact, frozenset(choices), {}
        self.listed = tuple(show(c) for c in choices)
        self.facts = (fact,)
        members = self.choices

        def evaluate(values: Values) -> Truth:
            value = values[fact]
            return None if value is None else (value in members) != negated

        def evaluate_in_part(values: Values) -> Truth:
            value = values[fact]
            if value is None:
                return None
            if value.__class__ is Possible:
                return value.decide(lambda v: (v in members) != negated)
            return (value in members) != negated

        self.eval = evaluate_in_part if fact in KNOWN_IN_PART else evaluate

    def reasons_for(self, value: Any) -> list[str]:
        if isinstance(value, Possible):
            return [explain_possible(self.fact, value, self.choices, FACTS[self.fact].values)]
        op = "in" if value in self.choices else "not in"
        return [str(Reason("listed", self.fact, show(value), op, self.listed))]


class SetHas(_OneFact):
    """`"mdd" in diagnoses`."""

    __slots__ = ("member", "reasons")

    def __init__(self, fact: str, member: str, negated: bool) -> None:
        self.fact, self.member, self.said = fact, member, {}
        self.facts = (fact,)
        self.reasons = (
            [str(Reason("member", fact, member, "does not include"))],
            [str(Reason("member", fact, member, "includes"))],
        )

        def evaluate(values: Values) -> Truth:
            value = values[fact]
            if value is None:
                return None
            if value.__class__ is SetInPart:  # open world: only what was recorded counts
                has = value.has(member)
                return None if has is None else has != negated
            return (member in value) != negated

        self.eval = evaluate

    def reasons_for(self, value: Any) -> list[str]:
        if isinstance(value, SetInPart):
            has = value.has(self.member)
            if has is None:
                return [str(Reason("unrecorded", self.fact))]  # this member is not recorded
            return self.reasons[has]
        return self.reasons[self.member in value]


class Constant(Expr):
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value
        self.eval = lambda values: value

    def explain(self, values: Values) -> list[str]:
        return []

    def blame(self, values: Values) -> set[str]:
        return set()

    def inputs(self) -> set[str]:
        return set()


class Not(Expr):
    __slots__ = ("operand",)

    def __init__(self, operand: Expr) -> None:
        self.operand = operand
        inner = operand.eval

        def evaluate(values: Values) -> Truth:
            value = inner(values)
            return None if value is None else not value

        self.eval = evaluate

    def explain(self, values: Values) -> list[str]:
        return self.operand.explain(values)

    def blame(self, values: Values) -> set[str]:
        return self.operand.blame(values)

    def inputs(self) -> set[str]:
        return self.operand.inputs()


class _Junction(Expr):
    __slots__ = ("operands",)

    def __init__(self, operands: tuple[Expr, ...]) -> None:
        self.operands = operands
        self.eval = self._evaluator(tuple(o.eval for o in operands))

    @staticmethod
    def _evaluator(parts: tuple[Callable[[Values], Truth], ...]) -> Callable[[Values], Truth]:
        raise NotImplementedError

    def explain(self, values: Values) -> list[str]:
        outcome = self.eval(values)
        # true `and` / false `or`: every operand decided it; otherwise only those that agree
        # with the outcome (a false `and` is false because of its false operands).
        return _unique(
            reason
            for operand in self.operands
            if operand.eval(values) is outcome
            for reason in operand.explain(values)
        )

    def blame(self, values: Values) -> set[str]:
        if self.eval(values) is not None:
            return set()
        found: set[str] = set()
        for operand in self.operands:
            found |= operand.blame(values)
        return found

    def inputs(self) -> set[str]:
        return set().union(*(operand.inputs() for operand in self.operands))


class And(_Junction):
    """Kleene `and`: false if any operand is false, true if all are true, else unknown."""

    __slots__ = ()

    @staticmethod
    def _evaluator(parts: tuple[Callable[[Values], Truth], ...]) -> Callable[[Values], Truth]:
        def evaluate(values: Values) -> Truth:
            result: Truth = True
            for part in parts:
                value = part(values)
                if value is False:
                    return False
                if value is None:
                    result = None
            return result

        return evaluate


class Or(_Junction):
    """Kleene `or`: true if any operand is true, false if all are false, else unknown."""

    __slots__ = ()

    @staticmethod
    def _evaluator(parts: tuple[Callable[[Values], Truth], ...]) -> Callable[[Values], Truth]:
        def evaluate(values: Values) -> Truth:
            result: Truth = False
            for part in parts:
                value = part(values)
                if value is True:
                    return True
                if value is None:
                    result = None
            return result

        return evaluate


# --- checking against the schema -----------------------------------------------------------


class _Checker:
    """Turns a syntax tree into compiled nodes, collecting every problem with its position."""

    def __init__(self, definitions: Mapping[str, Expr]) -> None:
        self.definitions = definitions
        self.problems: list[LogicProblem] = []

    def problem(self, node: Node | ValueList, message: str) -> Expr:
        self.problems.append(LogicProblem(message, node.position, node.length))
        return Constant(False)

    def condition(self, node: Node) -> Expr:
        """A node in a place that needs true/false."""
        if isinstance(node, Junction):
            parts = tuple(self.condition(o) for o in node.operands)
            return And(parts) if node.op == "and" else Or(parts)
        if isinstance(node, Negation):
            return Not(self.condition(node.operand))
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Membership):
            return self.membership(node)
        if isinstance(node, Value):
            if isinstance(node.value, bool):
                return Constant(node.value)
            return self.problem(node, f"{show(node.value)!r} is a value, not a condition")
        fact_type = self.name(node)
        if isinstance(fact_type, Expr):
            return fact_type
        if fact_type is None:
            return Constant(False)
        if fact_type.kind == "boolean":
            return FactIs(node.name)
        example = {
            "integer": f"{node.name} >= 10",
            "number": f"{node.name} > 0",
            "enum": f'{node.name} = "{fact_type.values[0]}"' if fact_type.values else "",
            "set": f'"{fact_type.values[0]}" in {node.name}' if fact_type.values else "",
        }[fact_type.kind]
        return self.problem(
            node, f"{node.name} is {_article(fact_type.kind)}, not true/false: write e.g. {example}"
        )

    def name(self, node: Name, beside: Node | None = None) -> FactType | Expr | None:
        """Resolve a name: a fact's type, a definition's compiled expression, or a problem."""
        if node.name in FACTS:
            return FACTS[node.name]
        if node.name in self.definitions:
            return self.definitions[node.name]
        hint = ""
        other = FACTS.get(beside.name) if isinstance(beside, Name) else None
        if other is not None and node.name in other.values:
            hint = f'; to mean the value, put it in quotes: "{node.name}"'
        else:
            close = difflib.get_close_matches(node.name, all_names(), n=1)
            if close:
                hint = f"; did you mean {close[0]}?"
        self.problem(node, f"unknown fact {node.name!r}{hint}")
        return None

    def comparison(self, node: Comparison) -> Expr:
        left, right, op = node.left, node.right, node.op
        if isinstance(left, Value) and isinstance(right, Name):
            left, right, op = right, left, _MIRRORED[op]
        if not isinstance(left, Name):
            if isinstance(right, Value):
                return self.problem(node, "this compares two fixed values: name a fact")
            return self.problem(node, "compare a fact with a value, e.g. phq9_total >= 10")
        left_type = self.name(left, right)
        if isinstance(right, Name):
            right_type = self.name(right, left)
            if left_type is None or right_type is None:
                return Constant(False)
            return self.facts_comparison(node, left.name, left_type, op, right.name, right_type)
        if not isinstance(right, Value):
            return self.problem(right, "compare a fact with a single value, not a condition")
        if left_type is None:
            return Constant(False)
        if isinstance(left_type, Expr):  # a definition such as bp_elevated = true
            return self.truth_comparison(node, left_type, op, right)
        return self.value_comparison(node, left.name, left_type, op, right)

    def truth_comparison(self, node: Comparison, expr: Expr, op: str, right: Value) -> Expr:
        if not isinstance(right.value, bool) or op not in ("=", "≠"):
            return self.problem(
                node, "a true/false fact can only be compared with = true or = false"
            )
        return expr if (right.value is True) == (op == "=") else Not(expr)

    def value_comparison(
        self, node: Comparison, fact: str, fact_type: FactType, op: str, right: Value
    ) -> Expr:
        value = right.value
        kind = fact_type.kind
        if kind == "boolean":
            return self.truth_comparison(node, FactIs(fact), op, right)
        if kind == "set":
            example = fact_type.values[0] if fact_type.values else "value"
            return self.problem(node, f'{fact} is a set: write "{example}" in {fact}')
        if kind == "enum":
            if op not in ("=", "≠"):
                return self.problem(node, f"{fact} is one of a list of values: use = or ≠")
            if not self.allowed(right, fact, fact_type):
                return Constant(False)
            return FactCompare(fact, op, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.problem(right, f"{fact} is {_article(kind)}: compare it with a number")
        if not self.in_range(right, fact, fact_type):
            return Constant(False)
        return FactCompare(fact, op, value)

    def facts_comparison(
        self,
        node: Comparison,
        left: str,
        left_type: FactType | Expr,
        op: str,
        right: str,
        right_type: FactType | Expr,
    ) -> Expr:
        if isinstance(left_type, Expr) or isinstance(right_type, Expr):
            return self.problem(node, "compare a fact with a value, not two conditions")
        numeric = {"integer", "number"}
        same = left_type.kind == right_type.kind or {left_type.kind, right_type.kind} <= numeric
        if not same or left_type.kind == "set":
            return self.problem(node, f"{left} and {right} hold different kinds of values")
        if left_type.kind not in numeric and op not in ("=", "≠"):
            return self.problem(node, f"{left} and {right} can only be compared with = or ≠")
        return FactsCompare(left, op, right)

    def membership(self, node: Membership) -> Expr:
        item, container = node.item, node.container
        if isinstance(container, ValueList):
            if not isinstance(item, Name):
                return self.problem(item, 'put a fact before \'in (…)\', e.g. x in ("a", "b")')
            fact_type = self.name(item)
            if fact_type is None:
                return Constant(False)
            if isinstance(fact_type, Expr) or fact_type.kind not in ("enum", "integer", "number"):
                return self.problem(item, f"{item.name} cannot be looked up in a list of values")
            checks = [
                self.allowed(v, item.name, fact_type)
                if fact_type.kind == "enum"
                else self.is_number(v, item.name) and self.in_range(v, item.name, fact_type)
                for v in container.items
            ]
            if not all(checks):
                return Constant(False)
            return FactIn(item.name, tuple(v.value for v in container.items), node.negated)
        if not isinstance(container, Name):
            return self.problem(container, "after 'in' write a list of values or a set fact")
        set_type = self.name(container)
        if set_type is None:
            return Constant(False)
        if isinstance(set_type, Expr) or set_type.kind != "set":
            return self.problem(
                container, f'{container.name} is not a set; write {container.name} in ("a", "b")'
            )
        if not isinstance(item, Value):
            return self.problem(item, f'put a value in quotes before in {container.name}: "mdd"')
        if not self.allowed(item, container.name, set_type):
            return Constant(False)
        return SetHas(container.name, str(item.value), node.negated)

    def allowed(self, value: Value, fact: str, fact_type: FactType) -> bool:
        if isinstance(value.value, str) and value.value in fact_type.values:
            return True
        close = difflib.get_close_matches(str(value.value), fact_type.values, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.problem(
            value,
            f"value {show(value.value)!r} is not allowed for {fact}"
            f" (allowed: {', '.join(fact_type.values)}){hint}",
        )
        return False

    def is_number(self, value: Value, fact: str) -> bool:
        if isinstance(value.value, int | float) and not isinstance(value.value, bool):
            return True
        self.problem(value, f"{fact} holds numbers: {show(value.value)!r} is not a number")
        return False

    def in_range(self, value: Value, fact: str, fact_type: FactType) -> bool:
        number = value.value
        assert isinstance(number, int | float)
        lo, hi = fact_type.minimum, fact_type.maximum
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            self.problem(
                value, f"{show(number)} is outside the range of {fact} ({show(lo)}–{show(hi)})"
            )
            return False
        return True


def _article(kind: str) -> str:
    return {
        "integer": "a whole number",
        "number": "a number",
        "enum": "one of a list of values",
        "set": "a set of values",
        "boolean": "true/false",
    }[kind]


def _compile(text: str, definitions: Mapping[str, Expr]) -> Expr:
    tree = parse(text)
    checker = _Checker(definitions)
    expr = checker.condition(tree)
    if checker.problems:
        raise LogicInvalid(text, sorted(checker.problems, key=lambda p: p.position))
    return expr


def _compile_definitions() -> dict[str, Expr]:
    compiled: dict[str, Expr] = {}
    for name, text in DEFINITIONS.items():
        compiled[name] = _compile(text, compiled)
    return compiled


_DEFINITIONS = _compile_definitions()


def compile_logic(text: str) -> Expr:
    """Parse, check and compile rule logic. Raises `LogicInvalid` listing every problem."""
    return _compile(text, _DEFINITIONS)


def check_logic(text: str) -> list[LogicProblem]:
    """Every problem in rule logic (empty when it compiles), for forms and validators."""
    try:
        compile_logic(text)
    except LogicInvalid as exc:
        return exc.problems
    return []


@dataclass(frozen=True, slots=True)
class LogicOutcome:
    """Rule logic evaluated on one set of values: `value` true, false or None (unknown), the
    `because` lines it would explain itself with, and the input facts that left it `unknown`."""

    value: Truth
    because: tuple[str, ...]
    unknown: tuple[str, ...]


def evaluate_logic(text: str, values: Values) -> LogicOutcome:
    """Compile `text` and evaluate it once on `values` (as `Facts.values_for(language)` gives
    them), for trying logic out before it is saved. Raises `LogicInvalid` as `compile_logic`."""
    expr = compile_logic(text)
    return LogicOutcome(
        expr.eval(values), tuple(expr.explain(values)), tuple(sorted(expr.blame(values)))
    )
