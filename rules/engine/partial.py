"""Facts known in part: a value narrowed to a set of candidates by what was recorded.

Under rule language level 2 the facts layer may give a derived enum fact (`suicide_risk`) as a
`Possible` instead of *not recorded* when the recorded inputs already rule some values out. A
comparison on it is then decided the way the data dictionary says: **true** if it is true for
every candidate, **false** if it is false for every candidate, **unknown** otherwise. Only an
unknown comparison leaves the fact's source under `missing`. The compiler applies this to every
comparison on such a fact, whatever rule it is in; `and`/`or`/`not` then combine the outcomes by
Kleene's rules as usual.

A `Possible` always holds two or more candidates: a fact narrowed to one value is simply known.

A *set* fact may be known in part at every language level (`SetInPart`): the input document
gives it as `{"includes": [...], "excludes": [...]}` instead of a complete list, and a membership
test on a value it leaves open is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Possible:
    """The values a fact may still have, with why the others are ruled out.

    `ruled_out` pairs each excluded value with the recorded inputs that exclude it (as shown in
    explanations: `cssrs.intent, cssrs.plan = no`); `unrecorded` names the inputs whose answers
    would narrow the candidates further.
    """

    candidates: frozenset[str]
    ruled_out: tuple[tuple[str, str], ...]
    unrecorded: tuple[str, ...]

    def decide(self, test: Callable[[Any], bool]) -> bool | None:
        """`test` over every candidate: the common answer, or None when candidates disagree."""
        seen = {test(candidate) for candidate in self.candidates}
        return seen.pop() if len(seen) == 1 else None

    def __str__(self) -> str:
        return " or ".join(sorted(self.candidates))


def candidates(value: Any) -> Collection[Any]:
    """The values `value` may stand for: a `Possible`'s candidates, or the value itself."""
    return value.candidates if isinstance(value, Possible) else (value,)


def explain_possible(fact: str, value: Possible, named: Iterable[Any], order: Iterable[str]) -> str:
    """Why a comparison of `fact` with the `named` values came out as it did on `value`.

    Decided: `suicide_risk is not high (cssrs.intent, cssrs.plan = no)` — every candidate lies
    outside (or inside) the named values, and the named values on the other side are ruled out
    by the answers given. Undecided: which candidates remain and which inputs are not recorded.
    """
    named = set(named)
    ordered = list(order)
    inside = value.candidates <= named
    outside = not (value.candidates & named)
    if inside or outside:
        listed = " or ".join(v for v in ordered if v in named)
        excluded = [v for v in ordered if (v not in named) == inside]
        why = dict(value.ruled_out)
        reasons = "; ".join(dict.fromkeys(why[v] for v in excluded if v in why))
        verb = "is" if inside else "is not"
        return f"{fact} {verb} {listed} ({reasons})" if reasons else f"{fact} {verb} {listed}"
    remaining = " or ".join(v for v in ordered if v in value.candidates)
    return f"{fact} could be {remaining} ({', '.join(value.unrecorded)} not recorded)"


@dataclass(frozen=True, slots=True)
class SetInPart:
    """A set fact known in part (open world): `members` are known to be in it, `absent` known
    not to be, and every other allowed value is *not recorded*.

    This is how EHR data reads: a recorded diagnosis says the condition is present, but no record
    of a condition says nothing about it. `"mdd" in diagnoses` is then true when `mdd` is a known
    member, false when it is known absent, and unknown otherwise; Kleene's rules do the rest, so
    whatever a rule decides on a set known in part it decides the same on every completion of it.
    """

    members: frozenset[str]
    absent: frozenset[str]

    def has(self, value: str) -> bool | None:
        """Whether `value` is in the set: True, False, or None when not recorded."""
        if value in self.members:
            return True
        if value in self.absent:
            return False
        return None

    def __str__(self) -> str:
        shown = [f"includes {', '.join(sorted(self.members))}"] if self.members else []
        if self.absent:
            shown.append(f"not {', '.join(sorted(self.absent))}")
        shown.append("others not recorded")
        return "; ".join(shown)
