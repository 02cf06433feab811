"""Builders shared by the reviewer tests: screenings run through the real services."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from screening.models import Screening, ScreeningFlag
from screening.services import flag_override, screening_run, screening_sign
from tests.factories import make_intake, make_patient

ON = date(2026, 11, 24)


def run(clinician, *, on=ON, **answers) -> Screening:
    patient = make_patient(created_by=clinician)
    return screening_run(
        intake=make_intake(patient=patient, by=clinician, **answers), user=clinician, on=on
    )


def overridden_pregnancy(clinician, *, sign=False) -> Screening:
    screening = run(clinician, pregnancy_status="pregnant")
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="Obstetric MDT reviewed and approved",
    )
    if sign:
        screening = screening_sign(screening=screening, user=clinician)
    return screening


def copies(
    template: Screening, count: int, *, run_at=None, step=timedelta(minutes=1)
) -> list[Screening]:
    """`count` screenings with `template`'s snapshot, run `step` apart (or all at `run_at`, to
    make ties), with their fired flags, as `screening_run` would write them."""
    start = run_at or timezone.now() - step * count
    made = Screening.objects.bulk_create(
        Screening(
            patient=template.patient,
            intake=template.intake,
            ruleset_version=template.ruleset_version,
            status=Screening.Status.SUPERSEDED,
            screening_date=template.screening_date,
            facts=template.facts,
            result=template.result,
            rule_texts={},
            disposition=template.disposition,
            urgent=template.urgent,
            run_by=template.run_by,
            run_at=start if run_at else start + step * n,
        )
        for n in range(count)
    )
    ScreeningFlag.objects.bulk_create(
        ScreeningFlag(screening=s, rule_id=f["rule"], severity=f["severity"], run_at=s.run_at)
        for s in made
        for f in s.result["flags"]
    )
    return made
