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


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connections_to(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_development_server_does_not_keep_a_connection_per_request():
    """`make run` on PostgreSQL: runserver serves each request in a new thread; its connections
    must close with the request, or the server runs out of connection slots."""
    import time
    import urllib.error
    import urllib.request

    name = connection.settings_dict["NAME"]
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        SECRET_KEY="test-only-not-a-secret",
        DEBUG="true",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        requests = 0
        while requests < 25:
            # An API call with an unknown token: one database lookup, answered 401.
            call = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/screenings",
                headers={"Authorization": "Bearer kst_not-a-token"},
            )
            try:
                urllib.request.urlopen(call, timeout=10)  # noqa: S310  (a local http URL)
            except urllib.error.HTTPError as error:
                status = error.code
                assert status == 401
                requests += 1
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.3)
        time.sleep(0.5)
        assert _connections_to(name) <= 1
    finally:
        server.terminate()
        server.wait(timeout=30)
