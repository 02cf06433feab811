"""PostgreSQL connections bind parameters on the server, so repeated statements are prepared
once per connection; DB_SERVER_SIDE_BINDING=false turns that off (for a pooler that drops
prepared statements)."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from patients.models import Patient

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_a_statement_the_connection_repeats_is_prepared_on_the_server():
    with connection.cursor() as cursor:
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)
    for _ in range(8):
        list(Patient.objects.filter(mrn="nobody-has-this-mrn"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"patients_patient"."mrn" = $1%'],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(("setting", "expected"), [("", "True 5"), ("false", "False None")])
def test_server_side_binding_follows_its_setting(setting, expected):
    env = {**os.environ, "DB_SERVER_SIDE_BINDING": setting, "SECRET_KEY": "test-only"}
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/screening"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "o = settings.DATABASES['default']['OPTIONS']; print(o['server_side_binding'], o['prepare_threshold'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "screening.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.strip() == expected
