"""The audit log search, the verification page and rule analytics (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from screening.core.audit import audit_record
from screening.core.models import AuditEvent
from screening.models import ScreeningFlag
from screening.review.analytics import rule_stats
from screening.services import flag_acknowledge
from tests.screening.review_helpers import copies, overridden_pregnancy, run

pytestmark = pytest.mark.django_db
AUDIT = reverse("screening:audit")


def seqs(client, **params):
    html = client.get(AUDIT, params).content.decode()
    shown = [e.seq for e in AuditEvent.objects.all() if f'data-seq="{e.seq}"' in html]
    return sorted(shown, reverse=True)


# --- audit log ----------------------------------------------------------------------------------


def test_audit_log_searches_by_action_prefix_actor_and_object(client, reviewer, clinician):
    screening = overridden_pregnancy(clinician)
    other = run(clinician)
    client.force_login(reviewer)

    run_events = AuditEvent.objects.filter(action="screening.run").order_by("-seq")
    assert seqs(client, action="screening.run") == [e.seq for e in run_events]
    flag_seqs = seqs(client, action="flag.")
    assert flag_seqs == list(
        AuditEvent.objects.filter(action="flag.overridden").values_list("seq", flat=True)
    )
    by_object = seqs(client, object_id=str(other.uuid))
    assert by_object == [AuditEvent.objects.get(object_id=str(other.uuid)).seq]
    assert set(seqs(client, actor="casey")) == set(
        AuditEvent.objects.filter(actor=clinician).values_list("seq", flat=True)
    )
    assert seqs(client, actor="nobody") == []
    assert str(screening.uuid) in client.get(AUDIT, {"action": "flag."}).content.decode()


def test_audit_log_filters_by_date(client, reviewer, clinician):
    run(clinician)
    client.force_login(reviewer)
    today = timezone.localdate()
    assert seqs(client, date_from=today.isoformat())
    assert seqs(client, date_to=(today - timedelta(days=1)).isoformat()) == []


def test_audit_log_pages_by_seq_without_gaps(client, reviewer):
    for n in range(120):
        audit_record(actor=None, action="test.event", detail={"n": n})
    client.force_login(reviewer)
    seen, query = [], "action=test.event"
    while True:
        response = client.get(f"{AUDIT}?{query}")
        html = response.content.decode()
        shown = [e.seq for e in AuditEvent.objects.all() if f'data-seq="{e.seq}"' in html]
        seen.extend(sorted(shown, reverse=True))
        if 'id="next-page"' not in html:
            break
        start = html.index('id="next-page" href="?') + len('id="next-page" href="?')
        query = html[start : html.index('"', start)].replace("&amp;", "&")
    expected = list(
        AuditEvent.objects.filter(action="test.event")
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    assert seen == expected


# --- verification -------------------------------------------------------------------------------


def test_verify_page_says_intact(client, reviewer, clinician):
    run(clinician)
    client.force_login(reviewer)
    html = client.get(reverse("screening:audit_verify")).content.decode()
    assert "Intact:" in html


def test_verify_page_names_the_first_broken_event(client, reviewer, clinician):
    run(clinician)
    run(clinician)
    target = AuditEvent.objects.order_by("seq")[1]
    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred foreign-key checks are queued.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE screening_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE screening_auditevent SET action = 'screening.forged' WHERE id = %s",
            [target.pk],
        )
        cursor.execute("ALTER TABLE screening_auditevent ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    client.force_login(reviewer)
    html = client.get(reverse("screening:audit_verify")).content.decode()
    assert f"Broken at event #{target.seq}" in html
    assert "the row was changed" in html


# --- rule analytics -----------------------------------------------------------------------------


def test_analytics_counts_fired_acknowledged_overridden_and_median_wait(reviewer, clinician):
    overridden_pregnancy(clinician)
    overridden_pregnancy(clinician)
    run(clinician, pregnancy_status="pregnant")  # fired, never overridden
    # Three overrides of the stop, 10, 20 and 60 minutes after their runs: median 20 minutes.
    flags = list(ScreeningFlag.objects.filter(rule_id="STOP-PREGNANCY").order_by("id"))
    waits = [timedelta(minutes=10), timedelta(minutes=60)]
    for flag, wait in zip(flags[:2], waits, strict=True):
        ScreeningFlag.objects.filter(pk=flag.pk).update(reviewed_at=flag.run_at + wait)
    ScreeningFlag.objects.filter(pk=flags[2].pk).update(
        review_kind="overridden", reviewed_at=flags[2].run_at + timedelta(minutes=20)
    )

    stats = {s.rule_id: s for s in rule_stats(reviewer)}

    stop = stats["STOP-PREGNANCY"]
    assert (stop.fired, stop.overridden, stop.acknowledged) == (3, 3, 0)
    assert stop.median_to_review == timedelta(minutes=20)
    assert stop.high_override


def test_analytics_counts_acknowledgements(reviewer, clinician):
    screening = run(
        clinician,
        cssrs_wish_dead=True,
        cssrs_active_thoughts=True,
        cssrs_method=True,
        cssrs_intent=True,
        cssrs_plan=False,
    )
    rule = next(f["rule"] for f in screening.result["flags"] if f["severity"] == "urgent")
    flag_acknowledge(screening=screening, rule_id=rule, user=clinician, reason="Seen and discussed")

    stats = {s.rule_id: s for s in rule_stats(reviewer)}

    assert (stats[rule].fired, stats[rule].acknowledged, stats[rule].overridden) == (1, 1, 0)
    assert stats[rule].median_to_review is not None
    assert not stats[rule].high_override


def test_analytics_keeps_to_the_period(reviewer, clinician):
    template = run(clinician, pregnancy_status="pregnant")
    copies(template, 4, run_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    recent = {s.rule_id: s for s in rule_stats(reviewer, date_from=today - timedelta(days=7))}
    # (the copies are superseded runs: counted only when asked for)
    everything = {s.rule_id: s for s in rule_stats(reviewer, include_superseded=True)}
    assert recent["STOP-PREGNANCY"].fired == 1
    assert everything["STOP-PREGNANCY"].fired == 5


def test_analytics_page_draws_an_svg_chart_and_highlights_high_override_rates(
    client, reviewer, clinician
):
    overridden_pregnancy(clinician)
    run(clinician)
    client.force_login(reviewer)

    html = client.get(reverse("screening:analytics")).content.decode()

    assert '<svg id="rule-chart"' in html
    assert '<g data-rule="STOP-PREGNANCY" class="app-high-override">' in html
    row = html[html.index('<tr data-rule="STOP-PREGNANCY"') :]
    assert 'data-high-override="true"' in row[: row.index(">")]
    assert "<script>" not in html.split("</head>")[1]


def test_analytics_are_empty_for_clinicians(clinician):
    overridden_pregnancy(clinician)
    assert rule_stats(clinician) == []
