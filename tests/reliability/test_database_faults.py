"""A database connection that dies during a request: what the clinician sees next.

Each test kills the Django connection's real PostgreSQL backend with `pg_terminate_backend`
from a second connection (as a failover, a pooler restart or an administrator would), at the
moment a chosen statement is about to run. Django's test client does not health-check
connections between requests, so a kill before the request behaves like one during it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from patients.models import Intake
from tests.factories import make_intake, make_patient
from tests.patients.conftest import eligible_data

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MRN = "FAULT0042"


def _terminate_this_connection() -> None:
    """pg_terminate_backend on Django's connection, and wait until the backend is gone."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as killer:
        assert killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        for _ in range(100):
            alive = killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if alive.fetchone() is None:
                return
            time.sleep(0.02)
    raise AssertionError("the backend outlived pg_terminate_backend")


@contextmanager
def killed_before(pattern: str, *, times: int | None = 1) -> Iterator[list[str]]:
    """Terminate the connection just before each of the first `times` statements matching
    `pattern` runs (every one of them with `times=None`: the database stays unreachable)."""
    fired: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if (times is None or len(fired) < times) and re.search(pattern, sql):
            fired.append(sql)
            _terminate_this_connection()
        return execute(sql, params, many, context)

    connection.ensure_connection()
    with connection.execute_wrapper(wrapper):
        yield fired
    if times is None:
        assert fired, f"no statement matched {pattern!r}"
    else:
        assert len(fired) == times, f"{len(fired)} statements matched {pattern!r}"


@pytest.fixture
def browser(clinician) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    return client


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1), mrn=MRN)


def test_a_page_whose_connection_dies_is_served_on_a_new_one(browser, patient, caplog):
    page = reverse("patients:detail", args=[patient.uuid])
    with caplog.at_level(logging.WARNING), killed_before(r'FROM "patients_patient"'):
        response = browser.get(page)
    assert response.status_code == 200
    assert MRN in response.content.decode()
    assert [r.levelno for r in caplog.records if r.name == "screening.outage"] == [logging.WARNING]


def test_a_page_whose_connection_dies_twice_is_a_503_to_try_again(browser, patient, caplog):
    page = reverse("patients:detail", args=[patient.uuid])
    with caplog.at_level(logging.WARNING), killed_before(r'FROM "patients_patient"', times=2):
        response = browser.get(page)

    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    body = response.content.decode()
    assert "try again" in body
    assert f'href="{page}"' in body
    assert MRN not in body
    warnings = [r for r in caplog.records if r.name == "screening.outage"]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    assert "OperationalError" in warnings[-1].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert MRN not in caplog.text

    # Still signed in, on a new connection: the page works again.
    again = browser.get(page)
    assert again.status_code == 200
    assert MRN in again.content.decode()


def test_a_dead_connection_while_reading_the_session_is_survived_on_a_new_one(browser, patient):
    """Lost before the view, while a middleware read the session: the GET goes through every
    middleware once more (before: a 503 at once)."""
    with killed_before(r'FROM "django_session"'):
        response = browser.get(reverse("home"))
    assert response.status_code == 200
    assert "Sign out" in response.content.decode()


def test_a_session_that_stays_unreadable_is_a_503_not_a_500(browser, patient):
    with killed_before(r'FROM "django_session"', times=None):
        response = browser.get(reverse("home"))
    assert response.status_code == 503
    assert "try again" in response.content.decode()
    assert browser.get(reverse("home")).status_code == 200


def test_a_session_that_cannot_be_saved_leaves_the_user_signed_in(browser, patient):
    """Before: the save failed with UpdateError and SessionMiddleware answered 400."""
    page = reverse("patients:detail", args=[patient.uuid])
    with killed_before(r'^UPDATE "django_session"'):
        response = browser.get(page)
    assert response.status_code == 200
    again = browser.get(page)
    assert again.status_code == 200, "signed out after the failed session save"


INTAKE_WRITE = r'^UPDATE "patients_intake"'


def test_an_intake_save_whose_transaction_was_lost_is_made_again_on_a_new_connection(
    browser, patient, clinician
):
    """Nothing of the request was stored when the connection died in the save's transaction:
    it is run again, and saved once."""
    intake = make_intake(patient=patient, by=clinician)
    page = reverse("patients:intake_edit", args=[intake.uuid])
    with killed_before(INTAKE_WRITE):
        response = browser.post(page, eligible_data(intake, phq9_total=23))
    assert response.status_code == 302
    assert response["Location"] == page
    intake.refresh_from_db()
    assert (intake.phq9_total, intake.version) == (23, 2)
    assert "Draft saved" in browser.get(page).content.decode()


def test_an_intake_post_that_meets_the_fault_again_shows_the_form_with_what_was_typed(
    browser, patient, clinician
):
    intake = make_intake(patient=patient, by=clinician)
    page = reverse("patients:intake_edit", args=[intake.uuid])
    typed = eligible_data(intake, phq9_total=23)

    with killed_before(INTAKE_WRITE, times=2):
        response = browser.post(page, typed)

    assert response.status_code == 302
    assert response["Location"] == page
    assert response["Retry-After"] == "3"
    shown = browser.get(page)
    assert shown.status_code == 200
    body = shown.content.decode()
    assert 'data-restored="interrupted"' in body
    assert "were not saved" in body
    assert re.search(r'name="phq9_total"[^>]*value="23"|value="23"[^>]*name="phq9_total"', body)
    intake.refresh_from_db()
    assert intake.phq9_total == 19, "half-saved"
    assert Intake.objects.get(pk=intake.pk).status == Intake.Status.DRAFT


def test_an_api_call_whose_connection_dies_is_answered_on_a_new_one(clinician, patient):
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    with killed_before(r'FROM "patients_patient"'):
        response = client.get(f"/api/v1/patients/{patient.uuid}")
    assert response.status_code == 200
    assert response.json()["mrn"] == MRN


def test_an_api_save_whose_transaction_was_lost_is_made_again_once(clinician, patient):
    intake = make_intake(patient=patient, by=clinician)
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    read = client.get(f"/api/v1/intakes/{intake.uuid}").json()
    answers = {**read["answers"], "phq9_total": 23}

    with killed_before(INTAKE_WRITE):
        response = client.put(
            f"/api/v1/intakes/{intake.uuid}",
            {"version": read["version"], "answers": answers},
            content_type="application/json",
        )

    assert response.status_code == 200, response.content
    intake.refresh_from_db()
    assert (intake.phq9_total, intake.version) == (23, read["version"] + 1)


def test_the_api_answers_a_connection_that_dies_twice_with_json_unavailable(clinician, patient):
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    with killed_before(r'FROM "patients_patient"', times=2):
        response = client.get(f"/api/v1/patients/{patient.uuid}")
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert response.json()["code"] == "unavailable"
    assert response.json()["errors"] == []
    assert "try again" in response.json()["detail"]
    assert client.get(f"/api/v1/patients/{patient.uuid}").status_code == 200
