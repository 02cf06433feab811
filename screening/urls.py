from django.contrib import admin
from django.urls import include, path

from screening.api import api as screening_api
from screening.clinic import urls as clinic_urls

# The 403 page names the roles a page is for, and never another refusal's text.
handler403 = "screening.core.views.permission_denied"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", screening_api.urls()),
    path("settings/api-tokens/", include("screening.api.urls")),
    path("", include((clinic_urls.patient_urlpatterns, "patients"))),
    path("screenings/", include("screening.clinic.urls")),
    path("rules/", include("rules.urls")),
    path("", include("screening.accounts.urls")),
    path("people/", include("screening.accounts.admin_urls")),
    path("", include("screening.ehr.urls")),
    path("", include("screening.clinic.shell_urls")),
]

# A lost database connection outside a view is a 503 "try again" too (screening.core.outage).
handler500 = "screening.core.outage.server_error"
