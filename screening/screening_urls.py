"""Screening results, flag review and sign-off (namespace `screening`)."""

from django.urls import include, path

from screening import views

app_name = "screening"

urlpatterns = [
    path("<uuid:screening_uuid>/", views.screening_detail, name="detail"),
    path(
        "<uuid:screening_uuid>/flags/<str:rule_id>/acknowledge/",
        views.flag_acknowledge,
        name="acknowledge",
    ),
    path(
        "<uuid:screening_uuid>/flags/<str:rule_id>/override/",
        views.flag_override,
        name="override",
    ),
    path("<uuid:screening_uuid>/sign/", views.screening_sign, name="sign"),
    path("<uuid:screening_uuid>/amend/", views.screening_amend, name="amend"),
    path("review/", include("screening.review_urls")),
]
