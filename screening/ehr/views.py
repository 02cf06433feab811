"""The clinician's door to EHR data: start an intake from a FHIR Bundle."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from patients.selectors import patient_for
from screening.core.errors import InputInvalid
from screening.core.http import SignedInRequest
from screening.core.permissions import permission_required
from screening.ehr.forms import BundleForm
from screening.ehr.services import intake_from_fhir


@require_http_methods(["GET", "POST"])
@permission_required("patients.add_intake")
def intake_from_ehr(request: SignedInRequest, patient_uuid: object) -> HttpResponse:
    """Paste or upload a Bundle → a draft intake with its answers marked by source. Nothing
    runs: the clinician checks the answers and presses Run."""
    patient = patient_for(request.user, patient_uuid)
    form = BundleForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            intake = intake_from_fhir(
                patient=patient,
                user=request.user,
                bundle=form.cleaned_data["bundle"],
                today=timezone.localdate(),
            )
        except InputInvalid as invalid:
            for problems in invalid.errors.values():
                for problem in problems:
                    form.add_error(None, f"The Bundle {problem.rstrip('.')}.")
        else:
            return redirect("patients:intake_edit", intake.uuid)
    status = 422 if form.errors else 200
    return render(
        request, "ehr/intake_from_ehr.html", {"patient": patient, "form": form}, status=status
    )
