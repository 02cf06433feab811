"""Permission-aware reads of patients and intakes.

Clinicians share the clinic's patients (any clinician may continue a colleague's draft);
reviewers read them for audit; rule admins and accounts without a role see no patient data.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from patients.models import Intake, Patient
from screening.core.permissions import has_perm


def patients_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Patient]:
    if not has_perm(user, "patients.view_patient"):
        return Patient.objects.none()
    return Patient.objects.all()


def patient_search(user: AbstractBaseUser | AnonymousUser, query: str) -> QuerySet[Patient]:
    """Patients whose MRN starts with, or whose name contains, `query` (all when blank)."""
    patients = patients_visible_to(user)
    query = query.strip()
    if not query:
        return patients
    words = query.split()
    match = Q(mrn__istartswith=query)
    name = Q()
    for word in words:
        name &= Q(family_name__icontains=word) | Q(given_names__icontains=word)
    return patients.filter(match | name)


def patient_for(user: AbstractBaseUser | AnonymousUser, patient_uuid: object) -> Patient:
    return get_object_or_404(patients_visible_to(user), uuid=patient_uuid)


def intakes_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Intake]:
    if not has_perm(user, "patients.view_intake"):
        return Intake.objects.none()
    return Intake.objects.select_related("patient")


def intake_for(user: AbstractBaseUser | AnonymousUser, intake_uuid: object) -> Intake:
    return get_object_or_404(intakes_visible_to(user), uuid=intake_uuid)


def drafts_of(user: User) -> QuerySet[Intake]:
    """Draft intakes this clinician started or last saved, most recent first."""
    return (
        intakes_visible_to(user)
        .filter(Q(created_by=user) | Q(updated_by=user), status=Intake.Status.DRAFT)
        .order_by("-updated_at")
    )
