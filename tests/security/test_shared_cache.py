"""Single-use second-factor codes hold across processes: allauth records a used TOTP code in the
cache, so the cache must be one that every gunicorn worker and web node shares."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_what_one_process_caches_another_process_sees():
    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "SECRET_KEY": "test-only-not-a-secret",
        "DJANGO_SETTINGS_MODULE": "screening.settings",
    }
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.core.cache import cache; "
            "cache.set('used-totp-code-probe', 'spent', 60)",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )

    assert cache.get("used-totp-code-probe") == "spent"
