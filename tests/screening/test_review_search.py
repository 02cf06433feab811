"""The reviewer's list, issue 19: a patient search that never puts the MRN or name in a URL,
the count per filter, first/previous/next/last pages and the rule picker (PostgreSQL)."""

import json
import logging
import re

import pytest
from django.urls import reverse

from screening.core.models import AuditEvent
from screening.core.pagination import row_count
from screening.models import Screening
from screening.review.selectors import rule_titles
from screening.services import screening_run
from tests.factories import make_intake, make_patient
from tests.screening.review_helpers import ON, copies, run

pytestmark = pytest.mark.django_db
LIST = reverse("screening:list")
MRN = "Qx-40417"


def run_for(clinician, **patient) -> Screening:
    someone = make_patient(created_by=clinician, **patient)
    intake = make_intake(patient=someone, by=clinician)
    return screening_run(intake=intake, user=clinician, on=ON)


def listed(html: str) -> set[str]:
    return set(re.findall(r'data-screening="([0-9a-f-]+)"', html))


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


def search(client, term: str, query: str = ""):
    """POST a search as the page's form does; the redirect and the page it leads to."""
    posted = client.post(LIST + (f"?{query}" if query else ""), {"q": term})
    assert posted.status_code == 302
    page = client.get(posted["Location"])
    assert page.status_code == 200
    return posted, page.content.decode()


# --- the search ---------------------------------------------------------------------------------


def test_mrn_search_in_any_case_finds_the_patient_and_the_mrn_is_in_no_url(
    client, reviewer, clinician
):
    wanted = run_for(clinician, mrn=MRN)
    other = run_for(clinician)
    client.force_login(reviewer)

    posted, html = search(client, MRN.lower())

    assert listed(html) == {str(wanted.uuid)}
    assert str(other.uuid) not in html
    location = posted["Location"]
    assert MRN.lower() not in location.lower()
    assert re.fullmatch(r"/screenings/review/\?search=[A-Za-z0-9_-]{1,16}", location)
    for url in urls_in(html):
        assert "40417" not in url, url
    # The page may show the MRN (to the reviewer), in the search box and the row.
    assert f'value="{MRN.lower()}"' in html


def test_name_search_matches_family_and_given_names(client, reviewer, clinician):
    both = run_for(clinician, family_name="Okonkwo-Reyes", given_names="Marisol Ana")
    family_only = run_for(clinician, family_name="Okonkwo", given_names="Ben")
    run_for(clinician, family_name="Smith", given_names="Marisol")
    client.force_login(reviewer)

    assert listed(search(client, "marisol okonkwo")[1]) == {str(both.uuid)}
    assert listed(search(client, "OKONKWO")[1]) == {str(both.uuid), str(family_only.uuid)}


def test_a_search_keeps_the_filters_and_the_filters_keep_the_search(client, reviewer, clinician):
    stopped = run_for(clinician, mrn=MRN)
    stopped_intake = make_intake(patient=stopped.patient, by=clinician, pregnancy_status="pregnant")
    pregnant = screening_run(intake=stopped_intake, user=clinician, on=ON)
    client.force_login(reviewer)

    posted, html = search(client, MRN, query="disposition=contraindicated")

    assert "disposition=contraindicated" in posted["Location"]
    assert listed(html) == {str(pregnant.uuid)}
    key = re.search(r"search=([A-Za-z0-9_-]+)", posted["Location"]).group(1)
    # The filter form carries the search's key (only the key), so changing a filter keeps it.
    assert f'name="search" value="{key}"' in html
    assert listed(client.get(LIST, {"search": key}).content.decode()) == {
        str(pregnant.uuid),
        str(stopped.uuid),
    }


def test_the_same_search_reuses_its_key_and_a_blank_search_clears_it(client, reviewer, clinician):
    run_for(clinician, mrn=MRN)
    client.force_login(reviewer)
    first = search(client, MRN)[0]["Location"]
    again = search(client, MRN)[0]["Location"]
    assert first == again
    cleared = client.post(LIST + "?" + first.split("?")[1], {"q": "  "})
    assert cleared["Location"] == LIST


def test_a_search_key_from_another_session_finds_nothing_and_says_so(client, reviewer, clinician):
    wanted = run_for(clinician, mrn=MRN)
    other = run_for(clinician)
    client.force_login(reviewer)
    location = search(client, MRN)[0]["Location"]
    client.logout()
    client.force_login(reviewer)  # a new session: the search is not kept in it

    html = client.get(location).content.decode()

    assert "search for the patient again" in html
    assert listed(html) == {str(wanted.uuid), str(other.uuid)}  # not narrowed by a stranger's key


