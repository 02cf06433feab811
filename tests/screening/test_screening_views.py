"""The result page, flag review, sign-off and amendment through the views, and the clinician's
home page (PostgreSQL). Screenings are built with the factories and the `screening_run` service."""

import re
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from patients.models import Intake
from screening.models import FlagReview, Screening
from screening.services import flag_acknowledge, flag_override, screening_run, screening_sign
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
#: A reason for amending, as the amend form posts it.
AMEND = {"reason": "Blood pressure was mistyped"}
ON = date(2026, 11, 24)

HIGH_SUICIDE_RISK = {
    "cssrs_wish_dead": True,
    "cssrs_active_thoughts": True,
    "cssrs_method": True,
    "cssrs_intent": True,
    "cssrs_plan": False,
}


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1))


def run(intake, user, on=ON):
    return screening_run(intake=intake, user=user, on=on)


def screen(patient, clinician, **answers):
    return run(make_intake(patient=patient, by=clinician, **answers), clinician)


def detail_url(screening):
    return reverse("screening:detail", args=[screening.uuid])


def page(client, user, screening):
    client.force_login(user)
    response = client.get(detail_url(screening))
    assert response.status_code == 200
    return response.content.decode()


def section(html, element_id):
    """The HTML from the element with `element_id` to the first closing tag of its kind, with
    runs of whitespace made single spaces."""
    start = html.index(f'id="{element_id}"')
    tag = html[html.rindex("<", 0, start) + 1 : start].split()[0]
    return " ".join(html[start : html.index(f"</{tag}>", start)].split())


def missing_part(html):
    """The missing-information section with every group in it (up to the sign-off)."""
    return html[html.index('id="missing"') : html.index('id="sign-off"')]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def review_forms(html):
    """Forms that change the screening: flag reviews and sign-off (amending is not one)."""
    return re.findall(r'<form[^>]+action="/screenings/[^"]+/(?:flags/[^"]+|sign)/#[^"]+"', html)


# --- what the result page shows -----------------------------------------------------------------


def test_urgent_banner_comes_above_everything_for_high_suicide_risk(client, patient, clinician):
    screening = screen(patient, clinician, **HIGH_SUICIDE_RISK)
    assert screening.urgent

    html = page(client, clinician, screening)

    banner = section(html, "urgent-banner")
    assert "High suicide risk on the C-SSRS screener" in banner
    assert "Same-day safety evaluation is needed." in banner
    assert html.index('id="urgent-banner"') < html.index("<h1")
    assert html.index('id="urgent-banner"') < html.index('id="disposition"')


def test_no_urgent_banner_without_an_urgent_flag(client, patient, clinician):
    html = page(client, clinician, screen(patient, clinician))

    assert 'id="urgent-banner"' not in html


def test_header_shows_patient_age_at_screening_rule_set_run_and_status(client, patient, clinician):
    clinician.first_name, clinician.last_name = "Casey", "Okafor"
    clinician.save()
    screening = screen(patient, clinician)

    header = section(page(client, clinician, screening), "screening-header")

    assert patient.full_name in header
    assert patient.mrn in header
    assert "42 years" in header
    assert "Female" in header
    assert "24 Nov 2026" in header
    assert "ketamine, version 2" in header
    assert "by Casey Okafor" in header
    assert "Awaiting sign-off" in header


def test_pregnant_patient_shows_the_stop_flag_with_why_source_and_override_form(
    client, patient, clinician
):
    screening = screen(patient, clinician, pregnancy_status="pregnant")

    html = page(client, clinician, screening)

    assert "Contraindicated" in section(html, "disposition")
    flag = section(html, "flag-STOP-PREGNANCY")
    assert "Pregnancy" in flag
    assert "Not recommended in pregnancy" in flag
    assert "Why:" in flag
    assert "Pregnancy status: pregnant" in flag
    assert "Spravato US PI §8.1 Pregnancy and §5.10 Embryo-fetal Toxicity; ASRA 2018" in flag
    action = reverse("screening:override", args=[screening.uuid, "STOP-PREGNANCY"])
    assert f'action="{action}#flag-STOP-PREGNANCY"' in flag
    assert 'name="reason_code"' in flag
    assert 'value="specialist_approval"' in flag
    assert 'name="reason"' in flag
    assert reverse("screening:acknowledge", args=[screening.uuid, "STOP-PREGNANCY"]) not in html


