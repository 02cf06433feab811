"""How stored codes read on a page: words, a Bootstrap colour and, where it helps, an explanation.

One lookup function per kind of code, so every page (clinician, reviewer, patient) shows the
same words and colours, and an unknown code (from a future rule set) still reads as itself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from screening.models import Screening


@dataclass(frozen=True, slots=True)
class Label:
    """How a stored code reads on the page: its words, a Bootstrap colour and an explanation."""

    text: str
    colour: str
    explanation: str = ""


# The tool screens and flags; the treatment decision is always the clinician's.
DISPOSITIONS = {
    "eligible": Label(
        "Eligible",
        "success",
        "Screening found an indicated condition and nothing that needs review. "
        "The treatment decision remains the clinician's.",
    ),
    "contraindicated": Label(
        "Contraindicated",
        "danger",
        "A stop flag fired: the rule set lists a contraindication for this patient. "
        "Going further needs every stop flag overridden with a documented reason. "
        "The treatment decision remains the clinician's.",
    ),
    "incomplete": Label(
        "Incomplete",
        "warning",
        "Information needed to screen safely is missing: a safety rule, or every condition, "
        "could not be decided. Record the missing information below and run the screening again.",
    ),
    "review_required": Label(
        "Review required",
        "warning",
        "Screening found a condition that is indicated or possible, with flags or open questions "
        "that need a clinician's review. The treatment decision remains the clinician's.",
    ),
    "not_indicated": Label(
        "Not indicated",
        "secondary",
        "Screening found none of the listed conditions indicated or possible with the "
        "information recorded. This says nothing about other treatments.",
    ),
}

# Screening words, never a decision: "meets screening criteria", not "indicated".
CONDITION_STATUSES = {
    "indicated": Label("Meets screening criteria", "success"),
    "possible": Label("Criteria partly met", "info"),
    "not_indicated": Label("Not met", "secondary"),
    "undetermined": Label("Cannot tell yet", "warning"),
}

SEVERITIES = {
    "stop": Label(
        "Stop",
        "danger",
        "Contraindications: each needs an override with a coded and a written reason.",
    ),
    "urgent": Label("Urgent", "danger", "Each needs acknowledging with a reason."),
    "review": Label("Review", "warning", "Each needs acknowledging with a reason."),
    "info": Label("Information", "info", "For information: nothing to do."),
}

STATUS_COLOURS: dict[str, str] = {
    Screening.Status.UNSIGNED.value: "warning",
    Screening.Status.SUPERSEDED.value: "secondary",
    Screening.Status.SIGNED.value: "success",
}


def disposition_label(code: str) -> Label:
    return DISPOSITIONS.get(code) or Label(code, "secondary")


def condition_label(code: str) -> Label:
    return CONDITION_STATUSES.get(code) or Label(code, "secondary")


def severity_label(code: str) -> Label:
    return SEVERITIES.get(code) or Label(code, "secondary")


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "secondary")


def screening_row(screening: Screening) -> dict[str, Any]:
    """A screening in a list: itself, its disposition's label and its status colour."""
    return {
        "screening": screening,
        "disposition": disposition_label(screening.disposition),
        "status_colour": status_colour(screening.status),
    }


def duration_words(delta: datetime.timedelta) -> str:
    """A duration as a person says it, to the unit that matters: "32 s", "4 min 10 s",
    "2 h 5 min", "3 d 4 h"."""
    seconds = max(round(delta.total_seconds()), 0)
    if seconds < 1:
        return "under 1 s"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        parts = [(days, "d"), (hours, "h")]
    elif hours:
        parts = [(hours, "h"), (minutes, "min")]
    elif minutes:
        parts = [(minutes, "min"), (seconds, "s")] if minutes < 10 else [(minutes, "min")]
    else:
        parts = [(seconds, "s")]
    return " ".join(f"{amount} {unit}" for amount, unit in parts if amount) or "under 1 s"
