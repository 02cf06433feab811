"""The API tokens page (namespace `api_tokens`; `api` is the JSON API's)."""

from django.urls import path

from screening.api import views

app_name = "api_tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("<uuid:token_uuid>/revoke/", views.token_revoke, name="revoke"),
]
