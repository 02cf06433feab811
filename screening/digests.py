"""Digests of a screening as stored: what its audit events record, and what verification
recomputes from the rows (`screening.core.records`).

A screening's digest covers everything the clinician saw and decided: the facts evaluated, the
result, the rule texts as shown, the rule-set version, the patient and intake it belongs to,
its status and signature with the reasons given at signing, the amendment link, its flag
reviews (and which review each carries forward) and the flags it raised. The
events `screening.run`, `flag.acknowledged`/`flag.overridden`, `screening.sign` and
`screening.amend` carry it in `detail["digest"]`; once a screening is signed it must match the
sign event's digest, and every later one, forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from screening.core.records import record_digest
from screening.models import FlagReview, Screening, ScreeningFlag

SCREENING_FIELDS = (
    "facts",
    "result",
    "rule_texts",
    "disposition",
    "urgent",
    "screening_date",
    "run_at",
    "status",
    "signed_at",
    "patient_id",
    "intake_id",
    "ruleset_version_id",
    "run_by_id",
    "signed_by_id",
    "amends_id",
    "stale_rules_reason",
    "incomplete_reasons",
)
REVIEW_FIELDS = (
    "rule_id",
    "severity",
    "kind",
    "reason_code",
    "reason",
    "reviewed_by_id",
    "reviewed_at",
    "carried_from_id",
)
FLAG_FIELDS = ("rule_id", "severity", "run_at", "review_kind", "reviewed_at")


def screening_digest(
    screening: Screening,
    *,
    reviews: Iterable[FlagReview] | None = None,
    flags: Iterable[ScreeningFlag] | None = None,
) -> str:
    """The SHA-256 of `screening` with its reviews and flags (read from the database unless
    the caller passes the rows it has just written)."""
    if reviews is None:
        reviews = screening.reviews.all()
    if flags is None:
        flags = screening.fired_flags.all()
    return record_digest(_document(screening, reviews, flags))


def _document(
    screening: Screening, reviews: Iterable[FlagReview], flags: Iterable[ScreeningFlag]
) -> dict[str, Any]:
    return {
        "uuid": screening.uuid,
        **{name: getattr(screening, name) for name in SCREENING_FIELDS},
        "reviews": sorted(
            ({name: getattr(review, name) for name in REVIEW_FIELDS} for review in reviews),
            key=lambda review: review["rule_id"],
        ),
        "flags": sorted(
            ({name: getattr(flag, name) for name in FLAG_FIELDS} for flag in flags),
            key=lambda flag: flag["rule_id"],
        ),
    }


class SignedScreenings:
    """Verification's view of screenings (`AUDIT_RECORD_DIGESTS`): every signed screening must
    still match the digest its signature recorded."""

    label = "signed screening"
    object_type = Screening._meta.label_lower
    actions = (
        "screening.run",
        "flag.acknowledged",
        "flag.overridden",
        "screening.sign",
        "screening.amend",
    )
    final_actions = ("screening.sign",)

    def in_scope(self) -> Iterable[str]:
        signed = Screening.objects.filter(status=Screening.Status.SIGNED).order_by("pk")
        return (str(key) for key in signed.values_list("uuid", flat=True).iterator())

    def digests(self, object_ids: Sequence[str]) -> Mapping[str, str]:
        screenings = Screening.objects.filter(uuid__in=object_ids).prefetch_related(
            "reviews", "fired_flags"
        )
        return {
            str(screening.uuid): record_digest(
                _document(screening, screening.reviews.all(), screening.fired_flags.all())
            )
            for screening in screenings
        }
