"""Pages for patients and their intakes. Every page needs a login (LoginRequiredMiddleware) and
names the roles it serves; reads go through the permission-aware selectors, changes through one
service each. URLs carry UUIDs only, and nothing here logs what a form contains."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from patients import services
from patients.forms import SECTIONS, IntakeForm, PatientForm, PatientSearchForm
from patients.models import Intake
from patients.selectors import intake_for, intakes_visible_to, patient_for, patient_search
from screening.audit import audit_record
from screening.exceptions import ConflictError, IntakeInvalid, LockedError
from screening.models import Screening
from screening.permissions import role_required
from screening.roles import Role, has_role
from screening.services import intake_submit
from screening.views import DISPOSITIONS, STATUS_COLOURS, Label

PAGE_SIZE = 25


class SignedInRequest(HttpRequest):
    """A request on a page that requires login (LoginRequiredMiddleware): the user is real."""

    user: User


LOCKED_MESSAGE = (
    "This intake belongs to a signed screening and cannot change: amend the screening instead."
)


@require_http_methods(["GET", "POST"])
@role_required(Role.CLINICIAN, Role.REVIEWER)
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
@role_required(Role.CLINICIAN)
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


@require_http_methods(["GET"])
@role_required(Role.CLINICIAN, Role.REVIEWER)
def patient_detail(request: SignedInRequest, patient_uuid: object) -> HttpResponse:
    """The patient, their intakes and the screenings run from each."""
    patient = patient_for(request.user, patient_uuid)
    intakes = (
        intakes_visible_to(request.user)
        .filter(patient=patient)
        .select_related("updated_by", "amends")
        .prefetch_related(
            Prefetch(
                "screenings",
                queryset=Screening.objects.select_related("run_by", "signed_by").order_by(
                    "-run_at"
                ),
            )
        )
    )
    return render(
        request,
        "patients/patient_detail.html",
        {
            "patient": patient,
            "intakes": [_intake_row(intake) for intake in intakes],
            "can_edit": has_role(request.user, Role.CLINICIAN),
        },
    )


@require_POST
@role_required(Role.CLINICIAN)
def intake_new(request: SignedInRequest, patient_uuid: object) -> HttpResponse:
    patient = patient_for(request.user, patient_uuid)
    intake = services.intake_create(patient=patient, user=request.user)
    return redirect("patients:intake_edit", intake.uuid)


@require_http_methods(["GET", "POST"])
@role_required(Role.CLINICIAN, Role.REVIEWER)
def intake_edit(request: SignedInRequest, intake_uuid: object) -> HttpResponse:
    """Fill in an intake: save it as a draft, or save it and run the screening.

    Reviewers read it; a signed (locked) intake is read-only for everyone.
    """
    intake = intake_for(request.user, intake_uuid)
    is_clinician = has_role(request.user, Role.CLINICIAN)
    if request.method == "GET":
        audit_record(
            actor=request.user,
            action="intake.view",
            object_type="patients.intake",
            object_id=str(intake.uuid),
            detail={"page": "intake"},
        )
        form = IntakeForm(intake=intake, read_only=intake.is_locked or not is_clinician)
        return _intake_page(request, intake, form)
    if not is_clinician:
        raise PermissionDenied("Reviewers read intakes; only clinicians change them.")
    if intake.is_locked:
        return _refuse_locked(request, intake, LockedError(LOCKED_MESSAGE))

    form = IntakeForm(request.POST, intake=intake)
    if not form.is_valid():
        return _intake_page(request, intake, form)
    try:
        if request.POST.get("action") == "run":
            screening = intake_submit(
                intake=intake,
                user=request.user,
                expected_version=form.expected_version,
                values=form.values,
                trials=form.trial_rows,
            )
            return redirect("screening:detail", screening.uuid)
        services.intake_update(
            intake=intake,
            user=request.user,
            expected_version=form.expected_version,
            values=form.values,
            trials=form.trial_rows,
        )
    except IntakeInvalid as invalid:
        form.add_service_errors(invalid.errors)
        return _intake_page(request, intake, form)
    except LockedError as error:
        return _refuse_locked(request, intake, error)
    except ConflictError:
        return _intake_page(request, intake, form, conflict=True, status=409)
    messages.success(request, "Draft saved")
    return redirect("patients:intake_edit", intake.uuid)


def _refuse_locked(request: HttpRequest, intake: Intake, error: LockedError) -> HttpResponse:
    messages.error(request, f"Nothing was saved. {error}")
    return redirect("patients:intake_edit", intake.uuid)


def _intake_page(
    request: HttpRequest,
    intake: Intake,
    form: IntakeForm,
    *,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    signed = (
        intake.screenings.filter(status=Screening.Status.SIGNED).order_by("-signed_at").first()
        if intake.is_locked
        else None
    )
    context: dict[str, Any] = {
        "intake": intake,
        "patient": intake.patient,
        "form": form,
        "sections": SECTIONS,
        "conflict": conflict,
        "signed_screening": signed,
        "latest_screening": intake.screenings.order_by("-run_at").first(),
    }
    return render(request, "patients/intake_form.html", context, status=status)


def _intake_row(intake: Intake) -> dict[str, Any]:
    return {
        "intake": intake,
        "screenings": [
            {
                "screening": screening,
                "disposition": DISPOSITIONS.get(
                    screening.disposition, Label(screening.disposition, "secondary")
                ),
                "status_colour": STATUS_COLOURS.get(screening.status, "secondary"),
            }
            for screening in intake.screenings.all()
        ],
    }
