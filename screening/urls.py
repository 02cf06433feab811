from django.contrib import admin
from django.urls import include, path

from screening.api import api as screening_api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", screening_api.urls()),
    path("settings/api-tokens/", include("screening.api.urls")),
    path("", include("patients.urls")),
    path("screenings/", include("screening.screening_urls")),
    path("rules/", include("rules.urls")),
    path("", include("screening.web_urls")),
]
