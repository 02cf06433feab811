"""`/patients`: register, find (by POST: an MRN never goes in a URL) and read patients; start
an intake."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Router, Status

from patients import services as patient_services
from patients.models import Patient
from patients.selectors import patient_for, patients_visible_to
from screening.api.auth import caller
from screening.api.routers.intakes import intake_out
from screening.api.schemas import (
    REFUSALS,
    Detail,
    IntakeOut,
    PatientIn,
    PatientOut,
    PatientSearch,
)
from screening.core.audit import audit_view
from screening.core.errors import ConflictError

router = Router(tags=["patients"])


@router.post("", response={201: PatientOut, 409: Detail, **REFUSALS})
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[Any]:
    user = caller(request, "patients.add_patient")
    try:
        patient = patient_services.patient_register(user=user, **payload.dict())
    except IntegrityError:
        raise ConflictError(
            "A patient with this medical record number is already registered."
        ) from None
    return Status(201, patient)


@router.post("/search", response={200: list[PatientOut], **REFUSALS})
def patient_search(request: HttpRequest, payload: PatientSearch) -> list[Patient]:
    """The patient with this medical record number, in any case (an empty list if none). The
    MRN goes in the body, never in the URL, where access logs would keep it."""
    user = caller(request, "patients.view_patient")
    found = list(patients_visible_to(user).filter(mrn__iexact=payload.mrn))
    for patient in found:
        audit_view(user, patient, page="api")
    return found


@router.get("/{uuid:patient_uuid}", response={200: PatientOut, **REFUSALS})
def patient_get(request: HttpRequest, patient_uuid: UUID) -> Patient:
    user = caller(request, "patients.view_patient")
    patient = patient_for(user, patient_uuid)
    audit_view(user, patient, page="api")
    return patient


@router.post("/{uuid:patient_uuid}/intakes", response={201: IntakeOut, **REFUSALS})
def intake_create(request: HttpRequest, patient_uuid: UUID) -> Status[Any]:
    """Start an empty draft intake for the patient."""
    user = caller(request, "patients.add_intake")
    patient = patient_for(user, patient_uuid)
    intake = patient_services.intake_create(patient=patient, user=user)
    return Status(201, intake_out(intake))
