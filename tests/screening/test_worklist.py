"""The clinician's worklist: awaiting my sign-off, my drafts (never an intake already run), all
my screenings with status and date filters, a keyset page at a time, and no patient data in
its links."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from screening.models import Screening
from screening.services import screening_run, screening_sign
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
URL = reverse("screening:worklist")


def run(patient, clinician, **answers):
    return screening_run(
        intake=make_intake(patient=patient, by=clinician, **answers), user=clinician, on=ON
    )


def get(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def detail(screening):
    return reverse("screening:detail", args=[screening.uuid])


def test_awaiting_my_sign_off_lists_my_unsigned_results_only(client, clinician, other_clinician):
    patient = make_patient(created_by=clinician)
    pending = run(patient, clinician)
    signed = screening_sign(
        screening=run(make_patient(created_by=clinician), clinician), user=clinician
    )
    theirs = run(make_patient(created_by=other_clinician), other_clinician)

    html = get(client, clinician)  # the first list

    assert detail(pending) in html
    assert patient.mrn in html
    assert detail(signed) not in html
    assert detail(theirs) not in html
    assert 'aria-current="page" data-testid="worklist-tab-awaiting"' in html


def test_my_drafts_leave_out_intakes_already_run(client, clinician):
    patient = make_patient(created_by=clinician)
    ran = make_intake(patient=patient, by=clinician)
    screening_run(intake=ran, user=clinician, on=ON)
    draft = make_intake(patient=patient, by=clinician)

    for html in (
        get(client, clinician, list="drafts"),
        client.get(reverse("home")).content.decode(),
    ):
        assert reverse("patients:intake_edit", args=[draft.uuid]) in html
        assert reverse("patients:intake_edit", args=[ran.uuid]) not in html


def test_a_draft_changed_after_its_run_is_a_draft_again(client, clinician):
    intake = make_intake(patient=make_patient(created_by=clinician), by=clinician)
    screening = screening_run(intake=intake, user=clinician, on=ON)
    Screening.objects.filter(pk=screening.pk).update(status=Screening.Status.SUPERSEDED)

    html = get(client, clinician, list="drafts")

    assert reverse("patients:intake_edit", args=[intake.uuid]) in html


def test_all_my_screenings_filter_by_status_and_day(client, clinician):
    pending = run(make_patient(created_by=clinician), clinician)
    signed = screening_sign(
        screening=run(make_patient(created_by=clinician), clinician), user=clinician
    )
    today = timezone.localdate()
    yesterday = (today - timedelta(days=1)).isoformat()

    everything = get(client, clinician, list="all")
    only_signed = get(client, clinician, list="all", status="signed")
    run_today = get(client, clinician, list="all", ran_from=today.isoformat(), ran_to=today)
    run_before = get(client, clinician, list="all", ran_to=yesterday)

    assert detail(pending) in everything
    assert detail(signed) in everything
    assert detail(signed) in only_signed
    assert detail(pending) not in only_signed
    assert detail(pending) in run_today
    assert detail(signed) in run_today
    assert detail(pending) not in run_before
    assert "No screenings match." in run_before


def test_dates_in_the_wrong_order_are_refused_beside_the_field(client, clinician):
    html = get(client, clinician, list="all", ran_from="2026-12-01", ran_to="2026-11-01")

    assert "The end date must not be before the start date." in html


def test_pages_follow_each_other_without_repeats_and_links_carry_no_patient_data(client, clinician):
    patient = make_patient(created_by=clinician, family_name="Paginated")
    made = {run(patient, clinician).uuid for _ in range(27)}

    def shown(html):
        return set(re.findall(r"/screenings/([0-9a-f-]{36})/", html))

    everything = get(client, clinician, list="all", status="unsigned")
    [following] = re.findall(r'href="\?([^"]+)" data-testid="worklist-next"', everything)
    assert "status=unsigned" in following
    second = client.get(f"{URL}?{following.replace('&amp;', '&')}").content.decode()
    assert len(shown(everything)) == 25
    assert len(shown(second)) == 2
    assert shown(everything) | shown(second) == {str(u) for u in made}
    for link in re.findall(r'href="\?([^"]+)"', everything + second):
        assert "Paginated" not in link
        assert patient.mrn not in link
        assert set(re.findall(r"(\w+)=", link.replace("&amp;", "&"))) <= {
            "list",
            "status",
            "ran_from",
            "ran_to",
            "cursor",
        }


def test_a_cursor_that_is_not_valid_goes_back_to_page_one(client, clinician):
    pending = run(make_patient(created_by=clinician), clinician)

    html = get(client, clinician, list="awaiting", cursor="not-a-cursor")

    assert "That page link is not valid any more" in html
    assert detail(pending) in html


@pytest.mark.parametrize("person", ["reviewer", "rule_admin", "outsider"])
def test_only_clinicians_have_a_worklist(client, request, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(URL).status_code == 403
