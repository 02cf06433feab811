"""Explanations read back into their parts, so a page can word them for people.

Every `because` line the engine writes has one of a few shapes, each written by one kind of
compiled node (`rules.engine.compiler`), by the facts layer's defaults or by a comparison on a
fact known in part (`rules.engine.partial`):

    age_years = 16 (< 18)                       compared: a fact, its value, the test it passed
    pregnancy_status = pregnant                 value: the fact had exactly this value
    current_mood_episode = mixed (in manic, mixed)      listed: in / not in a list of values
    diagnoses includes mdd                      member: includes / does not include
    antidepressant_trials not recorded          unrecorded
    breastfeeding not recorded; sex_at_birth = male     defaulted: counted from another fact
    suicide_risk is not high (cssrs.intent, cssrs.plan = no)      narrowed: decided in part
    suicide_risk could be none or low (cssrs.wish_dead not recorded)
    heart_rate = 90 (< systolic_bp = 120)       facts: two facts compared

The compiler writes its lines with `str(Reason(...))`, so each shape is spelled once, here.
`read_because(text)` returns a `Reason` whose `str()` is `text` again; the engine's tests run
every rule of the default rule sets over many fact documents and check that round trip (which
also covers the lines the facts layer and `partial` write), so reading cannot drift from
writing. The result stays the data dictionary's
(plain strings): stored results of any age read back the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ReasonKind = Literal[
    "compared", "value", "listed", "member", "unrecorded", "defaulted", "narrowed", "facts"
]

#: Comparison operators as explanations print them (the negated form when a test failed).
OPERATORS = ("=", "≠", "<", "≤", ">", "≥")


@dataclass(frozen=True, slots=True)
class Reason:
    """One `because` line in parts.

    - `fact`: the fact it is about (a rule-language name, `cssrs` or `antidepressant_trials`
      when not recorded).
    - `value`: the value as shown ("150", "true", "pregnant", "none or low"); for `member`, the
      set member; for `narrowed`, the levels named (" or "-joined).
    - `op`: `=` `≠` `<` `≤` `>` `≥` (compared, facts), `in`/`not in` (listed),
      `includes`/`does not include` (member), `is`/`is not`/`could be` (narrowed).
    - `against`: the constant (compared), the list's values (listed), the other fact and its
      value (facts, defaulted).
    - `detail`: for `narrowed`, the answers that decide it as (names, "yes" / "no" /
      "not recorded") groups.
    """

    kind: ReasonKind
    fact: str
    value: str = ""
    op: str = ""
    against: tuple[str, ...] = ()
    detail: tuple[tuple[tuple[str, ...], str], ...] = ()

    def __str__(self) -> str:
        return _WRITERS[self.kind](self)


def _write_narrowed(r: Reason) -> str:
    if r.op == "could be":
        (names, _), *_ = r.detail
        return f"{r.fact} could be {r.value} ({', '.join(names)} not recorded)"
    groups = "; ".join(f"{', '.join(names)} = {answer}" for names, answer in r.detail)
    return f"{r.fact} {r.op} {r.value} ({groups})" if groups else f"{r.fact} {r.op} {r.value}"


def _write_facts(r: Reason) -> str:
    other, other_value = r.against
    if not r.op:
        return f"{r.fact} = {r.value}, {other} = {other_value}"
    return f"{r.fact} = {r.value} ({r.op} {other} = {other_value})"


_WRITERS = {
    "compared": lambda r: f"{r.fact} = {r.value} ({r.op} {r.against[0]})",
    "value": lambda r: f"{r.fact} = {r.value}",
    "listed": lambda r: f"{r.fact} = {r.value} ({r.op} {', '.join(r.against)})",
    "member": lambda r: f"{r.fact} {r.op} {r.value}",
    "unrecorded": lambda r: f"{r.fact} not recorded",
    "defaulted": lambda r: f"{r.fact} not recorded; {r.against[0]} = {r.against[1]}",
    "narrowed": _write_narrowed,
    "facts": _write_facts,
}

_NAME = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?"
_OP = "|".join(re.escape(op) for op in OPERATORS)
_SHAPES: tuple[tuple[ReasonKind, str], ...] = (
    ("defaulted", rf"(?P<fact>{_NAME}) not recorded; (?P<other>{_NAME}) = (?P<value>.+)"),
    (
        "narrowed",
        rf"(?P<fact>{_NAME}) (?P<op>is not|is|could be) (?P<value>[a-z_]+(?: or [a-z_]+)*)"
        r"(?: \((?P<detail>.+)\))?",
    ),
    ("member", rf"(?P<fact>{_NAME}) (?P<op>includes|does not include) (?P<value>\S+)"),
    ("unrecorded", rf"(?P<fact>{_NAME}) not recorded"),
    ("listed", rf"(?P<fact>{_NAME}) = (?P<value>[^()]+?) \((?P<op>in|not in) (?P<list>.+)\)"),
    (
        "facts",
        rf"(?P<fact>{_NAME}) = (?P<value>[^()]+?) \((?P<op>{_OP}) (?P<other>{_NAME}) = "
        r"(?P<other_value>[^()]+)\)",
    ),
    ("compared", rf"(?P<fact>{_NAME}) = (?P<value>[^()]+?) \((?P<op>{_OP}) (?P<against>.+)\)"),
    (
        "facts",
        rf"(?P<fact>{_NAME}) = (?P<value>[^(),]+), (?P<other>{_NAME}) = (?P<other_value>.+)",
    ),
    ("value", rf"(?P<fact>{_NAME}) = (?P<value>.+)"),
)
#: Tried in order: the first shape that reads the line and writes it back wins.
_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in _SHAPES)


def read_because(text: str) -> Reason:
    """`text`, an explanation the engine wrote, in parts. Raises ValueError for any other
    text (so a new shape is noticed by the engine's tests, not shown half-read)."""
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        reason = _reason(kind, parts)
        if reason is not None and str(reason) == text:
            return reason
    raise ValueError(f"not an explanation the engine writes: {text!r}")


def _reason(kind: ReasonKind, parts: dict[str, str | None]) -> Reason | None:
    fact, value, op = parts["fact"] or "", parts.get("value") or "", parts.get("op") or ""
    if kind == "defaulted":
        return Reason(kind, fact, against=(parts["other"] or "", value))
    if kind == "listed":
        return Reason(kind, fact, value, op, tuple((parts["list"] or "").split(", ")))
    if kind == "facts":
        return Reason(kind, fact, value, op, (parts["other"] or "", parts["other_value"] or ""))
    if kind == "compared":
        return Reason(kind, fact, value, op, (parts["against"] or "",))
    if kind == "narrowed":
        return _narrowed(fact, value, op, parts.get("detail") or "")
    return Reason(kind, fact, value, op)


def _narrowed(fact: str, value: str, op: str, detail: str) -> Reason | None:
    groups: list[tuple[tuple[str, ...], str]] = []
    if op == "could be":
        names, found, _ = detail.rpartition(" not recorded")
        if not found:
            return None
        groups.append((tuple(names.split(", ")), "not recorded"))
    elif detail:
        for group in detail.split("; "):
            names, found, answer = group.rpartition(" = ")
            if not found or answer not in ("yes", "no"):
                return None
            groups.append((tuple(names.split(", ")), answer))
    return Reason("narrowed", fact, value, op, detail=tuple(groups))
