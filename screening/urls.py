from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("patients.urls")),
    path("screenings/", include("screening.screening_urls")),
    path("rules/", include("rules.urls")),
    path("", include("screening.web_urls")),
]
