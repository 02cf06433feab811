"""Patient and intake pages: who may do what, search, registration, drafts, conflicts, runs."""

import json
import re
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from patients.models import Intake, Patient
from screening.core.models import AuditEvent
from screening.models import Screening
from screening.services import screening_run, screening_sign
from tests.factories import make_intake, make_patient
from tests.patients.conftest import eligible_data, intake_data

pytestmark = pytest.mark.django_db

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def draft(patient, clinician):
    """A draft intake with nothing recorded, as "New intake" starts it."""
    return Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)


@pytest.fixture
def signed(patient, clinician):
    """A signed screening (its intake is locked)."""
    screening = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician)
    return screening_sign(screening=screening, user=clinician)


def as_user(client, user):
    client.force_login(user)
    return client


def edit_url(intake):
    return reverse("patients:intake_edit", args=[intake.uuid])


def html(response):
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def field_block(page, name):
    """The HTML of one field's crispy wrapper (`div_id_<name>` up to the next field)."""
    start = page.index(f'id="div_id_{name}"')
    following = page.find('id="div_id_', start + 1)
    return page[start : following if following != -1 else len(page)]


def refreshed(intake):
    return Intake.objects.get(pk=intake.pk)


# --- who may do what --------------------------------------------------------------------------


def pages(patient, intake):
    """(method, url) of every page, with the roles that may use it."""
    return [
        ("get", reverse("patients:list"), {"clinician", "reviewer"}),
        ("get", reverse("patients:register"), {"clinician"}),
        ("get", reverse("patients:detail", args=[patient.uuid]), {"clinician", "reviewer"}),
        ("post", reverse("patients:intake_new", args=[patient.uuid]), {"clinician"}),
        ("get", edit_url(intake), {"clinician", "reviewer"}),
        ("post", edit_url(intake), {"clinician"}),
    ]


@pytest.mark.parametrize("who", ["clinician", "reviewer", "rule_admin", "outsider"])
def test_each_page_serves_only_its_roles(client, request, patient, draft, who):
    user = request.getfixturevalue(who)
    as_user(client, user)
    role = {"clinician": "clinician", "reviewer": "reviewer"}.get(who)

    for method, url, allowed in pages(patient, draft):
        data = intake_data(draft) if url == edit_url(draft) else {}
        response = getattr(client, method)(url, data)
        if role in allowed:
            assert response.status_code in (200, 302), (method, url)
        else:
            assert response.status_code == 403, (method, url)


def test_anonymous_visitors_are_sent_to_sign_in(client, patient, draft):
    for method, url, _ in pages(patient, draft):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('login')}?next=")


def test_forbidden_users_change_nothing(client, patient, draft, reviewer, rule_admin, outsider):
    for user in (reviewer, rule_admin, outsider):
        as_user(client, user)
        client.post(edit_url(draft), eligible_data(draft))
        client.post(reverse("patients:intake_new", args=[patient.uuid]))
        client.post(reverse("patients:register"), _registration(mrn=f"X-{user.username}"))

    assert refreshed(draft).version == 1
    assert Intake.objects.count() == 1
    assert Patient.objects.count() == 1


def test_unknown_uuids_are_not_found(client, clinician):
    as_user(client, clinician)

    assert client.get(reverse("patients:detail", args=[UNKNOWN])).status_code == 404
    assert client.get(f"/intakes/{UNKNOWN}/").status_code == 404
    assert client.post(reverse("patients:intake_new", args=[UNKNOWN])).status_code == 404


def test_sequential_ids_and_mrns_are_not_urls(client, clinician, patient, draft):
    as_user(client, clinician)

    assert client.get(f"/patients/{patient.pk}/").status_code == 404
    assert client.get(f"/patients/{patient.mrn}/").status_code == 404
    assert client.get(f"/intakes/{draft.pk}/").status_code == 404


# --- list and search --------------------------------------------------------------------------


