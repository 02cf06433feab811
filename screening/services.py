"""Changes to screenings: run, acknowledge or override flags, sign, amend.

Each service checks the role, makes its change, and writes its audit event in one transaction
(the audit write last: it holds the chain lock until commit). Signed screenings are locked here
and by database triggers (migration 0006).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from patients.facts import form_field, intake_facts
from patients.models import Intake
from patients.services import intake_create, intake_update, require_clinician
from rules.engine import FactsInvalid
from rules.loader import compiled_version
from rules.models import RuleSetVersion
from rules.selectors import published_version
from screening.audit import audit_record
from screening.exceptions import ConflictError, IntakeInvalid, LockedError, ServiceError
from screening.models import FlagReview, Screening, ScreeningFlag

#: Flags a clinician must handle before signing: stops are overridden, the rest acknowledged.
MUST_OVERRIDE = ("stop",)
MUST_ACKNOWLEDGE = ("urgent", "review")


def rule_texts(version: RuleSetVersion) -> dict[str, dict[str, str]]:
    """Every rule's text in `version`, keyed by rule ID: what the result page shows."""
    return {
        rule.rule_id: {
            "kind": rule.kind,
            "title": rule.title,
            "message": rule.message,
            "evidence": rule.evidence,
            "source": rule.source,
            "severity": rule.severity,
            "condition": rule.condition,
            "diagnosis_logic": rule.diagnosis_logic,
            "logic": rule.logic,
        }
        for rule in version.rules.order_by("position")
    }


def screening_run(*, intake: Intake, user: User, on: date | None = None) -> Screening:
    """Evaluate `intake` under the published rule set and store everything the clinician sees.

    Earlier unsigned screenings of the same intake are superseded. Raises `IntakeInvalid`
    (field → messages) when the intake cannot be evaluated; nothing is stored then.
    """
    require_clinician(user)
    screening_date = on or timezone.localdate()
    with transaction.atomic():
        intake = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
        if intake.is_locked:
            raise LockedError("This intake belongs to a signed screening: amend it instead.")
        try:
            facts = intake_facts(intake, screening_date=screening_date)
        except FactsInvalid as exc:
            errors: dict[str, list[str]] = {}
            for error in exc.errors:
                errors.setdefault(form_field(error), []).append(f"{error.field} {error.message}")
            raise IntakeInvalid(errors) from None
        version = published_version()
        result = compiled_version(version).evaluate(facts)
        intake.screenings.filter(status=Screening.Status.UNSIGNED).update(
            status=Screening.Status.SUPERSEDED
        )
        screening = Screening.objects.create(
            patient=intake.patient,
            intake=intake,
            ruleset_version=version,
            screening_date=screening_date,
            facts=facts.as_document(),
            result=result.model_dump(mode="json"),
            rule_texts=rule_texts(version),
            disposition=result.disposition,
            urgent=result.urgent,
            amends=intake.amends,
            run_by=user,
            run_at=timezone.now(),
        )
        ScreeningFlag.objects.bulk_create(
            ScreeningFlag(
                screening=screening, rule_id=f.rule, severity=f.severity, run_at=screening.run_at
            )
            for f in result.flags
        )
        audit_record(
            actor=user,
            action="screening.run",
            object_type="screening.screening",
            object_id=str(screening.uuid),
            detail={
                "intake": str(intake.uuid),
                "intake_version": intake.version,
                "ruleset": {"name": version.rule_set.name, "version": version.number},
                "disposition": result.disposition,
                "urgent": result.urgent,
                "flags": [f.rule for f in result.flags],
            },
        )
    return screening


def intake_submit(
    *,
    intake: Intake,
    user: User,
    expected_version: int,
    values: dict[str, Any],
    trials: Iterable[dict[str, Any]],
    on: date | None = None,
) -> Screening:
    """Save the intake's answers and run the screening, as one transaction: when the intake
    cannot be evaluated (`IntakeInvalid`) or was changed by someone else (`ConflictError`),
    nothing is saved and the form keeps what the clinician typed."""
    with transaction.atomic():
        intake = intake_update(
            intake=intake,
            user=user,
            expected_version=expected_version,
            values=values,
            trials=trials,
        )
        return screening_run(intake=intake, user=user, on=on)


def pending_flags(screening: Screening) -> list[dict[str, Any]]:
    """Flags that still need an acknowledgement or override before signing."""
    handled = set(screening.reviews.values_list("rule_id", flat=True))
    return [
        flag
        for flag in screening.result["flags"]
        if flag["severity"] in (*MUST_OVERRIDE, *MUST_ACKNOWLEDGE) and flag["rule"] not in handled
    ]


