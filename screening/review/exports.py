"""Reviewers' exports: the filtered list as CSV, streamed, and one screening as JSON.

The CSV streams row by row from a server-side cursor (`iterator(chunk_size)`), so memory stays
flat however many screenings match. It carries what the reviewer's list shows and the names of
the facts each result was missing, never the facts' values. Text that a spreadsheet would read
as a formula (a cell starting with `= + - @`, a tab or a carriage return: a patient registered as
`=HYPERLINK(…)`) is written with a leading apostrophe, as OWASP's CSV injection advice says, so
the cell opens as the text that was typed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from screening.models import Screening

CHUNK_SIZE = 2000

CSV_HEADER = (
    "screening",
    "run_at",
    "screening_date",
    "mrn",
    "patient",
    "clinician",
    "disposition",
    "urgent",
    "status",
    "rule_set",
    "version",
    "flags",
    "missing",
    "signed_by",
    "signed_at",
    "stale_rules_reason",
    "incomplete_reasons",
    "amendment_reason",
)


#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` as the cell shows it: text that would start a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(screenings: QuerySet[Screening]) -> Iterator[str]:
    """The header and one CSV line per screening, read `CHUNK_SIZE` rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    # The snapshots are the large columns; of them only the result (for its flags) is read.
    rows = screenings.defer("facts", "rule_texts")
    for screening in rows.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow([csv_cell(value) for value in _csv_row(screening)])


def _csv_row(screening: Screening) -> Iterable[Any]:
    patient = screening.patient
    version = screening.ruleset_version
    return (
        screening.uuid,
        screening.run_at.isoformat(),
        screening.screening_date.isoformat(),
        patient.mrn,
        f"{patient.family_name}, {patient.given_names}",
        screening.run_by.get_username(),
        screening.disposition,
        "yes" if screening.urgent else "no",
        screening.status,
        version.rule_set.name,
        version.number,
        " ".join(flag.rule for flag in screening.outcome.flags),
        # The names of unrecorded facts that left a rule open (e.g. a version-2 question an
        # intake saved before version 2 never asked), never their values.
        " ".join(item.fact for item in screening.outcome.missing),
        screening.signed_by.get_username() if screening.signed_by else "",
        screening.signed_at.isoformat() if screening.signed_at else "",
        screening.stale_rules_reason,
        "; ".join(f"{fact}: {reason}" for fact, reason in screening.incomplete_reasons.items()),
        screening.intake.amendment_reason,
    )


def screening_document(screening: Screening) -> dict[str, Any]:
    """Everything stored about one screening, as JSON-ready data."""
    patient = screening.patient
    return {
        "screening": str(screening.uuid),
        "patient": {
            "uuid": str(patient.uuid),
            "mrn": patient.mrn,
            "family_name": patient.family_name,
            "given_names": patient.given_names,
        },
        "intake": str(screening.intake.uuid),
        "rule_set": {
            "name": screening.ruleset_version.rule_set.name,
            "version": screening.ruleset_version.number,
        },
        "screening_date": screening.screening_date.isoformat(),
        "run_by": screening.run_by.get_username(),
        "run_at": screening.run_at.isoformat(),
        "status": screening.status,
        "disposition": screening.disposition,
        "urgent": screening.urgent,
        "facts": screening.facts,
        "result": screening.result,
        "rule_texts": screening.rule_texts,
        "reviews": [
            {
                "rule": review.rule_id,
                "severity": review.severity,
                "kind": review.kind,
                "reason_code": review.reason_code,
                "reason": review.reason,
                "reviewed_by": review.reviewed_by.get_username(),
                "reviewed_at": review.reviewed_at.isoformat(),
                "carried_from": str(review.carried_from.screening.uuid)
                if review.carried_from
                else None,
            }
            for review in screening.reviews.select_related("reviewed_by", "carried_from__screening")
        ],
        "signed_by": screening.signed_by.get_username() if screening.signed_by else None,
        "signed_at": screening.signed_at.isoformat() if screening.signed_at else None,
        "stale_rules_reason": screening.stale_rules_reason,
        "incomplete_reasons": screening.incomplete_reasons,
        "amends": str(screening.amends.uuid) if screening.amends else None,
        "amendment_reason": screening.intake.amendment_reason,
        "amended_by": [str(s.uuid) for s in screening.amended_by.order_by("run_at")],
    }