def test_flags_are_grouped_stop_urgent_review_info(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(
        teenager,
        clinician,
        pregnancy_status="pregnant",
        has_escort_home=False,
        **HIGH_SUICIDE_RISK,
    )

    html = page(client, clinician, screening)

    positions = [html.index(f'id="flags-{s}"') for s in ("stop", "urgent", "review", "info")]
    assert positions == sorted(positions)
    assert html.index('id="flag-STOP-PREGNANCY"') < html.index('id="flag-URG-SUICIDE-RISK"')
    assert html.index('id="flag-URG-SUICIDE-RISK"') < html.index('id="flag-REV-PEDIATRIC"')
    assert html.index('id="flag-REV-PEDIATRIC"') < html.index('id="flag-INFO-ESCORT"')
    acknowledge = reverse("screening:acknowledge", args=[screening.uuid, "URG-SUICIDE-RISK"])
    assert f'action="{acknowledge}#flag-URG-SUICIDE-RISK"' in html
    assert "/flags/INFO-ESCORT/" not in html


def test_unrecorded_pregnancy_links_to_the_intake_field(client, clinician):
    woman = make_patient(created_by=clinician, born=date(1996, 1, 1))
    intake = make_intake(patient=woman, by=clinician, pregnancy_status="")
    screening = run(intake, clinician)

    html = page(client, clinician, screening)

    assert "Incomplete" in section(html, "disposition")
    missing = section(html, "missing-pregnancy_status")
    href = reverse("patients:intake_edit", args=[intake.uuid]) + "#id_pregnancy_status"
    assert f'href="{href}"' in missing
    assert "Pregnancy status" in missing
    assert "Needed by: Pregnancy" in missing


def test_missing_information_is_listed_without_links_once_signed(client, clinician):
    woman = make_patient(created_by=clinician, born=date(1996, 1, 1))
    intake = make_intake(patient=woman, by=clinician, pregnancy_status="")
    screening = screening_sign(
        screening=run(intake, clinician),
        user=clinician,
        incomplete_reasons={"pregnancy_status": "Patient declined the test"},
    )

    html = page(client, clinician, screening)

    missing = section(html, "missing-pregnancy_status")
    assert "Pregnancy status" in missing
    assert "Needed by: Pregnancy" in missing
    assert reverse("patients:intake_edit", args=[intake.uuid]) not in missing_part(html)
    assert "Pregnancy status: Patient declined the test" in section(html, "sign-off")


@pytest.mark.parametrize(
    ("answers", "anchor"),
    [
        ({"cssrs_wish_dead": None}, "id_cssrs_wish_dead"),
        ({"cssrs_active_thoughts": True, "cssrs_method": None}, "id_cssrs_method"),
        ({"antidepressant_trials_recorded": ""}, "id_antidepressant_trials_recorded"),
        ({"diagnoses": None}, "id_diagnoses"),
    ],
)
def test_missing_facts_link_to_the_field_that_records_them(
    client, patient, clinician, answers, anchor
):
    intake = make_intake(patient=patient, by=clinician, **answers)
    screening = run(intake, clinician)

    html = page(client, clinician, screening)

    href = reverse("patients:intake_edit", args=[intake.uuid]) + f"#{anchor}"
    assert f'href="{href}"' in section(html, "missing")


def test_reviewer_sees_missing_information_without_links(client, clinician, reviewer):
    woman = make_patient(created_by=clinician, born=date(1996, 1, 1))
    intake = make_intake(patient=woman, by=clinician, pregnancy_status="")

    html = page(client, reviewer, run(intake, clinician))

    assert "Pregnancy status" in section(html, "missing-pregnancy_status")
    assert reverse("patients:intake_edit", args=[intake.uuid]) not in missing_part(html)


@pytest.mark.parametrize(
    ("born", "answers", "label", "explanation"),
    [
        (
            date(1984, 3, 1),
            {},
            "Eligible",
            "Screening found an indicated condition and nothing that needs review. "
            "The treatment decision remains the clinician&#x27;s.",
        ),
        (
            date(1984, 3, 1),
            {"pregnancy_status": "pregnant"},
            "Contraindicated",
            "A stop flag fired: the rule set lists a contraindication for this patient.",
        ),
        (
            date(1996, 1, 1),
            {"pregnancy_status": ""},
            "Incomplete",
            "Information needed to screen safely is missing",
        ),
        (
            date(2010, 1, 1),
            {},
            "Review required",
            "need a clinician&#x27;s review",
        ),
        (
            date(1984, 3, 1),
            {"diagnoses": []},
            "Not indicated",
            "Screening found none of the listed conditions indicated or possible",
        ),
    ],
)
def test_each_disposition_is_explained_in_plain_language(
    client, clinician, born, answers, label, explanation
):
    screening = screen(make_patient(created_by=clinician, born=born), clinician, **answers)

    html = page(client, clinician, screening)

    disposition = section(html, "disposition")
    assert label in disposition
    assert explanation in disposition
    assert "cure" not in html.lower()


def test_conditions_table_lists_all_eight_with_status_because_and_evidence(
    client, patient, clinician
):
    html = page(client, clinician, screen(patient, clinician))

    table = section(html, "conditions")
    assert table.count('id="condition-') == 8
    trd = section(html, "condition-trd")
    assert "Treatment-resistant depression" in trd
    assert "Meets screening criteria" in trd
    assert "2 adequate antidepressant trials without response (criterion: at least 2)" in trd
    assert "Strongest evidence: esketamine is approved for adults" in trd
    gad = section(html, "condition-gad")
    assert "Not met" in gad
    assert "Diagnoses do not include generalised anxiety disorder" in gad


def test_the_page_is_drawn_from_the_snapshot_not_the_rules_published_later(
    client, patient, clinician, version_1_in_force
):
    old = screen(patient, clinician, pregnancy_status="pregnant")  # under version 1
    version_1_in_force()  # version 2, as the migration published it, is in force again
    new = screen(make_patient(created_by=clinician), clinician, pregnancy_status="pregnant")

    old_html = page(client, clinician, old)
    old_flag = section(old_html, "flag-STOP-PREGNANCY")
    new_html = page(client, clinician, new)
    new_flag = section(new_html, "flag-STOP-PREGNANCY")

    assert "Generally avoided in pregnancy" in old_flag
    assert "Seed article; esketamine US label; ASRA 2018" in old_flag
    assert "Not recommended in pregnancy" not in old_flag
    assert "ketamine, version 1" in old_html
    assert "Not recommended in pregnancy" in new_flag
    assert "Spravato US PI §8.1 Pregnancy" in new_flag
    assert "ketamine, version 2" in new_html
    old.refresh_from_db()
    assert old.ruleset_version.number == 1
    assert old.result["ruleset"] == {"name": "ketamine", "version": 1}


def test_the_result_page_prints_without_forms_and_has_no_inline_script(
    client, patient, clinician, settings
):
    html = page(client, clinician, screen(patient, clinician, pregnancy_status="pregnant"))

    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
    for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        assert 'src="/static/' in attributes
        assert body.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", html)
    css = (settings.BASE_DIR / "static" / "css" / "print.css").read_text()
    hidden = css[: css.index("display: none")]
    for selector in ("form", "details", ".app-no-print", ".app-messages"):
        assert selector in hidden
    assert ".app-urgent-banner" in css


# --- who may see and do what --------------------------------------------------------------------


def test_reviewer_reads_everything_but_gets_no_forms_or_buttons(
    client, patient, clinician, reviewer
):
    screening = screen(patient, clinician, pregnancy_status="pregnant", **HIGH_SUICIDE_RISK)
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="Obstetric MDT reviewed",
    )

    html = page(client, reviewer, screening)

    assert 'id="urgent-banner"' in html
    assert "Obstetric MDT reviewed" in section(html, "flag-STOP-PREGNANCY")
    assert "Specialist or MDT approval documented" in html
    assert review_forms(html) == []
    assert ">Sign</button>" not in html
    assert "Awaiting sign-off by a clinician." in html