def flag_acknowledge(*, screening: Screening, rule_id: str, user: User, reason: str) -> FlagReview:
    """Acknowledge a review or urgent flag, with the clinician's reason."""
    return _review(
        screening=screening,
        rule_id=rule_id,
        user=user,
        kind=FlagReview.Kind.ACKNOWLEDGED,
        reason=reason,
        reason_code="",
    )


def flag_override(
    *, screening: Screening, rule_id: str, user: User, reason_code: str, reason: str
) -> FlagReview:
    """Override a stop flag with a documented reason (a coded reason and free text)."""
    if reason_code not in FlagReview.OverrideReason.values:
        raise ServiceError("Choose a coded reason for overriding a stop flag.")
    return _review(
        screening=screening,
        rule_id=rule_id,
        user=user,
        kind=FlagReview.Kind.OVERRIDDEN,
        reason=reason,
        reason_code=reason_code,
    )


def _review(
    *,
    screening: Screening,
    rule_id: str,
    user: User,
    kind: str,
    reason: str,
    reason_code: str,
) -> FlagReview:
    require_clinician(user)
    reason = reason.strip()
    if not reason:
        raise ServiceError("Give a reason: it is kept with the screening.")
    with transaction.atomic():
        screening = _lock_open(screening)
        flag = next((f for f in screening.result["flags"] if f["rule"] == rule_id), None)
        if flag is None:
            raise ServiceError(f"{rule_id} is not a flag of this screening.")
        expected = (
            FlagReview.Kind.OVERRIDDEN
            if flag["severity"] in MUST_OVERRIDE
            else FlagReview.Kind.ACKNOWLEDGED
        )
        if flag["severity"] == "info":
            raise ServiceError(f"{rule_id} is for information and needs no acknowledgement.")
        if kind != expected:
            verb = (
                "overridden with a documented reason"
                if expected == "overridden"
                else "acknowledged"
            )
            raise ServiceError(f"A {flag['severity']} flag is {verb}.")
        review, created = FlagReview.objects.update_or_create(
            screening=screening,
            rule_id=rule_id,
            defaults={
                "severity": flag["severity"],
                "kind": kind,
                "reason_code": reason_code,
                "reason": reason,
                "reviewed_by": user,
                "reviewed_at": timezone.now(),
            },
        )
        ScreeningFlag.objects.filter(screening=screening, rule_id=rule_id).update(
            review_kind=kind, reviewed_at=review.reviewed_at
        )
        audit_record(
            actor=user,
            action=f"flag.{kind}",
            object_type="screening.screening",
            object_id=str(screening.uuid),
            detail={
                "rule": rule_id,
                "severity": flag["severity"],
                "reason_code": reason_code,
                "reason": reason,
                "revised": not created,
            },
        )
    return review


def screening_sign(*, screening: Screening, user: User) -> Screening:
    """Sign a screening: every stop flag overridden and every urgent/review flag acknowledged.
    Locks the screening and its intake."""
    require_clinician(user)
    with transaction.atomic():
        screening = _lock_open(screening)
        pending = pending_flags(screening)
        if pending:
            names = ", ".join(f["rule"] for f in pending)
            raise ServiceError(f"Handle every flag before signing: {names} still open.")
        now = timezone.now()
        screening.status = Screening.Status.SIGNED
        screening.signed_by = user
        screening.signed_at = now
        screening.save(update_fields=["status", "signed_by", "signed_at"])
        Intake.objects.filter(pk=screening.intake_id).update(status=Intake.Status.LOCKED)
        audit_record(
            actor=user,
            action="screening.sign",
            object_type="screening.screening",
            object_id=str(screening.uuid),
            detail={
                "disposition": screening.disposition,
                "reviews": _review_summary(screening.reviews.all()),
            },
        )
    return screening


def screening_amend(*, screening: Screening, user: User) -> Intake:
    """Start a new draft intake from a signed screening's intake, linked to the original."""
    require_clinician(user)
    if not screening.is_signed:
        raise ServiceError("Only a signed screening is amended; edit the draft intake instead.")
    with transaction.atomic():
        intake = intake_create(
            patient=screening.patient, user=user, copy_from=screening.intake, amends=screening
        )
        audit_record(
            actor=user,
            action="screening.amend",
            object_type="screening.screening",
            object_id=str(screening.uuid),
            detail={"new_intake": str(intake.uuid)},
        )
    return intake


def _lock_open(screening: Screening) -> Screening:
    """Re-read `screening` under a row lock; refuse if signed or superseded."""
    current = Screening.objects.select_for_update().get(pk=screening.pk)
    if current.is_signed:
        raise LockedError("This screening is signed and locked.")
    if current.status == Screening.Status.SUPERSEDED:
        raise ConflictError("This screening was superseded by a later run of the intake.")
    return current


def _review_summary(reviews: Iterable[FlagReview]) -> list[dict[str, str]]:
    return [{"rule": r.rule_id, "kind": r.kind, "reason_code": r.reason_code} for r in reviews]
