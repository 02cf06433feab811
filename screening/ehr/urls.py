from django.urls import path

from screening.ehr import cds, views

app_name = "ehr"

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/intakes/ehr/",
        views.intake_from_ehr,
        name="intake_from_ehr",
    ),
    path("cds-services", cds.discovery, name="cds_discovery"),
    path("cds-services/<slug:service_id>", cds.service, name="cds_service"),
    path("cds-services/<slug:service_id>/feedback", cds.feedback, name="cds_feedback"),
]