def test_reviewer_sees_no_amend_button_on_a_signed_screening(client, patient, clinician, reviewer):
    screening = screening_sign(screening=screen(patient, clinician), user=clinician)

    html = page(client, reviewer, screening)

    assert "— locked" in section(html, "sign-off")
    assert review_forms(html) == []
    assert reverse("screening:amend", args=[screening.uuid]) not in html
    assert ">Amend</button>" not in html


@pytest.mark.parametrize(("person", "status"), [("rule_admin", 403), ("outsider", 403)])
def test_rule_admins_and_accounts_without_a_role_cannot_open_a_screening(
    client, request, patient, clinician, person, status
):
    screening = screen(patient, clinician)
    client.force_login(request.getfixturevalue(person))

    assert client.get(detail_url(screening)).status_code == status


def test_anonymous_visitor_is_sent_to_login(client, patient, clinician):
    url = detail_url(screen(patient, clinician))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_an_unknown_screening_is_not_found(client, clinician):
    client.force_login(clinician)

    url = reverse("screening:detail", args=["00000000-0000-4000-8000-000000000000"])

    assert client.get(url).status_code == 404


def _post_targets(screening):
    return [
        (
            reverse("screening:acknowledge", args=[screening.uuid, "REV-PEDIATRIC"]),
            {"reason": "Seen"},
        ),
        (
            reverse("screening:override", args=[screening.uuid, "REV-PEDIATRIC"]),
            {"reason_code": "other", "reason": "Seen"},
        ),
        (reverse("screening:sign", args=[screening.uuid]), {}),
        (reverse("screening:amend", args=[screening.uuid]), AMEND),
    ]


