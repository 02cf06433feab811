"""Patients and intakes (namespace `patients`). UUIDs in URLs, never sequential ids or MRNs.

The patient's page (`detail`) and the intake form (`intake_edit`) show and run screenings, so
the screening side provides them in this namespace (`screening.clinic.urls`)."""

from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("patients/", views.patient_list, name="list"),
    path("patients/new/", views.patient_register, name="register"),
    path("patients/<uuid:patient_uuid>/intakes/new/", views.intake_new, name="intake_new"),
    path("intakes/<uuid:intake_uuid>/autosave/", views.intake_autosave, name="intake_autosave"),
]
