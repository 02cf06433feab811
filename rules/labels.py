"""How the engine's codes read on the rule administration pages.

The clinician's pages have their own words (`screening.labels`); `rules` never imports them
(the import contracts), and a rule admin reads the engine's own terms, so its words are here,
once. An unknown code (a future engine's) reads as itself.
"""

from __future__ import annotations

import json

DISPOSITIONS: dict[str, str] = {
    "eligible": "Eligible",
    "review_required": "Review required",
    "incomplete": "Incomplete",
    "not_indicated": "Not indicated",
    "contraindicated": "Contraindicated",
}

STATUSES: dict[str, str] = {
    "indicated": "Indicated",
    "possible": "Possible",
    "not_indicated": "Not indicated",
    "undetermined": "Undetermined",
}


def disposition_words(code: str) -> str:
    """`review_required` → "Review required"."""
    return DISPOSITIONS.get(code, code)


def status_words(code: str) -> str:
    """A condition's status: `not_indicated` → "Not indicated"."""
    return STATUSES.get(code, code)


def fact_value_words(value: object) -> str:
    """A fact's value as a rule admin reads it: yes/no, numbers as typed, lists joined, and
    nested answers (C-SSRS, trials) as compact JSON, never a Python repr."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not recorded"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value) or "none"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)