@pytest.fixture
def people(clinician):
    return {
        "okafor": make_patient(
            created_by=clinician, mrn="MRN-2001", family_name="Okafor", given_names="Ada"
        ),
        "lindqvist": make_patient(
            created_by=clinician, mrn="MRN-3002", family_name="Lindqvist", given_names="Ola"
        ),
    }


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("MRN-20", "Okafor", "Lindqvist"),
        ("mrn-3002", "Lindqvist", "Okafor"),
        ("okaf", "Okafor", "Lindqvist"),
        ("Ola Lindqvist", "Lindqvist", "Okafor"),
    ],
)
def test_search_by_mrn_or_name(client, reviewer, people, query, found, not_found):
    as_user(client, reviewer)

    response = client.post(reverse("patients:list"), {"q": query})

    assert response.status_code == 200
    assert found.upper() in html(response)
    assert not_found.upper() not in html(response)


def test_search_without_a_match_says_so(client, clinician, people):
    as_user(client, clinician)

    response = client.post(reverse("patients:list"), {"q": "Nobody"})

    assert "No patient matches “Nobody”." in html(response)


def test_patient_list_is_paginated(client, clinician):
    for number in range(30):
        make_patient(created_by=clinician, family_name=f"Pager{number:02d}")
    as_user(client, clinician)

    first = client.post(reverse("patients:list"), {"q": "pager"})
    second = client.post(reverse("patients:list"), {"q": "pager", "page": 2})

    assert html(first).count("PAGER") == 25
    assert html(second).count("PAGER") == 5
    assert "Page 2 of 2" in html(second)
    assert 'name="page" value="2"' in html(first)
    assert "pager" not in first.request["PATH_INFO"] + first.request.get("QUERY_STRING", "")


def test_register_link_is_for_clinicians_only(client, clinician, reviewer):
    register = reverse("patients:register")

    assert register in html(as_user(client, clinician).get(reverse("patients:list")))
    assert register not in html(as_user(client, reviewer).get(reverse("patients:list")))


# --- registration -----------------------------------------------------------------------------


def _registration(**changes):
    return {
        "mrn": "MRN-9001",
        "family_name": "Okafor",
        "given_names": "Ada",
        "date_of_birth": "1979-06-02",
        "sex_at_birth": "female",
        **changes,
    }


def test_registering_a_patient_opens_their_page(client, clinician):
    as_user(client, clinician)

    response = client.post(reverse("patients:register"), _registration())

    patient = Patient.objects.get(mrn="MRN-9001")
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.uuid}/"
    assert patient.created_by == clinician
    event = AuditEvent.objects.get(action="patient.register", object_id=str(patient.uuid))
    assert patient.mrn not in json.dumps(event.detail)


def test_registering_a_duplicate_mrn_shows_the_message_beside_it(client, clinician, patient):
    as_user(client, clinician)

    response = client.post(reverse("patients:register"), _registration(mrn=patient.mrn))

    assert response.status_code == 200
    block = field_block(html(response), "mrn")
    assert f"A patient with medical record number {patient.mrn} is already registered" in block
    assert 'value="Okafor"' in html(response)
    assert Patient.objects.count() == 1


def test_registration_form_has_the_fields_and_a_date_limit(client, clinician):
    page = html(as_user(client, clinician).get(reverse("patients:register")))

    for name in ("mrn", "family_name", "given_names", "date_of_birth"):
        assert f'id="id_{name}"' in page
    assert 'type="date"' in page
    assert re.search(r'name="date_of_birth"[^>]*max="\d{4}-\d{2}-\d{2}"', page)
    assert page.count('name="sex_at_birth"') == 3


# --- patient page -----------------------------------------------------------------------------


def test_patient_page_lists_drafts_and_screenings_with_their_status(
    client, clinician, patient, draft, signed
):
    response = as_user(client, clinician).get(reverse("patients:detail", args=[patient.uuid]))
    page = html(response)

    assert patient.mrn in page
    assert "New intake" in page
    assert f'href="{edit_url(draft)}">Continue' in page
    assert f'href="{edit_url(signed.intake)}">View' in page
    assert f'href="/screenings/{signed.uuid}/"' in page
    assert "Eligible" in page
    assert "Signed" in page


def test_reviewers_read_the_patient_page_without_new_intake(client, reviewer, patient, draft):
    page = html(as_user(client, reviewer).get(reverse("patients:detail", args=[patient.uuid])))

    assert "New intake" not in page
    assert "Continue" not in page
    assert f'href="{edit_url(draft)}">View' in page