@pytest.mark.parametrize("person", ["reviewer", "rule_admin", "outsider"])
def test_only_clinicians_may_post(client, request, clinician, person):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)
    client.force_login(request.getfixturevalue(person))

    for url, data in _post_targets(screening):
        assert client.post(url, data).status_code == 403, url

    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED
    assert not FlagReview.objects.exists()
    assert Intake.objects.count() == 1


def test_posting_views_send_anonymous_visitors_to_login_and_refuse_get(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)

    for url, data in _post_targets(screening):
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))

    client.force_login(clinician)
    for url, _data in _post_targets(screening):
        assert client.get(url).status_code == 405, url


# --- acknowledging, overriding and signing ------------------------------------------------------


def test_a_clinician_cannot_sign_until_the_review_flag_is_acknowledged(client, clinician):
    clinician.first_name, clinician.last_name = "Casey", "Okafor"
    clinician.save()
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)
    client.force_login(clinician)

    html = page(client, clinician, screening)
    assert "REV-PEDIATRIC" in section(html, "pending")
    assert re.search(r"<button[^>]*disabled[^>]*>Sign</button>", html)

    response = client.post(reverse("screening:sign", args=[screening.uuid]), follow=True)
    assert response.redirect_chain == [(detail_url(screening), 302)]
    assert (
        "Not signed: Handle every flag before signing: “Under 18” still open."
        in response.content.decode()
    )
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED

    url = reverse("screening:acknowledge", args=[screening.uuid, "REV-PEDIATRIC"])
    response = client.post(url, {"reason": "Child psychiatrist agreed; monitoring plan in notes"})
    assert response["Location"] == detail_url(screening)
    assert messages_of(response) == ["“Under 18” acknowledged."]
    review = FlagReview.objects.get(screening=screening, rule_id="REV-PEDIATRIC")
    assert review.kind == FlagReview.Kind.ACKNOWLEDGED
    assert review.reviewed_by == clinician

    html = page(client, clinician, screening)
    assert 'id="pending"' not in html
    assert re.search(r'<input type="submit"\s+name="submit"\s+value="Sign"', html)
    assert "Child psychiatrist agreed" in section(html, "flag-REV-PEDIATRIC")

    response = client.post(reverse("screening:sign", args=[screening.uuid]), follow=True)
    html = response.content.decode()
    screening.refresh_from_db()
    assert screening.is_signed
    assert screening.signed_by == clinician
    assert "Screening signed. It is now locked" in html
    assert "Signed by Casey Okafor on" in section(html, "sign-off")
    assert "— locked" in section(html, "sign-off")
    assert review_forms(html) == []
    assert ">Sign</button>" not in html
    assert f'action="{reverse("screening:amend", args=[screening.uuid])}#sign-off"' in html


def test_after_signing_acknowledging_is_refused_with_a_message_and_nothing_changes(
    client, clinician
):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)
    flag_acknowledge(screening=screening, rule_id="REV-PEDIATRIC", user=clinician, reason="Seen")
    screening_sign(screening=screening, user=clinician)
    client.force_login(clinician)

    url = reverse("screening:acknowledge", args=[screening.uuid, "REV-PEDIATRIC"])
    response = client.post(url, {"reason": "Changed my mind"})

    assert response.status_code == 302
    assert messages_of(response) == ["Not saved: This screening is signed and locked."]
    assert FlagReview.objects.get(screening=screening).reason == "Seen"

    # A stale tab posting an empty reason: the page has no form left to show the error beside.
    response = client.post(url, {"reason": ""}, follow=True)
    assert response.redirect_chain == [(detail_url(screening), 302)]
    assert "Not saved: Give a reason: it is kept with the screening." in response.content.decode()
    assert FlagReview.objects.get(screening=screening).reason == "Seen"


