"""Reviewers' pages, included into the `screening` namespace under `review/`."""

from django.urls import path

from screening.review import views as review_views

urlpatterns = [
    path("", review_views.screening_list, name="list"),
    path("export.csv", review_views.screening_export_csv, name="export_csv"),
    path("audit/", review_views.audit_log, name="audit"),
    path("audit/verify/", review_views.audit_verify_page, name="audit_verify"),
    path("analytics/", review_views.rule_analytics, name="analytics"),
    path("test-case/", review_views.screening_as_test_case_find, name="as_test_case_find"),
    path("<uuid:screening_uuid>/", review_views.screening_review, name="review"),
    path(
        "<uuid:screening_uuid>/reevaluate/",
        review_views.screening_reevaluate,
        name="reevaluate",
    ),
    path(
        "<uuid:screening_uuid>/test-case/",
        review_views.screening_as_test_case,
        name="as_test_case",
    ),
    path(
        "<uuid:screening_uuid>/export.json",
        review_views.screening_export_json,
        name="export_json",
    ),
]
