from django.urls import path

from screening.ehr import views

app_name = "ehr"

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/intakes/ehr/",
        views.intake_from_ehr,
        name="intake_from_ehr",
    ),
]