def test_the_mrn_reaches_no_log_and_no_audit_detail(client, reviewer, clinician, caplog):
    run_for(clinician, mrn=MRN)
    client.force_login(reviewer)
    caplog.set_level(logging.DEBUG)

    posted, _html = search(client, MRN)
    export = client.get(reverse("screening:export_csv") + "?" + posted["Location"].split("?")[1])
    body = b"".join(export.streaming_content).decode()

    assert MRN in body  # the CSV itself lists the patient, as it always has
    assert "40417" not in caplog.text
    event = AuditEvent.objects.get(action="export.csv")
    assert event.detail["filters"]["patient"] is True
    for stored in AuditEvent.objects.all():
        assert "40417" not in json.dumps(stored.detail)


def test_search_refuses_other_roles(client, clinician, rule_admin):
    for user in (clinician, rule_admin):
        client.force_login(user)
        assert client.post(LIST, {"q": MRN}).status_code == 403


# --- the count ----------------------------------------------------------------------------------


def test_the_count_is_exact_for_each_filter(client, reviewer, clinician):
    template = run(clinician, pregnancy_status="pregnant")
    copies(template, 3)
    run(clinician)
    client.force_login(reviewer)

    everything = client.get(LIST).content.decode()
    stopped = client.get(LIST, {"rule_id": "STOP-PREGNANCY"}).content.decode()
    searched = search(client, template.patient.mrn)[1]
    nothing = client.get(LIST, {"disposition": "eligible", "rule_id": "STOP-PREGNANCY"})

    assert "5 screenings match." in everything
    assert "4 screenings match." in stopped
    assert "4 screenings match." in searched  # the template and its copies: one patient
    assert "0 screenings match." in nothing.content.decode()
    run(clinician, pregnancy_status="pregnant")
    one = client.get(LIST, {"rule_id": "STOP-PREGNANCY", "sort": "oldest", "signed": "yes"})
    assert "0 screenings match." in one.content.decode()


def test_a_count_beyond_the_bound_is_the_planners_estimate_said_as_about(
    client, reviewer, clinician, monkeypatch
):
    template = run(clinician)
    copies(template, 30)
    assert row_count(Screening.objects.all()).exact
    estimated = row_count(Screening.objects.all(), exact_up_to=10)
    assert not estimated.exact
    assert estimated.number >= 10

    monkeypatch.setattr("screening.core.pagination.EXACT_COUNT_UP_TO", 10)
    client.force_login(reviewer)
    html = client.get(LIST).content.decode()
    assert re.search(r"About [\d,]+ screenings match \(an estimate", html)


# --- pages --------------------------------------------------------------------------------------


def link(html: str, name: str) -> str | None:
    found = re.search(rf'id="{name}" href="([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_first_previous_next_and_last_pages(client, reviewer, clinician):
    template = run(clinician)
    copies(template, 119)  # 120 in all: pages of 50
    newest_first = [
        str(uuid)
        for uuid in Screening.objects.order_by("-run_at", "-id").values_list("uuid", flat=True)
    ]
    client.force_login(reviewer)

    first = client.get(LIST).content.decode()
    assert link(first, "previous-page") is None
    assert link(first, "first-page") is None
    assert listed(first) == set(newest_first[:50])

    last = client.get(LIST + link(first, "last-page")).content.decode()
    assert listed(last) == set(newest_first[-50:])  # the last page is a full page
    assert link(last, "next-page") is None
    assert link(last, "last-page") is None

    before_last = client.get(LIST + link(last, "previous-page")).content.decode()
    assert listed(before_last) == set(newest_first[20:70])
    start = client.get(LIST + link(before_last, "previous-page")).content.decode()
    assert listed(start) == set(newest_first[:20])  # what is left before: the newest 20
    assert link(start, "previous-page") is None

    second = client.get(LIST + link(first, "next-page")).content.decode()
    assert listed(second) == set(newest_first[50:100])
    back = client.get(LIST + link(second, "previous-page")).content.decode()
    assert listed(back) == set(newest_first[:50])
    assert link(back, "previous-page") is None  # back on the first page: nothing before it
    assert listed(client.get(LIST + link(second, "first-page")).content.decode()) == listed(first)


# --- the rule picker ----------------------------------------------------------------------------


def test_the_rule_fired_filter_is_a_picker_of_rule_ids_with_titles(client, reviewer, clinician):
    stopped = run(clinician, pregnancy_status="pregnant")
    run(clinician)
    client.force_login(reviewer)
    titles = rule_titles()
    assert len(titles) > 10

    html = client.get(LIST).content.decode()
    picker = re.search(r'<select name="rule_id".*?</select>', html, re.S).group(0)
    assert (
        f'<option value="STOP-PREGNANCY">STOP-PREGNANCY — {titles["STOP-PREGNANCY"]}</option>'
        in picker
    )
    assert len(re.findall("<option", picker)) == len(titles) + 1  # and "Any rule"

    filtered = client.get(LIST, {"rule_id": "STOP-PREGNANCY"}).content.decode()
    assert listed(filtered) == {str(stopped.uuid)}
    assert client.get(LIST, {"rule_id": "NO-SUCH-RULE"}).status_code == 200