def test_a_reviewer_cannot_sign(client, patient, clinician, reviewer):
    screening = screen(patient, clinician)
    client.force_login(reviewer)

    response = client.post(reverse("screening:sign", args=[screening.uuid]))

    assert response.status_code == 403
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED


def test_overriding_a_stop_flag_needs_a_coded_reason_shown_beside_the_field(
    client, patient, clinician
):
    screening = screen(patient, clinician, pregnancy_status="pregnant")
    client.force_login(clinician)
    url = reverse("screening:override", args=[screening.uuid, "STOP-PREGNANCY"])

    response = client.post(url, {"reason_code": "", "reason": "Obstetric MDT reviewed"})

    assert response.status_code == 400
    form = section(response.content.decode(), "override-STOP-PREGNANCY")
    assert "Choose a coded reason for overriding a stop flag." in form
    assert "Obstetric MDT reviewed" in form
    assert not FlagReview.objects.exists()

    response = client.post(
        url, {"reason_code": "specialist_approval", "reason": "Obstetric MDT reviewed"}
    )

    assert messages_of(response) == ["“Pregnancy” overridden with a documented reason."]
    review = FlagReview.objects.get()
    assert (review.kind, review.reason_code) == ("overridden", "specialist_approval")
    flag = section(page(client, clinician, screening), "flag-STOP-PREGNANCY")
    assert "Overridden" in flag
    assert "Specialist or MDT approval documented" in flag
    assert "Obstetric MDT reviewed" in flag


def test_a_blank_acknowledgement_reason_is_shown_beside_the_field(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)
    client.force_login(clinician)

    response = client.post(
        reverse("screening:acknowledge", args=[screening.uuid, "REV-PEDIATRIC"]), {"reason": "  "}
    )

    assert response.status_code == 400
    form = section(response.content.decode(), "acknowledge-REV-PEDIATRIC")
    assert "Give a reason: it is kept with the screening." in form
    assert not FlagReview.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "rule_id", "data", "message"),
    [
        (
            "acknowledge",
            "STOP-PREGNANCY",
            {"reason": "ok"},
            "Not saved: A stop flag is overridden with a documented reason.",
        ),
        (
            "acknowledge",
            "NOT-A-RULE",
            {"reason": "ok"},
            "Not saved: That flag did not fire in this screening.",
        ),
        (
            "acknowledge",
            "INFO-ESCORT",
            {"reason": "ok"},
            "Not saved: “No escort home” is for information and needs no acknowledgement.",
        ),
    ],
)
def test_service_refusals_come_back_as_messages(
    client, patient, clinician, url_name, rule_id, data, message
):
    screening = screen(patient, clinician, pregnancy_status="pregnant", has_escort_home=False)
    client.force_login(clinician)

    response = client.post(reverse(f"screening:{url_name}", args=[screening.uuid, rule_id]), data)

    assert response.status_code == 302
    assert response["Location"] == detail_url(screening)
    assert messages_of(response) == [message]
    assert not FlagReview.objects.exists()


def test_a_blank_reason_posted_to_the_wrong_kind_of_form_comes_back_as_a_message(
    client, patient, clinician
):
    screening = screen(patient, clinician, pregnancy_status="pregnant")
    client.force_login(clinician)

    url = reverse("screening:acknowledge", args=[screening.uuid, "STOP-PREGNANCY"])
    response = client.post(url, {"reason": ""})

    assert response.status_code == 302
    assert messages_of(response) == ["Not saved: Give a reason: it is kept with the screening."]
    assert not FlagReview.objects.exists()


