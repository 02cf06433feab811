"""The pages that keep a clinician's work, without a browser: a form sent after the session
ended comes back after signing in (and to nobody else's page), the autosave endpoint answers in
JSON, and "stay signed in" answers 401 once the session has ended."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import Intake, IntakeAutosave
from screening.core.held import HELD_POST_MAX_AGE, SESSION_KEY
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(clinician):
    patient = make_patient(created_by=clinician)
    return Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)


def edit_url(intake) -> str:
    return reverse("patients:intake_edit", args=[intake.uuid])


def sent_after_expiry(client: Client, intake, **answers) -> None:
    data = {"version": str(intake.version), "action": "save", **answers}
    response = client.post(edit_url(intake), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert response["Location"] == f"{reverse('login')}?next={edit_url(intake)}"


def test_a_form_sent_after_the_session_ended_is_shown_again_after_signing_in(
    client, clinician, password, intake
):
    sent_after_expiry(client, intake, phq9_total="21")
    login_page = client.get(reverse("login") + f"?next={edit_url(intake)}")
    assert 'id="held-post-notice"' in login_page.content.decode()

    client.post(reverse("login"), {"username": clinician.username, "password": password})
    page = client.get(edit_url(intake)).content.decode()
    assert 'data-restored="held"' in page
    assert 'name="phq9_total" value="21"' in page
    assert Intake.objects.get(pk=intake.pk).phq9_total is None  # shown, not saved

    again = client.get(edit_url(intake)).content.decode()
    assert 'data-restored="held"' not in again  # used once


def test_held_answers_are_forgotten_after_a_while(client, clinician, password, intake):
    sent_after_expiry(client, intake, phq9_total="21")
    session = client.session
    held = session[SESSION_KEY]
    sent = timezone.now() - timedelta(seconds=HELD_POST_MAX_AGE + 1)
    held[edit_url(intake)]["at"] = sent.isoformat()
    session[SESSION_KEY] = held
    session.save()
    client.post(reverse("login"), {"username": clinician.username, "password": password})
    assert 'data-restored="held"' not in client.get(edit_url(intake)).content.decode()


def test_a_reviewer_who_signs_in_is_not_shown_held_answers(client, reviewer, password, intake):
    sent_after_expiry(client, intake, phq9_total="21")
    client.post(reverse("login"), {"username": reviewer.username, "password": password})
    page = client.get(edit_url(intake)).content.decode()
    assert 'value="21"' not in page
    assert "read-only-alert" in page


def test_autosave_answers_in_json_and_keeps_only_intake_fields(client, clinician, intake):
    url = reverse("patients:intake_autosave", args=[intake.uuid])
    assert client.post(url, {"version": "1"}).status_code == 401
    client.force_login(clinician)
    response = client.post(url, {"version": "1", "phq9_total": "14", "mrn": "X", "other": "y"})
    assert response.status_code == 200
    assert set(response.json()) == {"saved_at", "version"}
    autosave = IntakeAutosave.objects.get(intake=intake)
    assert autosave.data == {"version": ["1"], "phq9_total": ["14"]}

    stale = client.post(url, {"version": "7", "phq9_total": "15"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"


def test_discarding_the_autosaved_answers_shows_the_intake_as_saved(client, clinician, intake):
    client.force_login(clinician)
    url = reverse("patients:intake_autosave", args=[intake.uuid])
    client.post(url, {"version": "1", "phq9_total": "14"})
    assert 'data-restored="autosave"' in client.get(edit_url(intake)).content.decode()

    client.post(edit_url(intake), {"action": "discard"})
    assert not IntakeAutosave.objects.exists()
    assert "data-restored" not in client.get(edit_url(intake)).content.decode()


def test_stay_signed_in_answers_401_once_the_session_has_ended(client, clinician):
    url = reverse("session_keepalive")
    assert client.post(url).status_code == 401
    client.force_login(clinician)
    response = client.post(url)
    assert response.status_code == 200
    assert response.json() == {"expires_in": 15 * 60}
