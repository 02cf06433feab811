"""The result page reads as clinical prose: reasons with labels and units, codes as words,
missing information grouped by what it blocks (stop and urgent first) under the question's
wording, and links to the patient, the intake and the PDF."""

import html as html_lib
import re
from datetime import date

import pytest
from django.urls import reverse

from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
RAW = re.compile(r"[=≠<>≤≥]|\b[a-z0-9]+_[a-z0-9_]+\b|\bcssrs\b|\b(true|false)\b")


def result(client, user, screening):
    client.force_login(user)
    response = client.get(reverse("screening:detail", args=[screening.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def reasons(html):
    """Every reason the page shows, as text."""
    found = re.findall(r'<span class="app-because">(.*?)</span>', html)
    for cell in re.findall(r'data-label="Because">(.*?)</td>', html, re.S):
        found += re.findall(r"<li>(.*?)</li>", cell)
    return [html_lib.unescape(text) for text in found]


@pytest.fixture
def typical(clinician):
    """MDD, two failed trials, BP 150/95, pregnancy status and heart rate not recorded."""
    patient = make_patient(created_by=clinician, born=date(1992, 5, 17))
    intake = make_intake(
        patient=patient,
        by=clinician,
        systolic_bp=150,
        diastolic_bp=95,
        pregnancy_status="",
        gad7_total=None,
    )
    return screening_run(intake=intake, user=clinician, on=ON)


def test_reasons_read_as_sentences_with_labels_and_units(client, clinician, typical):
    html = result(client, clinician, typical)

    said = reasons(html)
    assert "Systolic blood pressure 150 mmHg (above 140)" in said
    assert "2 adequate antidepressant trials without response (criterion: at least 2)" in said
    assert "Diagnoses do not include bipolar I disorder" in said
    assert len(said) > 10
    for reason in said:
        assert not RAW.search(reason), reason


def test_codes_show_as_words(client, clinician, typical):
    html = result(client, clinician, typical)

    assert "<code" not in html.split('id="disposition"')[1].split("</section>")[0]
    assert "Meets screening criteria" in html
    assert "Not met" in html
    for code in (">incomplete<", ">review_required<", ">undetermined<", ">not_indicated<"):
        assert code not in html


def test_missing_information_is_grouped_stop_first_under_the_question(client, clinician, typical):
    html = result(client, clinician, typical)

    missing = html[html.index('id="missing"') :]
    groups = re.findall(r'<section class="mb-3" id="missing-(\w+)"', missing)
    assert groups[0] == "stop"
    assert groups == sorted(groups, key=["stop", "urgent", "review", "info", "indication"].index)
    stop = missing[missing.index('id="missing-stop"') : missing.index("</section>")]
    intake_url = reverse("patients:intake_edit", args=[typical.intake.uuid])
    assert f'href="{intake_url}#id_pregnancy_status"' in stop
    assert ">Pregnancy status</a>" in stop
    assert "Needed by:" in stop
    assert "Pregnancy" in stop
    assert "STOP-PREGNANCY" not in stop
    assert "<code" not in missing.split("</section>")[0]


def test_the_result_links_to_the_patient_the_intake_and_the_pdf(client, clinician, typical):
    html = result(client, clinician, typical)

    links = html[
        html.index('id="result-links"') : html.index("</nav>", html.index('id="result-links"'))
    ]
    assert reverse("patients:detail", args=[typical.patient.uuid]) in links
    assert reverse("patients:intake_edit", args=[typical.intake.uuid]) in links
    assert reverse("screening:pdf", args=[typical.uuid]) in links
    assert "Edit the intake" in links


def test_a_reviewer_gets_the_pdf_and_the_intake_to_read(client, reviewer, typical):
    html = result(client, reviewer, typical)

    assert reverse("screening:pdf", args=[typical.uuid]) in html
    assert "The intake as entered" in html
