"""One reason for several review flags: the result page's form and its view (without
JavaScript, as a plain form post), and the `flags_acknowledge` service (PostgreSQL)."""

import re
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from screening.core.errors import ServiceError
from screening.core.models import AuditEvent
from screening.models import FlagReview
from screening.services import flag_acknowledge, flags_acknowledge, screening_sign
from tests.factories import make_patient
from tests.screening.test_screening_views import detail_url, page, screen, section

pytestmark = pytest.mark.django_db

#: Three review flags: breastfeeding, planning a pregnancy, blood pressure 150/95.
THREE_REVIEW_FLAGS = {
    "breastfeeding": True,
    "planning_pregnancy": True,
    "systolic_bp": 150,
    "diastolic_bp": 95,
}
REVIEW_RULES = ["REV-BP-ELEVATED", "REV-BREASTFEEDING", "REV-PLANNING-PREGNANCY"]


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1992, 1, 1))


def bulk_url(screening):
    return reverse("screening:acknowledge_several", args=[screening.uuid])


def test_the_page_offers_one_reason_for_the_review_flags_waiting(client, clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    html = page(client, clinician, screening)
    form = section(html, "acknowledge-several-form")
    for rule in REVIEW_RULES:
        assert f'value="{rule}"' in form
    assert "Reason for acknowledging these flags" in form


def test_no_bulk_form_for_a_single_review_flag_or_a_reader(client, clinician, reviewer, patient):
    one = screen(patient, clinician, systolic_bp=150, diastolic_bp=95)
    assert "acknowledge-several" not in page(client, clinician, one)
    several = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    assert "acknowledge-several" not in page(client, reviewer, several)


def test_one_reason_acknowledges_the_ticked_flags_each_audited(client, clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    client.force_login(clinician)
    response = client.post(
        bulk_url(screening),
        {"rule_ids": ["REV-BREASTFEEDING", "REV-BP-ELEVATED"], "reason": "Discussed; plan agreed."},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(screening) + "#flags"
    reviews = FlagReview.objects.filter(screening=screening).order_by("rule_id")
    assert [(r.rule_id, r.kind, r.reason, r.reviewed_by) for r in reviews] == [
        ("REV-BP-ELEVATED", "acknowledged", "Discussed; plan agreed.", clinician),
        ("REV-BREASTFEEDING", "acknowledged", "Discussed; plan agreed.", clinician),
    ]
    events = AuditEvent.objects.filter(action="flag.acknowledged").order_by("id")
    assert [e.detail["rule"] for e in events] == ["REV-BREASTFEEDING", "REV-BP-ELEVATED"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 flags acknowledged: “Breastfeeding”, “Elevated blood pressure”."
    ]
    # The one left is still offered, alone: no form for one reason across one flag.
    html = page(client, clinician, screening)
    assert "acknowledge-several" not in html
    assert "REV-PLANNING-PREGNANCY" in section(html, "sign-off")


def test_without_a_reason_or_a_tick_nothing_is_saved(client, clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    client.force_login(clinician)
    response = client.post(bulk_url(screening), {"rule_ids": REVIEW_RULES, "reason": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    summary = section(html, "errors-acknowledge-several")
    assert "Give a reason: it is kept with each flag ticked." in summary
    # What was ticked is still ticked.
    assert re.search(r'<input[^>]*value="REV-BREASTFEEDING"[^>]*checked', summary + html)
    response = client.post(bulk_url(screening), {"reason": "Discussed"})
    assert response.status_code == 400
    assert "Tick the flags to acknowledge." in response.content.decode()
    assert not FlagReview.objects.exists()


def test_a_flag_reviewed_meanwhile_saves_none(client, clinician, other_clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    flag_acknowledge(
        screening=screening, rule_id="REV-BREASTFEEDING", user=other_clinician, reason="Seen"
    )
    client.force_login(clinician)
    response = client.post(bulk_url(screening), {"rule_ids": REVIEW_RULES, "reason": "Mine"})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Not saved: “Breastfeeding” was acknowledged by")
    assert list(FlagReview.objects.values_list("rule_id", "reason")) == [
        ("REV-BREASTFEEDING", "Seen")
    ]


def test_a_signed_screening_stays_locked(client, clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    flags_acknowledge(screening=screening, rule_ids=REVIEW_RULES, user=clinician, reason="Seen")
    screening_sign(screening=screening, user=clinician)
    client.force_login(clinician)
    response = client.post(bulk_url(screening), {"rule_ids": REVIEW_RULES, "reason": "Again"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Not saved: This screening is signed and locked."
    ]
    assert set(FlagReview.objects.values_list("reason", flat=True)) == {"Seen"}


def test_the_service_refuses_a_stop_or_urgent_flag_and_saves_none(clinician, patient):
    screening = screen(patient, clinician, pregnancy_status="pregnant", **THREE_REVIEW_FLAGS)
    with pytest.raises(ServiceError, match="STOP-PREGNANCY is a stop flag"):
        flags_acknowledge(
            screening=screening,
            rule_ids=["REV-BREASTFEEDING", "STOP-PREGNANCY"],
            user=clinician,
            reason="Seen",
        )
    assert not FlagReview.objects.exists()


def test_the_service_asks_for_permission(reviewer, clinician, patient):
    screening = screen(patient, clinician, **THREE_REVIEW_FLAGS)
    with pytest.raises(PermissionDenied):
        flags_acknowledge(screening=screening, rule_ids=REVIEW_RULES, user=reviewer, reason="x")
    assert not FlagReview.objects.exists()
