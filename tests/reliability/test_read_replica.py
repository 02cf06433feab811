"""Reviewers' reads from a real streaming replica of the test PostgreSQL; clinicians' never.

The replica is made once per run: `pg_basebackup` of the whole cluster (Debian's PostgreSQL 15
binaries, run as the `postgres` user), started with `pg_ctl` on a free port of 127.0.0.1 with
its data directory under /tmp, streaming from the primary; it is stopped and removed at the
end. TEST_REPLICA_PORT names an already running replica of the same cluster instead.

The primary must accept replication connections from 127.0.0.1: `wal_level` replica (the
default) and a `replication` line in pg_hba.conf. `.ci/run` adds `host replication all
127.0.0.1/32 trust` when none is there (pg_hba.conf is a file of the server's configuration,
outside what SQL can change; a reload makes it count). Without it these tests are skipped
outside CI and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import Client
from django.urls import reverse

from screening.core.replica import REPLICA
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def _primary(**extra) -> psycopg.Connection:
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(**{**params, "dbname": "postgres", **extra}, autocommit=True)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup, django_db_blocker) -> Iterator[int]:
    """The port of a hot standby streaming from the test database's server."""
    given = os.environ.get("TEST_REPLICA_PORT")
    if given:
        yield int(given)
        return
    with django_db_blocker.unblock(), _primary() as primary:
        host, port = primary.info.host, primary.info.port
        replication = primary.execute(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database)"
        ).fetchone()
    if not (BIN / "pg_basebackup").exists() or not replication or not replication[0]:
        reason = (
            "the primary accepts no replication connection (no `replication` line in "
            "pg_hba.conf; .ci/run adds one) or PostgreSQL 15's binaries are missing"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="replica-"))
    data = root / "data"
    replica_port = _free_port()
    shutil.chown(root, "postgres") if os.geteuid() == 0 else None
    subprocess.run(
        _as_postgres(
            str(BIN / "pg_basebackup"),
            f"--pgdata={data}",
            f"--host={host}",
            f"--port={port}",
            "--username=postgres",
            "--wal-method=stream",
            "--write-recovery-conf",
            "--checkpoint=fast",
        ),
        check=True,
        capture_output=True,
    )
    # Debian keeps the configuration in /etc: the copy gets its own, as a hot standby.
    (data / "postgresql.conf").write_text(
        f"port = {replica_port}\nlisten_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{root}'\nhot_standby = on\n"
        "max_connections = 100\nshared_buffers = 32MB\nfsync = off\n"
    )
    (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\nlocal all all trust\n")
    (data / "pg_ident.conf").write_text("")
    if os.geteuid() == 0:
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(data / name, "postgres")
    pg_ctl = [str(BIN / "pg_ctl"), f"--pgdata={data}", f"--log={root / 'log'}"]
    subprocess.run(
        _as_postgres(*pg_ctl, "--wait", "--timeout=120", "start"), check=True, capture_output=True
    )
    try:
        yield replica_port
    finally:
        subprocess.run(_as_postgres(*pg_ctl, "--mode=fast", "stop"), check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def replica(streaming_replica, settings) -> Iterator[psycopg.Connection]:
    """The project configured with the replica (as DATABASE_REPLICA_URL does); yields a
    superuser connection to the replica, to pause and resume its replay."""
    raw = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(streaming_replica)}
    configured = connections.configure_settings({"default": connection.settings_dict, REPLICA: raw})
    # Set up beside the test's databases, as the settings would from DATABASE_REPLICA_URL.
    connections[REPLICA] = load_backend(raw["ENGINE"]).DatabaseWrapper(configured[REPLICA], REPLICA)
    settings.DATABASE_REPLICA_URL = f"postgres://postgres@127.0.0.1:{streaming_replica}/"
    settings.DATABASE_ROUTERS = ["screening.core.replica.ReplicaRouter"]
    settings.DATABASE_REPLICA_MAX_LAG = 3600
    control = psycopg.connect(
        host="127.0.0.1",
        port=streaming_replica,
        user="postgres",
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )
    try:
        _caught_up(control)
        yield control
    finally:
        control.execute("SELECT pg_wal_replay_resume()")
        control.close()
        connections[REPLICA].close()
        del connections[REPLICA]


def _caught_up(control: psycopg.Connection) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with _primary() as primary:
        [target] = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    control.execute("SELECT pg_wal_replay_resume()")
    for _ in range(300):
        [done] = control.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
        ).fetchone()
        if done:
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up within 15 s")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class ReplicaQueries:
    """Statements run on the replica's connection while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def test_reviewer_reads_come_from_the_replica_and_clinician_reads_from_the_primary(
    replica, clinician, reviewer
):
    reviewer_browser, clinician_browser = _signed_in(reviewer), _signed_in(clinician)
    replica.execute("SELECT pg_wal_replay_pause()")  # the replica stops here: a lag
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    screening = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician)

    on_replica = ReplicaQueries()
    with connections[REPLICA].execute_wrapper(on_replica):
        listed = reviewer_browser.get(reverse("screening:list"))
    assert listed.status_code == 200
    assert listed["X-Read-From"] == "replica"
    assert on_replica.count > 1
    assert str(screening.uuid) not in listed.content.decode(), "the lagging replica served it"

    # The clinician who ran it a moment ago sees it: their pages read from the primary.
    on_replica = ReplicaQueries()
    with connections[REPLICA].execute_wrapper(on_replica):
        shown = clinician_browser.get(reverse("screening:detail", args=[screening.uuid]))
    assert shown.status_code == 200
    assert on_replica.count == 0

    _caught_up(replica)
    listed = reviewer_browser.get(reverse("screening:list"))
    assert listed["X-Read-From"] == "replica"
    assert str(screening.uuid) in listed.content.decode()


def test_a_reader_who_just_wrote_reads_from_the_primary_until_the_replica_has_it(
    replica, clinician, reviewer
):
    browser = _signed_in(reviewer)
    replica.execute("SELECT pg_wal_replay_pause()")
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    screening = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician)
    # The export is audited: this reviewer has now written to the primary.
    exported = browser.get(reverse("screening:export_csv"))
    assert exported["X-Read-From"] == "replica"
    assert str(screening.uuid) not in b"".join(exported.streaming_content).decode()

    listed = browser.get(reverse("screening:list"))
    assert listed["X-Read-From"] == "primary"
    assert str(screening.uuid) in listed.content.decode()

    _caught_up(replica)
    assert browser.get(reverse("screening:list"))["X-Read-From"] == "replica"


def test_a_replica_lagging_more_than_allowed_is_not_read(replica, clinician, reviewer, settings):
    browser = _signed_in(reviewer)
    replica.execute("SELECT pg_wal_replay_pause()")
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    screening = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician)
    settings.DATABASE_REPLICA_MAX_LAG = 0

    listed = browser.get(reverse("screening:list"))
    assert listed["X-Read-From"] == "primary"
    assert str(screening.uuid) in listed.content.decode()


def test_audit_verification_runs_on_the_primary(replica, reviewer):
    on_replica = ReplicaQueries()
    with connections[REPLICA].execute_wrapper(on_replica):
        response = _signed_in(reviewer).get(reverse("screening:audit_verify"))
    assert response.status_code == 200
    assert on_replica.count == 0
