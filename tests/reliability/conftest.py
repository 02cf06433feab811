"""Screenings at each stage a change service starts from, for the fault and concurrency tests.

The concurrency tests, and the autocommit variants of the fault tests, are transactional: they
commit for real, so they ask for the migrated data back with `serialized_rollback=True` (see
tests/conftest.py).
"""

from datetime import date

import pytest

from rules.models import RuleSet
from rules.services import draft_start, rule_update
from screening.models import FlagReview, Screening
from screening.services import flag_acknowledge, flag_override, screening_run, screening_sign
from tests.factories import make_intake, make_patient

ON = date(2026, 11, 24)
#: An intake that raises a stop flag and a review flag.
FLAGGED = {"pregnancy_status": "pregnant", "systolic_bp": 150, "diastolic_bp": 95}
STOP, REVIEW = "STOP-PREGNANCY", "REV-BP-ELEVATED"

IN_TEST_TRANSACTION = pytest.mark.django_db
AUTOCOMMIT = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Every test here makes two or three people: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1))


@pytest.fixture
def intake(patient, clinician):
    """A draft intake with a stop and a review flag to handle."""
    return make_intake(patient=patient, by=clinician, **FLAGGED)


@pytest.fixture
def screening(intake, clinician) -> Screening:
    """An unsigned screening with an open stop flag and an open review flag."""
    screening = screening_run(intake=intake, user=clinician, on=ON)
    assert {f["rule"] for f in screening.result["flags"]} == {STOP, REVIEW}
    return screening


@pytest.fixture
def ready_screening(screening, clinician) -> Screening:
    """An unsigned screening whose flags are all handled: it can be signed."""
    flag_override(
        screening=screening,
        rule_id=STOP,
        user=clinician,
        reason_code=FlagReview.OverrideReason.SPECIALIST_APPROVAL,
        reason="Obstetric MDT reviewed",
    )
    flag_acknowledge(screening=screening, rule_id=REVIEW, user=clinician, reason="Rechecked")
    return screening


@pytest.fixture
def signed_screening(ready_screening, clinician) -> Screening:
    return screening_sign(screening=ready_screening, user=clinician)


@pytest.fixture
def draft(rule_admin):
    """A draft of the default rule set with one reworded rule: it can be published."""
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id=REVIEW),
        user=rule_admin,
        values={"message": "Blood pressure above 140/90: recheck before dosing."},
    )
    return draft
