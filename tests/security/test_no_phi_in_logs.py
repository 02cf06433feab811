"""No patient identifier (MRN, family name, given names, date of birth) in the logs, in any URL
the application sends people to, or on its error pages, with production settings (DEBUG off).

A clinician and a reviewer go through the whole product while every log record, from every
logger and at DEBUG level, is written out by the handlers `settings.LOGGING` configures (their
formatters and filters, tracebacks included). Server errors are forced on purpose: one whose
message names the patient, and a real PostgreSQL unique violation whose DETAIL quotes the MRN.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse

from patients.models import Intake, Patient
from screening.core.logging import REDACTED
from screening.models import Screening
from tests.patients.conftest import intake_data

pytestmark = pytest.mark.django_db

MRN = "MRN-QX7731Z"
FAMILY = "Quixwellby"
GIVEN = "Marisol Ottolina"
BORN = date(1979, 7, 23)

#: Every way the identifiers could be written out.
IDENTIFIERS = [
    MRN,
    FAMILY,
    GIVEN,
    *GIVEN.split(),
    *(
        BORN.strftime(pattern)
        for pattern in (
            "%Y-%m-%d",
            "%d/%m/%Y",
            "%m/%d/%Y",
            "%d.%m.%Y",
            "%d-%m-%Y",
            "%Y/%m/%d",
            "%Y%m%d",
            "%d %b %Y",
            "%d %B %Y",
            "%b %d, %Y",
            "%B %d, %Y",
            "%-d %B %Y",
        )
    ),
]


def leaks(texts: list[str]) -> list[str]:
    """The texts that hold any identifier (case-insensitively)."""
    found = [f.lower() for f in IDENTIFIERS]
    return [text for text in texts if any(f in text.lower() for f in found)]


# --- capturing every log record -----------------------------------------------------------------


def _configured_loggers() -> list[logging.Logger]:
    named = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [logging.getLogger(), *named]


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[str]]]:
    """Everything logged during the test, as the configured handlers would write it.

    Beside each handler `settings.LOGGING` set up (not pytest's own), a copy with the same
    formatter and filters writes into a buffer; every logger is opened to DEBUG meanwhile.
    """
    for name in ("django.request", "django.server", "django.security", "django.template", "axes"):
        logging.getLogger(name)  # exist, so they are opened to DEBUG too
    buffer = io.StringIO()
    added: list[tuple[logging.Logger, logging.Handler]] = []
    levels = {}
    for logger in _configured_loggers():
        levels[logger] = logger.level
        logger.setLevel(logging.DEBUG)
        for handler in list(logger.handlers):
            if type(handler).__module__.startswith("_pytest"):
                continue
            copy = logging.StreamHandler(buffer)
            copy.setFormatter(handler.formatter or logging.Formatter())
            for log_filter in handler.filters:
                copy.addFilter(log_filter)
            logger.addHandler(copy)
            added.append((logger, copy))
    assert added, "settings.LOGGING configures no handler"

    yield lambda: buffer.getvalue().splitlines()

    for logger, handler in added:
        logger.removeHandler(handler)
    for logger, level in levels.items():
        logger.setLevel(level)


# --- a visitor that remembers where it was sent --------------------------------------------------


class Browser:
    """The test client, noting every URL visited and every redirect, and following redirects
    with a GET as a browser does."""

    def __init__(self) -> None:
        self.client = Client(raise_request_exception=False)
        self.urls: list[str] = []

    def get(self, url: str, **extra):
        response = self.client.get(url, **extra)
        return self._visited(url, response)

    def post(self, url: str, data=None, **extra):
        response = self.client.post(url, data or {}, **extra)
        return self._visited(url, response)

    def _visited(self, url: str, response):
        self.urls.append(url)
        if response.status_code in (301, 302, 303):
            location = response["Location"]
            self.urls.append(location)
            return self.get(location)
        return response

    def sign_in(self, username: str, password: str):
        return self.post(reverse("login"), {"username": username, "password": password})

    def sign_out(self):
        return self.post(reverse("logout"))


@pytest.fixture
def visitor(settings) -> Browser:
    settings.DEBUG = False
    return Browser()


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- the journey --------------------------------------------------------------------------------


def register(visitor: Browser) -> Patient:
    visitor.post(
        reverse("patients:register"),
        {
            "mrn": MRN,
            "family_name": FAMILY,
            "given_names": GIVEN,
            "date_of_birth": BORN.isoformat(),
            "sex_at_birth": "female",
        },
    )
    return Patient.objects.get(mrn=MRN)


def clinician_journey(visitor: Browser, password: str) -> Screening:
    # A failed sign-in, with a patient's name typed where the username goes.
    assert visitor.sign_in(f"{FAMILY} {MRN}", GIVEN).status_code == 200
    assert visitor.sign_in("casey", password).status_code == 200  # home, after the redirect

    patient = register(visitor)
    duplicate = visitor.post(
        reverse("patients:register"),
        {"mrn": MRN, "family_name": FAMILY, "given_names": GIVEN, "date_of_birth": "1979-07-23"},
    )
    assert "already registered" in body(duplicate)  # a validation error, shown on the page
    for query in (MRN, FAMILY, GIVEN):
        found = body(visitor.post(reverse("patients:list"), {"q": query}))
        assert FAMILY.upper() in found
    visitor.get(reverse("patients:detail", args=[patient.uuid]))

    visitor.post(reverse("patients:intake_new", args=[patient.uuid]))
    intake = Intake.objects.get(patient=patient)
    url = reverse("patients:intake_edit", args=[intake.uuid])
    refused = visitor.post(url, intake_data(intake, answers={"phq9_total": 40}))
    assert "Nothing was saved" in body(refused)
    answers = {"pregnancy_status": "pregnant", "elevated_intraocular_pressure": True}
    visitor.post(url, intake_data(intake, answers=answers))
    stale = visitor.post(url, intake_data(intake, answers=answers, version=1))
    assert stale.status_code == 409
    intake.refresh_from_db()
    visitor.post(url, intake_data(intake, answers=answers, action="run"))
    screening = Screening.objects.get(intake=intake)

    flags = {"screening_uuid": screening.uuid}
    visitor.post(
        reverse("screening:override", kwargs={**flags, "rule_id": "STOP-PREGNANCY"}),
        {"reason_code": "other", "reason": f"{GIVEN} {FAMILY} ({MRN}, born {BORN}) confirmed."},
    )
    visitor.post(
        reverse("screening:acknowledge", kwargs={**flags, "rule_id": "REV-IOP"}),
        {"reason": f"Ophthalmology letter for {MRN} on file."},
    )
    visitor.post(reverse("screening:sign", args=[screening.uuid]))
    screening.refresh_from_db()
    assert screening.is_signed
    visitor.post(reverse("screening:amend", args=[screening.uuid]), {"reason": "Mistyped"})
    visitor.sign_out()
    return screening


def reviewer_journey(visitor: Browser, password: str, screening: Screening) -> None:
    visitor.sign_in("riley", password)
    visitor.get(reverse("screening:list"))
    visitor.get(reverse("screening:review", args=[screening.uuid]))
    assert MRN in body(visitor.get(reverse("screening:export_json", args=[screening.uuid])))
    assert body(visitor.get(reverse("screening:export_csv")))
    visitor.get(reverse("patients:detail", args=[screening.patient.uuid]))
    forbidden = visitor.post(reverse("patients:intake_edit", args=[screening.intake.uuid]), {})
    assert forbidden.status_code == 403
    assert visitor.get(f"/screenings/{uuid.uuid4()}/").status_code == 404
    visitor.sign_out()


def server_errors(visitor: Browser, password: str, patient: Patient, monkeypatch) -> list[str]:
    """Two views made to fail: the texts of the exceptions they raised."""
    raised: list[str] = []
    visitor.sign_in("casey", password)

    def failing_lookup(user, screening_uuid):
        raised.append(f"no screening {screening_uuid} for {FAMILY}, {GIVEN} ({MRN}, {BORN})")
        raise RuntimeError(raised[-1])

    monkeypatch.setattr("screening.clinic.views.screening_for", failing_lookup)
    assert visitor.get(f"/screenings/{uuid.uuid4()}/").status_code == 500

    def duplicate_insert(user, patient_uuid):
        # A real unique violation, in a savepoint so the test's transaction survives it.
        try:
            with transaction.atomic():
                Patient.objects.create(
                    mrn=patient.mrn,
                    family_name=patient.family_name,
                    given_names=patient.given_names,
                    date_of_birth=patient.date_of_birth,
                    sex_at_birth=patient.sex_at_birth,
                    created_by=user,
                )
        except IntegrityError as error:
            raised.append(f"{error!s} {error.__cause__!s}")
            raise
        raise AssertionError("the duplicate MRN was stored")

    monkeypatch.setattr("screening.clinic.intake_views.patient_for", duplicate_insert)
    assert visitor.get(reverse("patients:detail", args=[patient.uuid])).status_code == 500
    visitor.sign_out()
    return raised


def test_the_whole_journey_logs_no_patient_identifier(
    visitor, log_lines, clinician, reviewer, password, monkeypatch
):
    screening = clinician_journey(visitor, password)
    reviewer_journey(visitor, password, screening)
    raised = server_errors(visitor, password, screening.patient, monkeypatch)

    lines = log_lines()
    leaked = leaks(lines)
    assert not leaked, f"{len(leaked)} log lines name the patient, first: {leaked[0][:500]}"
    # The errors happened, and their messages would have named the patient...
    assert len(raised) == 2
    assert all(MRN in text for text in raised)
    assert "Key (mrn)=" in raised[1]
    # ...and the log still tells an engineer what failed, where, on which request.
    logged = "\n".join(lines)
    assert "ERROR django.request Internal Server Error: /screenings/" in logged
    assert f"Internal Server Error: /patients/{screening.patient.uuid}/" in logged
    assert f"RuntimeError: {REDACTED}" in logged
    assert f"django.db.utils.IntegrityError: {REDACTED}" in logged
    assert f"psycopg.errors.UniqueViolation: {REDACTED}" in logged
    assert "in failing_lookup" in logged
    assert "in duplicate_insert" in logged
    assert "screening/clinic/views.py" in logged
    assert "Forbidden (Permission denied): /intakes/" in logged
    assert "Not Found: /screenings/" in logged
    assert "AXES: New login failure" in logged


def test_no_url_the_journey_visits_or_is_sent_to_names_the_patient(
    visitor, clinician, reviewer, password
):
    screening = clinician_journey(visitor, password)
    reviewer_journey(visitor, password, screening)

    assert len(visitor.urls) > 30
    assert leaks(visitor.urls) == []


# --- error pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Http404(f"No patient {MRN} ({FAMILY}, {GIVEN}, born {BORN})"), 404),
        (PermissionDenied(f"{FAMILY}, {GIVEN} ({MRN}) is not yours"), 403),
        (BadRequest(f"{GIVEN} {FAMILY} sent twice"), 400),
        (SuspiciousOperation(f"{MRN} looked up from two sessions"), 400),
        (RuntimeError(f"lookup failed for {MRN} {FAMILY} {GIVEN} {BORN}"), 500),
    ],
    ids=["404", "403", "400", "400-suspicious", "500"],
)
def test_error_pages_and_their_log_lines_never_show_the_error_text(
    visitor, log_lines, clinician, password, monkeypatch, error, status
):
    visitor.sign_in("casey", password)
    patient = register(visitor)

    def failing(user, patient_uuid):
        raise error

    monkeypatch.setattr("screening.clinic.intake_views.patient_for", failing)
    response = visitor.get(reverse("patients:detail", args=[patient.uuid]))

    assert response.status_code == status
    assert leaks([body(response)]) == []
    lines = log_lines()
    assert leaks(lines) == []
    if status != 404:  # Django logs a 404 by its path alone
        assert f"{type(error).__name__}: {REDACTED}" in "\n".join(lines)


def test_a_missing_record_is_a_plain_404_page(visitor, clinician, password):
    visitor.sign_in("casey", password)

    response = visitor.get(f"/patients/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert "Page not found" in body(response)


# --- sign-in ------------------------------------------------------------------------------------


def test_what_is_typed_at_sign_in_is_never_logged(visitor, log_lines, clinician):
    typed_username, typed_password = "Marisol.Quixwellby.1979", "Ottolina-MRN-QX7731Z"
    for _ in range(6):  # past the lock-out
        visitor.sign_in(typed_username, typed_password)
    visitor.sign_in("casey", typed_password)

    logged = "\n".join(log_lines())
    assert "AXES: Locking out" in logged
    for typed in (typed_username, typed_password, "Quixwellby", "Ottolina"):
        assert typed.lower() not in logged.lower()
