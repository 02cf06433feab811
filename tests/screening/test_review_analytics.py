"""Rule analytics, issue 19: rule titles beside IDs, durations in words, superseded runs left
out unless asked for, and the CDS Hooks feedback explained (PostgreSQL)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from screening.labels import duration_words
from screening.models import ScreeningFlag
from screening.review.analytics import rule_stats
from screening.review.selectors import rule_titles
from tests.screening.review_helpers import copies, overridden_pregnancy, run

pytestmark = pytest.mark.django_db
ANALYTICS = reverse("screening:analytics")


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=0.4), "under 1 s"),
        (timedelta(seconds=32.763847), "33 s"),
        (timedelta(minutes=4, seconds=10), "4 min 10 s"),
        (timedelta(minutes=4), "4 min"),
        (timedelta(minutes=25, seconds=40), "25 min"),
        (timedelta(hours=2, minutes=5, seconds=9), "2 h 5 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(days=3, hours=4, minutes=50), "3 d 4 h"),
    ],
)
def test_durations_read_in_words(delta, words):
    assert duration_words(delta) == words


def row(html: str, rule: str) -> str:
    found = re.search(rf'<tr data-rule="{rule}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None
    return found.group(1)


def test_superseded_runs_are_left_out_unless_asked_for(client, reviewer, clinician):
    template = run(clinician, pregnancy_status="pregnant")
    copies(template, 4)  # superseded runs of the same facts
    assert {s.rule_id: s.fired for s in rule_stats(reviewer)}["STOP-PREGNANCY"] == 1
    every = rule_stats(reviewer, include_superseded=True)
    assert {s.rule_id: s.fired for s in every}["STOP-PREGNANCY"] == 5

    client.force_login(reviewer)
    default = client.get(ANALYTICS).content.decode()
    assert "Superseded runs are left out" in default
    assert re.search(r'<td class="text-end">1</td>', row(default, "STOP-PREGNANCY"))
    ticked = client.get(ANALYTICS, {"include_superseded": "on"}).content.decode()
    assert "Superseded runs are counted" in ticked
    assert re.search(r'<td class="text-end">5</td>', row(ticked, "STOP-PREGNANCY"))


def test_the_table_shows_rule_titles_and_the_median_wait_in_words(client, reviewer, clinician):
    overridden_pregnancy(clinician)
    flag = ScreeningFlag.objects.get(rule_id="STOP-PREGNANCY")
    ScreeningFlag.objects.filter(pk=flag.pk).update(
        reviewed_at=flag.run_at + timedelta(hours=2, minutes=5, seconds=3)
    )
    client.force_login(reviewer)
    html = client.get(ANALYTICS).content.decode()
    stop = row(html, "STOP-PREGNANCY")
    assert f"<td>{rule_titles()['STOP-PREGNANCY']}</td>" in stop
    assert '<td class="text-end" data-testid="median">2 h 5 min</td>' in stop
    assert "0:00:" not in html


def test_the_cds_section_says_what_its_counts_mean(client, reviewer):
    client.force_login(reviewer)
    html = client.get(ANALYTICS).content.decode()
    assert "Cards shown in the EHR (CDS Hooks) and the EHR's feedback" in html
    assert "the EHR sent nothing back for it" in html
    assert 'id="no-cds-cards"' in html