def test_acknowledging_on_a_superseded_run_is_refused_with_a_message(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    intake = make_intake(patient=teenager, by=clinician)
    first = run(intake, clinician)
    run(intake, clinician)
    client.force_login(clinician)

    url = reverse("screening:acknowledge", args=[first.uuid, "REV-PEDIATRIC"])
    response = client.post(url, {"reason": "Seen"})

    assert response["Location"] == detail_url(first)
    assert messages_of(response) == [
        "Not saved: This screening was superseded: its intake was changed or run again after it ran."
    ]
    assert not FlagReview.objects.exists()


def test_a_review_can_be_revised_before_signing(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    screening = screen(teenager, clinician)
    flag_acknowledge(screening=screening, rule_id="REV-PEDIATRIC", user=clinician, reason="First")
    client.force_login(clinician)

    html = page(client, clinician, screening)
    assert "Save revised acknowledgement" in section(html, "flag-REV-PEDIATRIC")

    client.post(
        reverse("screening:acknowledge", args=[screening.uuid, "REV-PEDIATRIC"]),
        {"reason": "Second, after the family meeting"},
    )

    review = FlagReview.objects.get()
    assert review.reason == "Second, after the family meeting"


def test_a_superseded_screening_links_to_the_newer_run_and_has_no_forms(client, clinician):
    teenager = make_patient(created_by=clinician, born=date(2010, 1, 1))
    intake = make_intake(patient=teenager, by=clinician)
    first = run(intake, clinician)
    second = run(intake, clinician)

    html = page(client, clinician, first)

    assert "Superseded (its intake changed or ran again)" in html
    assert f'href="{detail_url(second)}"' in section(html, "screening-header")
    assert review_forms(html) == []


def test_the_reason_is_escaped(client, patient, clinician, reviewer):
    screening = screen(patient, clinician, pregnancy_status="pregnant")
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="other",
        reason="<script>alert(1)</script>",
    )

    for person in (clinician, reviewer):
        html = page(client, person, screening)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html


# --- amending -----------------------------------------------------------------------------------


def test_amending_a_signed_screening_opens_a_linked_draft(client, patient, clinician):
    original = screening_sign(screening=screen(patient, clinician), user=clinician)
    client.force_login(clinician)

    response = client.post(reverse("screening:amend", args=[original.uuid]), AMEND)

    draft = Intake.objects.get(amends=original)
    assert draft.status == Intake.Status.DRAFT
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:intake_edit", args=[draft.uuid])
    assert messages_of(response)[0].startswith("Amendment started")


def test_an_unsigned_screening_is_not_amended(client, patient, clinician):
    screening = screen(patient, clinician)
    client.force_login(clinician)

    response = client.post(reverse("screening:amend", args=[screening.uuid]), AMEND)

    assert response["Location"] == detail_url(screening)
    assert messages_of(response) == [
        "Not amended: Only a signed screening is amended; edit the draft intake instead."
    ]
    assert Intake.objects.count() == 1


def test_amendment_links_go_both_ways(client, patient, clinician):
    original = screening_sign(screening=screen(patient, clinician), user=clinician)
    client.force_login(clinician)
    client.post(reverse("screening:amend", args=[original.uuid]), AMEND)
    draft = Intake.objects.get(amends=original)

    in_progress = page(client, clinician, original)
    assert reverse("patients:intake_edit", args=[draft.uuid]) in section(
        in_progress, "screening-header"
    )

    amended = run(draft, clinician)
    original_html = page(client, clinician, original)
    amended_html = page(client, clinician, amended)

    assert f'href="{detail_url(amended)}"' in section(original_html, "screening-header")
    assert "Amended by" in original_html
    assert "Amends" in amended_html
    assert f'href="{detail_url(original)}"' in section(amended_html, "screening-header")


# --- home page ----------------------------------------------------------------------------------


def test_home_lists_the_clinicians_own_screenings_and_drafts(client, clinician, other_clinician):
    mine = make_patient(created_by=clinician, family_name="Mine")
    theirs = make_patient(created_by=other_clinician, family_name="Theirs")
    my_screening = screen(mine, clinician, **HIGH_SUICIDE_RISK)
    their_screening = screen(theirs, other_clinician)
    my_draft = make_intake(patient=mine, by=clinician)
    their_draft = make_intake(patient=theirs, by=other_clinician)
    client.force_login(clinician)

    html = client.get(reverse("home")).content.decode()

    recent = section(html, "recent-screenings")
    assert detail_url(my_screening) in recent
    assert "Alex Mine" in recent
    assert mine.mrn in recent
    assert "Review required" in recent
    assert "Urgent" in recent
    assert "Awaiting sign-off" in recent
    assert detail_url(their_screening) not in html
    drafts = section(html, "drafts")
    assert reverse("patients:intake_edit", args=[my_draft.uuid]) in drafts
    assert reverse("patients:intake_edit", args=[their_draft.uuid]) not in html
    assert "Theirs" not in html


@pytest.mark.parametrize("person", ["reviewer", "rule_admin", "outsider"])
def test_home_shows_no_worklist_to_other_roles(client, request, clinician, person):
    screen(make_patient(created_by=clinician), clinician)
    client.force_login(request.getfixturevalue(person))

    html = client.get(reverse("home")).content.decode()

    assert 'id="recent-screenings"' not in html
    assert 'id="drafts"' not in html
