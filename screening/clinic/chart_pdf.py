"""The screening as a PDF for the patient's chart, rendered on the server by WeasyPrint from
the screening's stored snapshot only (its stored result, rule texts and facts as entered, its
reviews and signature): nothing is evaluated again, so the PDF of a screening reads the same
whatever rules are published later.

Every page carries the patient's name, MRN and date of birth and "page x of y" (CSS paged
media: running header, `@page` margin boxes); an unsigned or superseded screening carries a
"NOT SIGNED" or "SUPERSEDED" watermark on every page.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML

from screening.clinic.result_page import (
    conditions_of,
    flag_groups_of,
    incomplete_reasons_of,
    missing_groups_of,
)
from screening.labels import disposition_label
from screening.models import Screening
from screening.prose import facts_as_entered


def watermark_of(screening: Screening) -> str:
    """The word across every page: "" once signed."""
    if screening.status == Screening.Status.SUPERSEDED:
        return "SUPERSEDED"
    if screening.status == Screening.Status.UNSIGNED:
        return "NOT SIGNED"
    return ""


def chart_context(screening: Screening) -> dict[str, Any]:
    """What the PDF shows, from the stored snapshot (never from rules run again)."""
    reviews = {r.rule_id: r for r in screening.reviews.select_related("reviewed_by")}
    entered, unrecorded = facts_as_entered(screening.facts)
    return {
        "screening": screening,
        "patient": screening.patient,
        "ruleset": screening.outcome.ruleset,
        "disposition": disposition_label(screening.disposition),
        "urgent_flags": [f for f in screening.outcome.flags if f.severity == "urgent"],
        "conditions": conditions_of(screening),
        "flag_groups": flag_groups_of(screening, reviews),
        "missing_groups": missing_groups_of(screening),
        "incomplete_reasons": incomplete_reasons_of(screening),
        "entered": entered,
        "unrecorded": unrecorded,
        "watermark": watermark_of(screening),
    }


def screening_pdf(screening: Screening) -> bytes:
    """The PDF of `screening` for the chart."""
    html = render_to_string("screening/screening_pdf.html", chart_context(screening))
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
