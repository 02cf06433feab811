"""Changes to patients and intakes. Each service checks the permission, makes its change and
writes its audit event in one transaction.

What an intake's change means for the screenings run from it is the screening side's business
(`screening.services.intake_save` wraps `intake_update`): this app never imports it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patients.models import (
    INTAKE_FORM_VERSION,
    AntidepressantTrial,
    Intake,
    IntakeAutosave,
    Patient,
    TrialsRecorded,
)
from screening.core.audit import audit_record
from screening.core.errors import ConflictError, InputInvalid, LockedError
from screening.core.permissions import require_perm

#: Intake columns a clinician edits (everything but bookkeeping).
INTAKE_FIELDS = tuple(
    f.name
    for f in Intake._meta.concrete_fields
    if f.name
    not in {
        "id",
        "uuid",
        "patient",
        "status",
        "version",
        "form_version",
        "amends",
        "amendment_reason",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    }
)


#: Oldest age the rules engine accepts (data dictionary: age_years 0–120).
MAX_AGE_YEARS = 120


def age_on(born: date, on: date) -> int:
    """Whole years from `born` to `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def date_of_birth_problem(born: date, *, today: date) -> str:
    """Why `born` cannot be a patient's date of birth ("" if it can): one check for the form
    and the API alike."""
    if born > today:
        return "The date of birth cannot be in the future."
    if age_on(born, today) > MAX_AGE_YEARS:
        return f"This date of birth gives an age over {MAX_AGE_YEARS} years: check the year."
    return ""


def mrn_taken(mrn: str) -> bool:
    """Whether a patient with this MRN is registered, in any case: "mrn0042" and "MRN0042" are
    the same record typed twice (the database's constraint is case-insensitive too)."""
    return Patient.objects.filter(mrn__iexact=mrn.strip()).exists()


def patient_register(
    *,
    user: User,
    mrn: str,
    family_name: str,
    given_names: str,
    date_of_birth: date,
    sex_at_birth: str,
) -> Patient:
    """Register a patient (MRN unique in any case; date of birth not in the future and not
    over `MAX_AGE_YEARS` ago). Raises `InputInvalid` by field, `ConflictError` for a taken MRN."""
    require_perm(user, "patients.add_patient", "Only clinicians can do this.")
    problem = date_of_birth_problem(date_of_birth, today=timezone.localdate())
    if problem:
        raise InputInvalid.one("date_of_birth", problem)
    if mrn_taken(mrn):
        raise ConflictError("A patient with this medical record number is already registered.")
    with transaction.atomic():
        patient = Patient.objects.create(
            mrn=mrn.strip(),
            family_name=family_name.strip(),
            given_names=given_names.strip(),
            date_of_birth=date_of_birth,
            sex_at_birth=sex_at_birth,
            created_by=user,
        )
        audit_record(
            actor=user,
            action="patient.register",
            target=patient,
            # No identifiers: the trail never changes, so a mistyped MRN would stay in it; the
            # patient's UUID leads to the record (and to its corrections).
            detail={},
        )
    return patient


def intake_create(
    *,
    patient: Patient,
    user: User,
    copy_from: Intake | None = None,
    amends: Any = None,
    amendment_reason: str = "",
) -> Intake:
    """Start a draft intake for `patient`, optionally copying another intake's answers (an
    amendment names the signed screening it `amends` and why)."""
    require_perm(user, "patients.add_intake", "Only clinicians can do this.")
    with transaction.atomic():
        values = {name: getattr(copy_from, name) for name in INTAKE_FIELDS} if copy_from else {}
        intake = Intake.objects.create(
            patient=patient,
            created_by=user,
            updated_by=user,
            amends=amends,
            amendment_reason=amendment_reason,
            **values,
        )
        if copy_from is not None:
            AntidepressantTrial.objects.bulk_create(
                AntidepressantTrial(
                    intake=intake,
                    position=trial.position,
                    drug=trial.drug,
                    weeks_at_adequate_dose=trial.weeks_at_adequate_dose,
                    outcome=trial.outcome,
                )
                for trial in copy_from.trials.all()
            )
        audit_record(
            actor=user,
            action="intake.create",
            target=intake,
            detail={
                "patient": str(patient.uuid),
                "copied_from": str(copy_from.uuid) if copy_from else None,
            },
        )
    return intake


def intake_update(
    *,
    intake: Intake,
    user: User,
    expected_version: int,
    values: Mapping[str, Any],
    trials: Iterable[Mapping[str, Any]],
    savepoint: bool = True,
) -> Intake:
    """Save a draft intake's answers (and its trial list) if nobody saved it since
    `expected_version`; otherwise raise `ConflictError` and change nothing.

    `savepoint=False` is for a caller whose own transaction ends with any error this raises
    (`intake_submit`): the save then costs no savepoint round trips."""
    require_perm(user, "patients.change_intake", "Only clinicians can do this.")
    unknown = set(values) - set(INTAKE_FIELDS)
    if unknown:
        raise ValueError(f"not intake fields: {', '.join(sorted(unknown))}")
    trial_rows = list(trials)
    now = timezone.now()
    with transaction.atomic(savepoint=savepoint):
        updated = Intake.objects.filter(
            pk=intake.pk, version=expected_version, status=Intake.Status.DRAFT
        ).update(
            **values,
            version=F("version") + 1,
            form_version=INTAKE_FORM_VERSION,
            updated_by=user,
            updated_at=now,
        )
        if not updated:
            current = Intake.objects.filter(pk=intake.pk).values("status", "version").first()
            if current and current["status"] == Intake.Status.LOCKED:
                raise LockedError("This intake belongs to a signed screening and cannot change.")
            raise ConflictError(
                "Another clinician saved this intake after you opened it. Your changes were not "
                "saved: reload the intake to see the current answers."
            )
        intake.trials.all().delete()
        if values.get("antidepressant_trials_recorded") == TrialsRecorded.LISTED:
            AntidepressantTrial.objects.bulk_create(
                AntidepressantTrial(intake=intake, position=position, **row)
                for position, row in enumerate(trial_rows)
            )
        if intake.version == expected_version:
            # `intake` was read at the version this save replaced: the row is now `intake`
            # with these answers, so it need not be read back.
            for name, value in values.items():
                setattr(intake, name, value)
            intake.version, intake.updated_by, intake.updated_at = expected_version + 1, user, now
            intake.form_version = INTAKE_FORM_VERSION
        else:
            intake.refresh_from_db(from_queryset=Intake.objects.select_related("patient"))
        audit_record(
            actor=user,
            action="intake.save",
            target=intake,
            detail={
                "version": intake.version,
                "recorded": _recorded(values),
                "trials": len(trial_rows),
            },
        )
    return intake


def intake_unchanged(
    intake: Intake, values: Mapping[str, Any], trials: Iterable[Mapping[str, Any]]
) -> bool:
    """Whether `values` and `trials` are exactly the answers `intake` holds now."""
    if any(getattr(intake, name) != value for name, value in values.items()):
        return False
    stored = [trial.as_fact() for trial in intake.trials.order_by("position", "pk")]
    return stored == [dict(row) for row in trials]


def intake_autosave(
    *, intake: Intake, user: User, data: Mapping[str, list[str]], base_version: int
) -> IntakeAutosave:
    """Keep `user`'s unsaved answers to `intake` (the form as the page would post it) as their
    working copy. The intake itself does not change, so no screening is run or superseded.

    Raises `ConflictError` when the intake was saved since `base_version` (the page is out of
    date: its next save would conflict anyway) and `LockedError` when it is signed. The intake
    row is read under a share lock, so a save or run that commits meanwhile is seen, never
    half-seen."""
    require_perm(user, "patients.change_intake", "Only clinicians can do this.")
    with transaction.atomic():
        current = (
            Intake.objects.select_for_update(no_key=True)
            .filter(pk=intake.pk)
            .values("status", "version")
            .get()
        )
        if current["status"] == Intake.Status.LOCKED:
            raise LockedError("This intake belongs to a signed screening and cannot change.")
        if current["version"] != base_version:
            raise ConflictError(
                "This intake was saved by someone else after you opened it: your latest answers "
                "were not autosaved. Save to see what changed."
            )
        autosave, _created = IntakeAutosave.objects.update_or_create(
            intake=intake,
            saved_by=user,
            defaults={"data": dict(data), "base_version": base_version, "saved_at": timezone.now()},
        )
    return autosave


def intake_autosave_discard(*, intake: Intake, user: User) -> None:
    """Forget `user`'s working copy of `intake` (saved, run, or discarded by them)."""
    IntakeAutosave.objects.filter(intake=intake, saved_by=user).delete()


def _recorded(values: Mapping[str, Any]) -> list[str]:
    """Which fields hold an answer (names only: audit details carry no clinical values)."""
    return sorted(name for name, value in values.items() if value not in (None, "", []))
