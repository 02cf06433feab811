"""A past screening as a rule test case (issue 19): its facts without the patient's dates, and
the outcome the published rules give them now as the expected outcome, which the rule admin
checks and may change before saving.

This door is on the screening side: `rules` never reads screenings (the import contracts), so
the screening is read here and handed to `rules.services.rule_case_create` as plain facts.
Rule admins see no patient identity: the facts hold no name or MRN, and the date of birth and
the screening date are replaced by the age they gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404

from rules.cases import outcome
from rules.engine import FactsInvalid, ScreeningResult
from rules.loader import compiled_version
from rules.models import RuleSet, RuleSetVersion
from rules.selectors import published_version
from screening.core.permissions import require_perm
from screening.models import Screening

#: What identifies the patient in a facts snapshot (the age stays: it is what the rules read).
IDENTIFYING_FACTS = ("date_of_birth", "screening_date")


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """What the page offers: the facts, the version that judged them and its outcome (or why
    there is none)."""

    screening: Screening
    version: RuleSetVersion
    facts: dict[str, Any]
    result: ScreeningResult | None
    error: str = ""

    @property
    def expected(self) -> dict[str, Any] | None:
        return outcome(self.result) if self.result is not None else None

    @property
    def name(self) -> str:
        return f"from-screening-{str(self.screening.uuid)[:8]}"


def screening_for_case(user: User, screening_uuid: object) -> Screening:
    """Any screening, for a rule admin (who sees only its de-identified facts)."""
    require_perm(user, RuleSet.ADMIN_PERMISSION, "Only rule admins can add rule test cases.")
    return get_object_or_404(
        Screening.objects.select_related("ruleset_version__rule_set"), uuid=screening_uuid
    )


def deidentified_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the patient's dates: `age_years` (kept in every snapshot whose age
    was known) says the same to the rules on any day."""
    return {name: value for name, value in facts.items() if name not in IDENTIFYING_FACTS}


def case_draft(screening: Screening) -> CaseDraft:
    """The screening's facts judged by the version published now for its rule set."""
    version = published_version(screening.ruleset_version.rule_set.name)
    facts = deidentified_facts(screening.facts)
    try:
        result = compiled_version(version).screen(facts, today=screening.screening_date)
    except FactsInvalid as exc:
        problems = "; ".join(f"{error.field} {error.message}" for error in exc.errors)
        return CaseDraft(screening, version, facts, None, f"The facts do not validate: {problems}")
    return CaseDraft(screening, version, facts, result)