def test_new_intake_starts_a_draft_and_opens_it(client, clinician, patient):
    response = as_user(client, clinician).post(reverse("patients:intake_new", args=[patient.uuid]))

    intake = Intake.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == f"/intakes/{intake.uuid}/"
    assert intake.status == Intake.Status.DRAFT


def test_new_intake_needs_a_post(client, clinician, patient):
    response = as_user(client, clinician).get(reverse("patients:intake_new", args=[patient.uuid]))

    assert response.status_code == 405
    assert not Intake.objects.exists()


def test_links_on_patient_pages_carry_uuids_only(client, clinician, patient, draft, signed):
    as_user(client, clinician)
    for url in (reverse("patients:list"), reverse("patients:detail", args=[patient.uuid])):
        hrefs = re.findall(r'(?:href|action)="(/[^"]*)"', html(client.get(url)))
        for href in hrefs:
            path = href.split("?")[0]
            assert patient.mrn not in href
            for segment in filter(None, path.split("/")):
                assert not segment.isdigit(), href
            if path.startswith(("/patients/", "/intakes/", "/screenings/")):
                assert re.fullmatch(
                    rf"/(patients|intakes|screenings)/({UUID}/)?([a-z/]+)?", path
                ), href


# --- the intake form: drafts ------------------------------------------------------------------


def test_intake_page_shows_sections_patient_facts_and_both_buttons(client, clinician, draft):
    page = html(as_user(client, clinician).get(edit_url(draft)))

    for heading in ("Demographics and pregnancy", "Treatment history", "Vital signs"):
        assert heading in page
    assert 'data-testid="patient-age"' in page
    assert "Female" in page
    assert 'value="save"' in page
    assert 'value="run"' in page
    assert 'name="version" value="1"' in page
    assert "/static/js/intake.js" in page


