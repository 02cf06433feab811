"""The project's URLs plus the benchmarks' framework floor (bench settings only)."""

from django.urls import path

from bench.views import floor
from screening.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/floor/", floor, name="bench_floor")]

handler500 = "screening.core.outage.server_error"
