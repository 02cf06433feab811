"""What a past screening would say under the rules published now, without changing it.

The stored facts are validated again as of the screening's own date (ages come out as they
were), evaluated under the published version and compared with the stored result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rules.engine import FactsInvalid, Flag, validate_facts
from rules.impact import stored_document
from rules.loader import compiled_version
from rules.models import RuleSetVersion
from rules.selectors import published_version
from screening.models import Screening


@dataclass(frozen=True, slots=True)
class ConditionChange:
    condition: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Reevaluation:
    """The stored outcome next to the current one; `error` says why there is no current one."""

    version: RuleSetVersion
    disposition_before: str
    disposition_after: str = ""
    flags_added: list[Flag] = field(default_factory=list)
    flags_removed: list[Flag] = field(default_factory=list)
    flags_kept: list[str] = field(default_factory=list)
    conditions_changed: list[ConditionChange] = field(default_factory=list)
    error: str = ""

    @property
    def differs(self) -> bool:
        return bool(
            self.disposition_after != self.disposition_before
            or self.flags_added
            or self.flags_removed
            or self.conditions_changed
        )


def screening_reevaluate(screening: Screening) -> Reevaluation:
    """Evaluate `screening`'s stored facts under the published version and compare."""
    version = published_version(screening.ruleset_version.rule_set.name)
    before = screening.outcome
    try:
        facts = validate_facts(stored_document(screening.facts), today=screening.screening_date)
    except FactsInvalid as exc:
        problems = "; ".join(f"{error.field} {error.message}" for error in exc.errors)
        return Reevaluation(
            version=version,
            disposition_before=screening.disposition,
            error=f"The stored facts no longer validate: {problems}",
        )
    after = compiled_version(version).evaluate(facts)
    old_flags = {flag.rule: flag for flag in before.flags}
    new_flags = {flag.rule: flag for flag in after.flags}
    old_conditions = {item.condition: item.status for item in before.indications}
    new_conditions = {item.condition: item.status for item in after.indications}
    return Reevaluation(
        version=version,
        disposition_before=screening.disposition,
        disposition_after=after.disposition,
        flags_added=[flag for rule, flag in new_flags.items() if rule not in old_flags],
        flags_removed=[flag for rule, flag in old_flags.items() if rule not in new_flags],
        flags_kept=[rule for rule in old_flags if rule in new_flags],
        conditions_changed=[
            ConditionChange(name, old_conditions.get(name, "—"), new_conditions.get(name, "—"))
            for name in sorted(old_conditions.keys() | new_conditions.keys())
            if old_conditions.get(name) != new_conditions.get(name)
        ],
    )