def test_a_saved_draft_reopens_with_its_answers(client, clinician, draft):
    as_user(client, clinician)
    data = intake_data(
        draft,
        answers={
            "pregnancy_status": "not_pregnant",
            "breastfeeding": False,
            "diagnoses": ["mdd", "gad"],
            "antidepressant_trials_recorded": "listed",
            "phq9_total": 19,
            "cssrs_active_thoughts": True,
            "cssrs_method": True,
            "systolic_bp": 132,
            "benzodiazepine_dose_mg_diazepam_eq": "7.5",
        },
        trials=[{"drug": "sertraline", "weeks_at_adequate_dose": 8, "outcome": "no_response"}],
    )

    response = client.post(edit_url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == edit_url(draft)
    assert messages_of(response) == ["Draft saved"]
    stored = refreshed(draft)
    assert (stored.version, stored.phq9_total, stored.breastfeeding) == (2, 19, False)
    assert stored.planning_pregnancy is None
    assert stored.diagnoses == ["mdd", "gad"]
    assert [t.drug for t in stored.trials.all()] == ["sertraline"]
    page = html(client.get(edit_url(draft)))
    assert re.search(r'<option value="not_pregnant" selected>', page)
    assert re.search(r'value="no"[^>]*id="id_breastfeeding_1" checked', page)
    assert re.search(r'value=""[^>]*id="id_planning_pregnancy_2" checked', page)
    assert re.search(r'value="mdd"[^>]*checked', page)
    assert re.search(r'value="yes"[^>]*id="id_cssrs_method_0" checked', page)
    assert 'name="phq9_total" value="19"' in page
    assert 'name="benzodiazepine_dose_mg_diazepam_eq" value="7.5"' in page
    assert 'name="trials-0-drug" value="sertraline"' in page
    assert 'name="version" value="2"' in page


def test_saving_with_q2_no_clears_q3_to_q5(client, clinician, draft):
    as_user(client, clinician)
    answers = {"cssrs_active_thoughts": False, "cssrs_method": True, "cssrs_plan": True}

    client.post(edit_url(draft), intake_data(draft, answers=answers))

    stored = refreshed(draft)
    assert stored.cssrs_active_thoughts is False
    assert (stored.cssrs_method, stored.cssrs_intent, stored.cssrs_plan) == (None, None, None)


def test_invalid_answers_are_refused_beside_the_field_and_nothing_is_saved(
    client, clinician, draft
):
    as_user(client, clinician)
    data = intake_data(draft, answers={"phq9_total": 40, "heart_rate": 72})

    response = client.post(edit_url(draft), data)

    assert response.status_code == 200
    assert "less than or equal to 27" in field_block(html(response), "phq9_total")
    assert 'name="heart_rate" value="72"' in html(response)
    assert refreshed(draft).version == 1


@pytest.mark.parametrize(
    "garbage",
    [
        {"phq9_total": "lots"},
        {"version": "seven"},
        {"diagnoses": "schizophrenia"},
        {"trials-TOTAL_FORMS": "many"},
        {"cssrs_wish_dead": "perhaps"},
        {"benzodiazepine_dose_mg_diazepam_eq": "1e9"},
    ],
)
def test_bad_input_is_a_form_error_never_a_server_error(client, clinician, draft, garbage):
    as_user(client, clinician)

    response = client.post(edit_url(draft), {**intake_data(draft, action="run"), **garbage})

    assert response.status_code == 200
    assert "Nothing was saved" in html(response)
    assert refreshed(draft).version == 1
    assert not Screening.objects.exists()


# --- conflicts --------------------------------------------------------------------------------


def test_a_second_clinician_saving_a_stale_draft_gets_409_and_keeps_their_answers(
    client, clinician, other_clinician, draft
):
    # Both open version 1 of the same draft.
    first = intake_data(draft, answers={"phq9_total": 12, "has_escort_home": True})
    second = intake_data(draft, answers={"phq9_total": 25, "takes_opioid": True})
    as_user(client, clinician).post(edit_url(draft), first)

    response = as_user(client, other_clinician).post(edit_url(draft), second)

    assert response.status_code == 409
    page = html(response)
    assert "Another clinician saved this intake after you opened it." in page
    assert "Your changes were not saved." in page
    assert f'href="{edit_url(draft)}">Reload the intake</a>' in page
    assert 'name="phq9_total" value="25"' in page
    assert re.search(r'value="yes"[^>]*id="id_takes_opioid_0" checked', page)
    stored = refreshed(draft)
    assert (stored.version, stored.phq9_total, stored.has_escort_home) == (2, 12, True)
    assert stored.takes_opioid is None
    assert stored.updated_by == clinician


def test_a_stale_run_is_refused_the_same_way_and_runs_nothing(
    client, clinician, other_clinician, draft
):
    as_user(client, clinician).post(edit_url(draft), intake_data(draft, answers={"phq9_total": 9}))

    response = as_user(client, other_clinician).post(
        edit_url(draft), eligible_data(draft, action="run")
    )

    assert response.status_code == 409
    assert not Screening.objects.exists()
    assert refreshed(draft).phq9_total == 9


# --- running the screening --------------------------------------------------------------------


def test_running_with_diastolic_not_below_systolic_keeps_everything_and_stores_nothing(
    client, clinician, draft
):
    as_user(client, clinician)
    data = eligible_data(draft, action="run", systolic_bp=120, diastolic_bp=130)

    response = client.post(edit_url(draft), data)

    assert response.status_code == 200
    page = html(response)
    assert "Diastolic pressure must be lower than systolic pressure (120 mmHg)." in field_block(
        page, "diastolic_bp"
    )
    assert 'name="diastolic_bp" value="130"' in page
    assert 'name="systolic_bp" value="120"' in page
    assert 'name="phq9_total" value="19"' in page
    assert re.search(r'value="yes"[^>]*id="id_has_escort_home_0" checked', page)
    assert re.search(r'<option value="not_pregnant" selected>', page)
    assert re.search(r'value="mdd"[^>]*checked', page)
    assert 'name="trials-1-drug" value="venlafaxine"' in page
    assert not Screening.objects.exists()
    assert refreshed(draft).version == 1


def test_an_engine_refusal_lands_beside_the_field_and_nothing_is_saved(client, clinician):
    male = make_patient(created_by=clinician, sex="male", born=date(1980, 1, 1))
    draft = Intake.objects.create(patient=male, created_by=clinician, updated_by=clinician)
    as_user(client, clinician)

    response = client.post(
        edit_url(draft), eligible_data(draft, action="run", pregnancy_status="pregnant")
    )

    assert response.status_code == 200
    block = field_block(html(response), "pregnancy_status")
    assert "Pregnancy status cannot be pregnant when sex at birth is male" in block
    assert re.search(r'<option value="pregnant" selected>', html(response))
    assert not Screening.objects.exists()
    assert refreshed(draft).version == 1
    assert refreshed(draft).pregnancy_status == ""


def test_a_successful_run_saves_and_opens_the_screening(client, clinician, draft):
    as_user(client, clinician)

    response = client.post(edit_url(draft), eligible_data(draft, action="run"))

    screening = Screening.objects.get(intake=draft)
    assert response.status_code == 302
    assert response["Location"] == f"/screenings/{screening.uuid}/"
    assert screening.disposition == "eligible"
    assert screening.run_by == clinician
    stored = refreshed(draft)
    assert stored.version == 2
    assert [t.drug for t in stored.trials.all()] == ["sertraline", "venlafaxine"]


def test_a_run_with_little_recorded_still_runs_and_reports_what_is_missing(
    client, clinician, draft
):
    as_user(client, clinician)

    response = client.post(edit_url(draft), intake_data(draft, action="run"))

    screening = Screening.objects.get(intake=draft)
    assert response["Location"] == f"/screenings/{screening.uuid}/"
    assert screening.disposition == "incomplete"
    assert screening.result["missing"]


# --- locked intakes and reviewers -------------------------------------------------------------


def test_a_locked_intake_refuses_a_post_and_saves_nothing(client, clinician, signed):
    intake = signed.intake
    as_user(client, clinician)

    response = client.post(edit_url(intake), eligible_data(intake, phq9_total=3))

    assert response.status_code == 302
    assert response["Location"] == edit_url(intake)
    assert messages_of(response)[0].startswith("Nothing was saved. This intake belongs to a signed")
    stored = refreshed(intake)
    assert (stored.version, stored.phq9_total) == (intake.version, 19)
    assert Screening.objects.count() == 1


def test_a_locked_intake_reads_read_only_with_a_link_to_its_screening(client, clinician, signed):
    page = html(as_user(client, clinician).get(edit_url(signed.intake)))

    assert "This intake belongs to a signed screening" in page
    assert f'href="/screenings/{signed.uuid}/"' in page
    assert 'value="run"' not in page
    assert 'id="intake-form"' not in page
    assert re.search(r'name="phq9_total" value="19"[^>]*disabled', page)


def test_reviewers_read_an_intake_but_cannot_post_to_it(client, reviewer, patient, clinician):
    intake = make_intake(patient=patient, by=clinician)
    as_user(client, reviewer)

    page = html(client.get(edit_url(intake)))
    response = client.post(edit_url(intake), eligible_data(intake, phq9_total=3))

    assert "only clinicians can change it" in page
    assert 'value="save"' not in page
    assert re.search(r'name="phq9_total" value="19"[^>]*disabled', page)
    assert response.status_code == 403
    assert refreshed(intake).phq9_total == 19


# --- issue 16: NUL characters are a field error on every form, never a server error -----------


@pytest.mark.parametrize("field", ["mrn", "family_name", "given_names"])
def test_a_nul_character_in_registration_is_shown_beside_the_field(client, clinician, field):
    as_user(client, clinician)

    response = client.post(reverse("patients:register"), _registration(**{field: "Ok\x00afor"}))

    assert response.status_code == 200
    assert "Null characters are not allowed." in field_block(html(response), field)
    assert not Patient.objects.exists()


def test_a_nul_character_in_a_trials_drug_is_shown_beside_it(client, clinician, draft):
    as_user(client, clinician)
    data = eligible_data(draft, action="save")
    data["trials-0-drug"] = "sertra\x00line"

    response = client.post(edit_url(draft), data)

    assert response.status_code == 200
    assert "Null characters are not allowed." in html(response)
    assert refreshed(draft).version == 1


def test_a_nul_character_in_the_patient_search_is_not_a_server_error(client, clinician):
    as_user(client, clinician)
    response = client.post(reverse("patients:list"), {"q": "MRN\x00"})
    assert response.status_code == 200
