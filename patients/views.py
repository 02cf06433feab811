"""Pages for patients: the list and search, registration, and starting an intake. Every page needs
a login (LoginRequiredMiddleware) and names the permission it asks for; reads go through the
permission-aware selectors, changes through one service each. URLs carry UUIDs only, and nothing
here logs what a form contains.

The patient's page and the intake form show and run screenings, so they live on the screening
side (`screening.clinic.intake_views`), under this app's URL names."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from patients import services
from patients.forms import PatientForm, PatientSearchForm, posted_by_intake_form
from patients.selectors import intake_for, patient_for, patient_search
from screening.core.errors import ServiceError
from screening.core.http import SignedInRequest
from screening.core.permissions import permission_required

PAGE_SIZE = 25


@require_http_methods(["GET", "POST"])
@permission_required("patients.view_patient")
def patient_list(request: SignedInRequest) -> HttpResponse:
    """Patients, searched by MRN or name, a page at a time.

    Searches are POSTed so that names and MRNs never appear in URLs (and so in access logs);
    browsing the unfiltered list pages by GET.
    """
    search = PatientSearchForm(request.POST if request.method == "POST" else None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page_number = request.POST.get("page") if query else request.GET.get("page")
    page = Paginator(patient_search(request.user, query), PAGE_SIZE).get_page(page_number)
    return render(
        request,
        "patients/patient_list.html",
        {"search": search, "query": query, "page": page},
    )


@require_http_methods(["GET", "POST"])
@permission_required("patients.add_patient")
def patient_register(request: SignedInRequest) -> HttpResponse:
    form = PatientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_register(user=request.user, **form.cleaned_data)
        except IntegrityError:
            # Two clinicians registered the same MRN at once; the database kept the first.
            form.add_error(
                "mrn", "A patient with this medical record number is already registered."
            )
        else:
            messages.success(request, "Patient registered.")
            return redirect("patients:detail", patient.uuid)
    return render(request, "patients/patient_form.html", {"form": form})


@require_POST
@permission_required("patients.add_intake")
def intake_new(request: SignedInRequest, patient_uuid: object) -> HttpResponse:
    patient = patient_for(request.user, patient_uuid)
    intake = services.intake_create(patient=patient, user=request.user)
    return redirect("patients:intake_edit", intake.uuid)


@require_POST
@login_not_required
def intake_autosave(request: HttpRequest, intake_uuid: object) -> JsonResponse:
    """The intake page's background save: the answers as the form would post them become the
    clinician's working copy (`services.intake_autosave`), never the intake itself. Answers in
    JSON, for the page's script: 401 once the session has ended (not a redirect to sign in),
    403 for a role that cannot edit, 409 with a `code` when the intake changed or is signed."""
    user = request.user
    if not isinstance(user, User):
        return _refused(401, "unauthorized", "Your session has ended: sign in again.")
    if not user.has_perm("patients.change_intake"):
        return _refused(403, "forbidden", "Only clinicians change intakes.")
    intake = intake_for(user, intake_uuid)
    version = request.POST.get("version", "")
    if not version.isdigit():
        return _refused(422, "invalid", "The page did not say which version it edits: reload it.")
    data = {name: values for name, values in request.POST.lists() if posted_by_intake_form(name)}
    try:
        autosave = services.intake_autosave(
            intake=intake, user=user, data=data, base_version=int(version)
        )
    except ServiceError as error:
        return _refused(409, error.code, str(error))
    saved_at = timezone.localtime(autosave.saved_at)
    return JsonResponse({"saved_at": saved_at.strftime("%H:%M"), "version": intake.version})


def _refused(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)
