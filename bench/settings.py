"""Settings for the HTTP benchmarks: the project's settings plus one bench-only page.

`bench/urls.py` mounts the framework floor (`bench/floor/`) beside the project's URLs. Only the
benchmarks' gunicorn runs with these settings (DJANGO_SETTINGS_MODULE=bench.settings); the
production URLconf never contains the floor (tests/test_bench_settings.py).
"""

from screening.settings import *  # noqa: F403
from screening.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"

TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
