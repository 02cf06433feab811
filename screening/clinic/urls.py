"""The clinician's URLs.

`urlpatterns`: screening results, flag review and sign-off (namespace `screening`, with the
reviewer's desk under `review/`). `patient_urlpatterns`: the `patients` namespace, this app's
pages for a patient and an intake added to the patients app's own (`patients.urls`), so every
URL and URL name stays where it was while `patients` imports nothing of the screening domain.
"""

from django.urls import include, path

from patients import urls as patient_urls
from screening.clinic import intake_views, views, worklist
from screening.clinic.forms import AcknowledgeForm, OverrideForm

app_name = "screening"

urlpatterns = [
    path("mine/", worklist.worklist, name="worklist"),
    path("<uuid:screening_uuid>/", views.screening_detail, name="detail"),
    path("<uuid:screening_uuid>/pdf/", views.screening_pdf, name="pdf"),
    path(
        "<uuid:screening_uuid>/flags/acknowledge/",
        views.flags_acknowledge,
        name="acknowledge_several",
    ),
    path(
        "<uuid:screening_uuid>/flags/<str:rule_id>/acknowledge/",
        views.flag_review,
        {"form_class": AcknowledgeForm},
        name="acknowledge",
    ),
    path(
        "<uuid:screening_uuid>/flags/<str:rule_id>/override/",
        views.flag_review,
        {"form_class": OverrideForm},
        name="override",
    ),
    path("<uuid:screening_uuid>/sign/", views.screening_sign, name="sign"),
    path("<uuid:screening_uuid>/amend/", views.screening_amend, name="amend"),
    path("<uuid:screening_uuid>/rerun/", views.screening_rerun, name="rerun"),
    path("review/", include("screening.review.urls")),
]

patient_urlpatterns = [
    *patient_urls.urlpatterns,
    path("patients/<uuid:patient_uuid>/", intake_views.patient_detail, name="detail"),
    path("intakes/<uuid:intake_uuid>/", intake_views.intake_edit, name="intake_edit"),
]
