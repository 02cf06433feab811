"""Patients and intakes (namespace `patients`). UUIDs in URLs, never sequential ids or MRNs."""

from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("patients/", views.patient_list, name="list"),
    path("patients/new/", views.patient_register, name="register"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="detail"),
    path("patients/<uuid:patient_uuid>/intakes/new/", views.intake_new, name="intake_new"),
    path("intakes/<uuid:intake_uuid>/", views.intake_edit, name="intake_edit"),
]
