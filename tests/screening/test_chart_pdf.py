"""The PDF for the chart: rendered from the stored snapshot, identifiers and "page x of y" on
every page, the watermark where it applies, the facts as entered in words and units; its
download is an audit event and its file name carries no patient data."""

import io
import re
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
from django.urls import reverse
from pypdf import PdfReader

from patients.models import Intake
from screening.core.models import AuditEvent
from screening.models import Screening
from screening.services import flag_acknowledge, screening_run, screening_sign
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
#: Where CI keeps artefacts: a page of the PDF as a picture.
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture
def typical(clinician):
    """A 34-year-old woman with MDD, two failed trials and BP 150/95: review required, with
    the elevated blood pressure flag acknowledged."""
    patient = make_patient(
        created_by=clinician,
        born=date(1992, 5, 17),
        family_name="Okonkwo-Delacroix",
        given_names="Adaeze",
    )
    intake = make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95)
    screening = screening_run(intake=intake, user=clinician, on=ON)
    flag_acknowledge(
        screening=screening,
        rule_id="REV-BP-ELEVATED",
        user=clinician,
        reason="Rechecked after 10 minutes: 138/86",
    )
    return screening


def download(client, user, screening):
    client.force_login(user)
    response = client.get(reverse("screening:pdf", args=[screening.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response


def pages_of(response) -> list[str]:
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_every_page_names_the_patient_and_counts_the_pages(client, clinician, typical):
    pages = pages_of(download(client, clinician, typical))

    assert 1 <= len(pages) <= 2  # a typical result fits on two pages
    for number, text in enumerate(pages, start=1):
        assert "OKONKWO-DELACROIX, Adaeze" in text
        assert f"MRN {typical.patient.mrn}" in text
        assert "Date of birth 17 May 1992" in text
        assert f"Page {number} of {len(pages)}" in text
        assert "NOT SIGNED" in text


def test_the_pdf_shows_the_result_its_reasons_and_the_facts_as_entered(client, clinician, typical):
    text = " ".join(pages_of(download(client, clinician, typical)))

    assert "Review required" in text
    assert "Meets screening criteria" in text  # MDD and TRD
    assert "Elevated blood pressure" in text
    assert "Systolic blood pressure 150 mmHg (above 140)" in text
    assert "2 adequate antidepressant trials without response (criterion: at least 2)" in text
    assert "Acknowledged by" in text
    assert "Rechecked after 10 minutes: 138/86" in text
    assert "ketamine, version 2" in text
    # The facts as entered, with labels and units, not codes.
    assert re.search(r"Systolic blood pressure 150 mmHg", text)
    assert "Diastolic blood pressure 95 mmHg" in text
    assert "sertraline, 8 weeks at an adequate dose, no response" in text
    assert "Pregnancy status not pregnant" in text
    # Q3–Q5 follow a yes to Q2 only: after a no they were not asked, not "not recorded".
    assert "Q3 thoughts of a method not asked (Q2 is no)" in text
    assert "Not recorded: GAD-7 total" in text
    for code in ("review_required", "REV-BP-ELEVATED", "systolic_bp", "not_pregnant"):
        assert code not in text


def test_a_signed_screening_has_no_watermark_and_names_its_signer(client, clinician, typical):
    clinician.first_name, clinician.last_name = "Casey", "Morgan"
    clinician.save()
    signed = screening_sign(screening=typical, user=clinician)

    text = " ".join(pages_of(download(client, clinician, signed)))

    assert "NOT SIGNED" not in text
    assert "SUPERSEDED" not in text
    assert "Signed by Casey Morgan on" in text


def test_a_superseded_screening_is_watermarked_superseded(client, clinician, typical):
    screening_run(intake=typical.intake, user=clinician, on=ON)
    typical.refresh_from_db()
    assert typical.status == Screening.Status.SUPERSEDED

    pages = pages_of(download(client, clinician, typical))

    assert all("SUPERSEDED" in text for text in pages)


def test_the_download_is_audited_and_its_file_name_carries_no_patient_data(
    client, clinician, typical
):
    response = download(client, clinician, typical)

    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="screening-{typical.uuid}.pdf"'
    event = AuditEvent.objects.get(action="export.pdf")
    assert (event.actor_repr, event.object_id) == (clinician.username, str(typical.uuid))
    said = str(event.detail)
    for phi in (typical.patient.mrn, "Okonkwo", "Adaeze", "1992"):
        assert phi not in said


def test_the_pdf_is_rendered_from_the_stored_snapshot(client, clinician, typical):
    """What the screening stored when it ran, not the intake as it is now, nor rules run
    again on it (a crisis-level pressure typed in later changes nothing on this PDF)."""
    Intake.objects.filter(pk=typical.intake_id).update(systolic_bp=190)

    text = " ".join(pages_of(download(client, clinician, typical)))

    assert "Systolic blood pressure 150 mmHg" in text
    assert "190" not in text
    assert "hypertensive-crisis" not in text


def test_a_reviewer_downloads_it_and_an_outsider_cannot(client, reviewer, outsider, typical):
    download(client, reviewer, typical)
    client.force_login(outsider)
    assert client.get(reverse("screening:pdf", args=[typical.uuid])).status_code == 403


def test_pages_as_pictures_for_the_ci_artefacts(client, clinician, typical):
    pdf = pypdfium2.PdfDocument(download(client, clinician, typical).content)
    RESULTS.mkdir(exist_ok=True)
    for number, page in enumerate(pdf, start=1):
        image = page.render(scale=1.5).to_pil()
        path = RESULTS / f"screening-pdf-page-{number}.png"
        image.save(path)
        assert image.width > 800
        assert path.stat().st_size > 20_000
