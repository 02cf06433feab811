"""Intakes prefilled from FHIR: one service per change, each with its audit event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from patients.models import Intake, Patient
from patients.services import INTAKE_FIELDS, intake_create, intake_update
from screening.core.audit import audit_record
from screening.core.errors import InputInvalid
from screening.core.permissions import require_perm
from screening.ehr.mapping import BundleInvalid, Prefill, map_bundle
from screening.ehr.models import IntakePrefill

#: Facts the patient record holds: the Bundle's must agree with it (or it is another patient).
_RECORD = ("date_of_birth", "sex_at_birth")


def intake_from_fhir(*, patient: Patient, user: User, bundle: Any, today: date) -> Intake:
    """Start a draft intake for `patient` prefilled from a FHIR R4 Bundle (nothing runs).

    Each prefilled answer keeps its sources until the clinician saves the intake; stale,
    conflicting and invalid data is kept to be shown, never used. A Bundle whose Patient has
    another birth date or sex at birth than the record is refused (another patient's data).
    """
    require_perm(user, "patients.add_intake", "Only clinicians can do this.")
    try:
        prefill = map_bundle(bundle, today=today)
    except BundleInvalid as invalid:
        raise InputInvalid.one("bundle", str(invalid)) from None
    _check_same_patient(patient, prefill)
    values = _columns(prefill)
    with transaction.atomic(durable=True):
        intake = intake_create(patient=patient, user=user)
        if values:
            intake = intake_update(
                intake=intake, user=user, expected_version=intake.version, values=values, trials=()
            )
        record = IntakePrefill.objects.create(
            intake=intake,
            values={name: values[name] for name in values},
            sources={
                column(fact): s for fact, s in prefill.sources().items() if column(fact) in values
            },
            not_used=[f.as_json() for f in prefill.not_used()],
            unmapped=len(prefill.unmapped),
        )
        audit_record(
            actor=user,
            action="intake.prefill_from_fhir",
            target=intake,
            detail={
                "facts": sorted(record.sources),
                "not_used": len(record.not_used),
                "unmapped": record.unmapped,
            },
        )
    return intake


def _check_same_patient(patient: Patient, prefill: Prefill) -> None:
    said = prefill.facts
    born = said.get("date_of_birth")
    if born is not None and born != patient.date_of_birth.isoformat():
        raise InputInvalid.one(
            "bundle", "its Patient's birth date differs from this patient's record"
        )
    sex = said.get("sex_at_birth")
    if sex is not None and sex != patient.sex_at_birth:
        raise InputInvalid.one(
            "bundle", "its Patient's sex at birth differs from this patient's record"
        )


def column(fact: str) -> str:
    """The intake column of a fact a finding names (`cssrs.plan` → `cssrs_plan`)."""
    return fact.replace(".", "_", 1) if fact.startswith("cssrs.") else fact


def _columns(prefill: Prefill) -> dict[str, Any]:
    """Intake columns for the facts used. Diagnoses known in part become the list of those
    documented: the clinician completes and confirms it. C-SSRS answers fill their own
    columns; the unanswered ones stay not recorded."""
    values: dict[str, Any] = {}
    for fact, value in prefill.facts.items():
        if fact == "cssrs":
            values.update({column(f"cssrs.{name}"): answer for name, answer in value.items()})
            continue
        if fact in _RECORD or fact not in INTAKE_FIELDS:
            continue
        values[fact] = sorted(value["includes"]) if fact == "diagnoses" else value
    return values


def _same(prefilled: Any, answer: Any) -> bool:
    if isinstance(prefilled, list) and isinstance(answer, list):
        return sorted(prefilled) == sorted(answer)
    return bool(prefilled == answer)


def prefill_outcomes(
    prefill: IntakePrefill, *, values: Mapping[str, Any], confirmed: Iterable[str]
) -> dict[str, str]:
    """How each prefilled answer stands given the answers as sent (`values`: intake columns)
    and the prefilled answers ticked as confirmed: `cleared` when the answer is now not
    recorded, `changed` when the clinician gave another, `confirmed` when it is unchanged and
    ticked, `pending` otherwise (unchanged and not ticked, so not the clinician's yet)."""
    ticked = set(confirmed)
    outcomes: dict[str, str] = {}
    for fact in sorted(prefill.sources):
        answer = values.get(fact)
        if fact in prefill.values and answer in (None, ""):
            outcomes[fact] = IntakePrefill.Outcome.CLEARED
        elif fact in prefill.values and not _same(prefill.values[fact], answer):
            outcomes[fact] = IntakePrefill.Outcome.CHANGED
        elif fact in ticked:
            outcomes[fact] = IntakePrefill.Outcome.CONFIRMED
        else:
            outcomes[fact] = IntakePrefill.Outcome.PENDING
    return outcomes


def prefill_unchecked(
    *, intake: Intake, values: Mapping[str, Any], confirmed: Iterable[str]
) -> list[str]:
    """The prefilled answers a Run would use without the clinician having checked them
    (empty when the intake was not prefilled)."""
    prefill = IntakePrefill.objects.filter(intake=intake).first()
    if prefill is None:
        return []
    outcomes = prefill_outcomes(prefill, values=values, confirmed=confirmed)
    return [f for f, o in outcomes.items() if o == IntakePrefill.Outcome.PENDING]


def prefill_check(
    *, intake: Intake, user: User, values: Mapping[str, Any], confirmed: Iterable[str]
) -> list[str]:
    """Record how the clinician checked each prefilled answer (see `prefill_outcomes`) as
    saved with `values`; returns those still pending. An answer keeps who checked it and when
    until its outcome changes; the audit event names the answers per outcome (no values)."""
    with transaction.atomic():
        prefill = IntakePrefill.objects.select_for_update().filter(intake=intake).first()
        if prefill is None:
            return []
        outcomes = prefill_outcomes(prefill, values=values, confirmed=confirmed)
        now = timezone.now()
        checked: dict[str, Any] = {}
        for fact, outcome in outcomes.items():
            if outcome == IntakePrefill.Outcome.PENDING:
                continue
            before = prefill.checked.get(fact, {})
            same = before.get("outcome") == outcome
            checked[fact] = (
                before
                if same
                else {"outcome": outcome, "by": user.get_username(), "at": now.isoformat()}
            )
        pending = [f for f, o in outcomes.items() if o == IntakePrefill.Outcome.PENDING]
        if checked == prefill.checked and bool(pending) == (prefill.confirmed_at is None):
            return pending
        prefill.checked = checked
        done = not pending
        prefill.confirmed_at = (prefill.confirmed_at or now) if done else None
        prefill.confirmed_by = (prefill.confirmed_by or user) if done else None
        prefill.save(update_fields=["checked", "confirmed_at", "confirmed_by"])
        by_outcome: dict[str, list[str]] = {}
        for fact, outcome in outcomes.items():
            by_outcome.setdefault(outcome, []).append(fact)
        audit_record(actor=user, action="intake.prefill_check", target=intake, detail=by_outcome)
    return pending
