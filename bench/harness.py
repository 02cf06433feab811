"""What the HTTP benchmarks share (`bench/http.py`, `bench/soak.py`): a dedicated PostgreSQL
database, gunicorn serving the project on 127.0.0.1 with the bench settings, and a small
browser-like client (cookies, CSRF token, form posts, no redirects followed unless asked).

    url = harness.database_url(harness.sibling_database("bench_http"))
    harness.prepare_database(url, keep=False)       # (re)created, migrated, Django set up here
    with harness.Server(url, logs=Path(...)) as server:
        client = harness.Client(server.port)
        client.login(username, password)

The server runs like production (DEBUG off, a SECRET_KEY, persistent database connections,
`gunicorn screening.wsgi`), except for plain-http cookies on 127.0.0.1 (SECURE_COOKIES=false)
and the bench settings' extra page. Django is set up in the calling process too, on the same
database, for preparing data and checking what the server stored.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/screening"
# The vignettes of the version `migrate` leaves published (the soak checks their outcomes).
VIGNETTES = ROOT / "rules" / "data" / "vignettes-v2"
#: Gunicorn's access log: address, time, request line, status, bytes, milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)s'
#: One per run: sessions do not outlive the benchmark.
SECRET_KEY = secrets.token_urlsafe(50)
#: The framework floor's table (`bench.views.floor`), outside every migration.
FLOOR_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_floor_hit (id bigserial PRIMARY KEY, "
    "user_id bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())"
)


class BenchError(Exception):
    """Something the benchmark did not expect: the message says what, never patient data."""


# --- the database and Django in this process --------------------------------------------------


def database_url(name: str) -> str:
    """DATABASE_URL (or the local default) with its database name replaced by `name`."""
    return urlsplit(_base_url())._replace(path=f"/{name}").geturl()


def sibling_database(suffix: str) -> str:
    """The name of a bench database beside the one DATABASE_URL names: `<that name>_<suffix>`
    (`screening_soak` with the default), so that benches run for different checkouts, or by
    test suites on different databases, never share one."""
    return f"{urlsplit(_base_url()).path.lstrip('/') or 'screening'}_{suffix}"


def _base_url() -> str:
    base = os.environ.get("DATABASE_URL", "")
    return base if base.startswith(("postgres://", "postgresql://")) else DEFAULT_DATABASE_URL


def server_environment(url: str) -> dict[str, str]:
    """The environment of gunicorn and of this process's Django: production-like settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "SECURE_COOKIES": "false",
        "SECURE_SSL_REDIRECT": "false",
        "BEHIND_TLS_PROXY": "false",
        # Gunicorn's sync workers, one thread each: each keeps its connection, as production.
        "CONN_MAX_AGE": "600",
        # The benchmarks' staff sign in with a password alone (production requires a second
        # factor of every role; the benchmarks measure the clinical pages, not enrolment).
        "MFA_REQUIRED_ROLES": "",
    }


def prepare_database(url: str, *, keep: bool) -> None:
    """Create the database afresh (or reuse it with `keep`), set Django up on it in this
    process, migrate it and create the framework floor's table."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not (exists and keep):
            identifier = sql.Identifier(name)
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier)
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))

    os.environ.update(server_environment(url))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection as django_connection

    call_command("migrate", interactive=False, verbosity=0)
    with django_connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)


def verify_audit(url: str) -> tuple[bool, str]:
    """`manage.py verify_audit` on the bench database: (passed, its last line)."""
    finished = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=server_environment(url),
        capture_output=True,
        text=True,
        check=False,
    )
    said = (finished.stdout + finished.stderr).strip().splitlines()
    return finished.returncode == 0, said[-1] if said else ""


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def clinicians(count: int, prefix: str, password: str) -> list[str]:
    """`count` clinician accounts (created or reset); their usernames."""
    from django.contrib.auth.models import Group, User

    from screening.core.permissions import Role

    group = Group.objects.get(name=Role.CLINICIAN.value)
    names = []
    for n in range(count):
        user, _ = User.objects.get_or_create(
            username=f"{prefix}-{n}", defaults={"first_name": "Bench", "last_name": f"Client {n}"}
        )
        user.set_password(password)
        user.save()
        user.groups.add(group)
        names.append(user.username)
    return names


# --- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """`gunicorn screening.wsgi` with the bench settings, started on entry and always stopped on
    exit. `logs` receives `access.log` (gunicorn's access log) and `server.log` (gunicorn's
    own messages and the application's log output)."""

    #: The workers' PostgreSQL application_name (libpq's PGAPPNAME): `bench/soak.py --faults`
    #: terminates these connections and no others.
    APPLICATION_NAME = "bench-gunicorn"

    def __init__(self, url: str, *, logs: Path, workers: int = 2) -> None:
        self.url = url
        self.workers = workers
        self.logs = logs
        self.access_log = logs / "access.log"
        self.server_log = logs / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, ready_within: float = 60.0) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "screening.wsgi:application",
            f"--workers={self.workers}",
            f"--bind={HOST}:{self.port}",
            f"--access-logfile={self.access_log}",
            f"--access-logformat={ACCESS_LOG_FORMAT}",
            "--graceful-timeout=10",
        ]
        with self.server_log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**server_environment(self.url), "PGAPPNAME": self.APPLICATION_NAME},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready(ready_within)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, seconds: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited at start; see {self.server_log}")
            try:
                if Client(self.port).get("/login/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn not ready within {seconds:g} s; see {self.server_log}")

    def cpu_seconds(self, *, sessions: bool = True) -> float:
        """CPU time used so far by gunicorn's workers and (unless told not to) by the PostgreSQL
        sessions of the benchmark's database (other than this process's own): what the server
        spent, however busy the machine is. Linux only (0 elsewhere)."""
        if self.process is None:
            return 0.0
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            sessions_ = [pid for (pid,) in cursor.fetchall()] if sessions else []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return sum(_cpu_seconds(pid) for pid in [*workers, *sessions_])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or not Linux
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the server and drop the database."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


# --- the client -------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    ms: float

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Client:
    """One browser: its own cookies (session, CSRF), one request at a time. Gunicorn's sync
    workers close the connection after each response, so each request opens its own. Given
    more ports (web nodes behind a load balancer without sticky sessions), each request goes
    to the next one in turn."""

    def __init__(self, port: int, *more_ports: int) -> None:
        self.ports = [port, *more_ports]
        self._turn = 0
        self.port = port
        self.origin = f"http://{HOST}:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict[str, Any] | None = None) -> Response:
        self.port = self.ports[self._turn % len(self.ports)]
        self._turn += 1
        self.origin = f"http://{HOST}:{self.port}"
        headers = {"Host": f"{HOST}:{self.port}", "Accept": "text/html", "User-Agent": "bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        started = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(response.status, response.msg, data.decode("utf-8", "replace"), elapsed)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, Any] | None = None) -> Response:
        """A form post as the browser sends it, with the CSRF token of the current cookie."""
        return self.request(
            "POST", path, {**(fields or {}), "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        )

    def login(self, username: str, password: str) -> None:
        expect(self.get("/login/"), 200, "login page")
        response = self.post("/login/", {"username": username, "password": password})
        expect(response, 302, "sign in")
        if response.location.startswith("/login/"):
            raise BenchError("sign in refused")


def expect(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        raise BenchError(f"{what}: HTTP {response.status}, expected {status}")
    return response


def redirect_target(response: Response, prefix: str, what: str) -> str:
    """The UUID in a redirect to `prefix<uuid>/`."""
    expect(response, 302, what)
    location = response.location
    if not location.startswith(prefix):
        raise BenchError(f"{what}: redirected to {location.split('?')[0]!r}, not {prefix}…")
    return location[len(prefix) :].strip("/")


# --- forms on a page, as a browser submits them ------------------------------------------------


@dataclass
class Form:
    """A form as the page drew it: where it posts, and what it would send untouched (hidden
    inputs, checked boxes and radios, selected options, text as filled in)."""

    action: str
    form_id: str
    defaults: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)

    def fields(self, **answers: Any) -> dict[str, Any]:
        """What submitting it sends after typing `answers` (a list answers a multiple choice;
        every name given replaces what the page had)."""
        data: dict[str, Any] = {}
        for name, value in self.defaults:
            if name not in answers:
                data.setdefault(name, []).append(value)
        data.update(answers)
        data.pop("csrfmiddlewaretoken", None)  # `Client.post` sends the current one
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._selected: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attributes}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("id", "")))
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(attrs["name"], attrs.get("value", "on"))
            elif kind not in ("submit", "button", "reset", "file", "image"):
                self._add(attrs["name"], attrs.get("value", ""))
        elif tag == "select":
            self._select, self._selected = attrs.get("name"), None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            self.forms[-1].options.setdefault(self._select, []).append(value)
            if "selected" in attrs or self._selected is None:
                self._selected = value
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self._add(self._textarea, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self._selected is not None:
            self._add(self._select, self._selected)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            name, text = self.forms[-1].defaults[-1]
            self.forms[-1].defaults[-1] = (name, text + data)

    def _add(self, name: str, value: str) -> None:
        self.forms[-1].defaults.append((name, value))


def forms_of(page: str, url: str) -> list[Form]:
    """The forms of the page at `url` (a form without an action posts to its page's URL). An
    action's fragment (`…/sign/#sign-off`, where the browser lands after an error) is not sent
    to the server, so it is dropped, as a browser drops it."""
    parser = _FormParser()
    parser.feed(page)
    for form in parser.forms:
        form.action = (form.action or url).split("#", 1)[0]
    return parser.forms


def form_posting_to(page: str, url: str, action: str, what: str) -> Form:
    for form in forms_of(page, url):
        if form.action == action:
            return form
    raise BenchError(f"{what}: no form posting to {action} on the page")


# --- what the clients type --------------------------------------------------------------------


@dataclass(frozen=True)
class Vignette:
    """A clinical vignette (rules/data/vignettes-v2) as a clinician would enter it in the forms."""

    name: str
    facts: dict[str, Any]
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def sex_at_birth(self) -> str:
        return str(self.facts.get("sex_at_birth", "female"))

    def date_of_birth(self, today: date) -> date:
        """A birthday 40 days ago, `age_years` years back: the vignette's age whatever the
        time zone says today is."""
        then = today - timedelta(days=40)
        return then.replace(year=then.year - int(self.facts["age_years"]), day=min(then.day, 28))

    def patient_fields(self, *, mrn: str, family: str, given: str, today: date) -> dict[str, str]:
        return {
            "mrn": mrn,
            "family_name": family,
            "given_names": given,
            "date_of_birth": self.date_of_birth(today).isoformat(),
            "sex_at_birth": self.sex_at_birth,
        }

    def answers(self) -> dict[str, Any]:
        """The intake form's questions as a clinician fills them in (unrecorded ones as the
        "Not recorded" choice), with the antidepressant trials as formset rows and their count
        (TOTAL_FORMS, as the page's script keeps it)."""
        from patients.services import INTAKE_FIELDS

        answers = dict(self.facts)
        for name, value in (answers.pop("cssrs", None) or {}).items():
            answers[f"cssrs_{name}"] = value
        trials = answers.pop("antidepressant_trials", None)
        if trials is not None:
            answers["antidepressant_trials_recorded"] = "listed" if trials else "none"
        data: dict[str, Any] = {}
        for name in INTAKE_FIELDS:
            value = answers.get(name)
            if name == "diagnoses":
                data[name] = [] if value is None else (list(value) or ["none"])
            elif value is True or value is False:
                data[name] = "yes" if value else "no"
            else:
                data[name] = "" if value is None else str(value)
        rows = trials or []
        data["trials-TOTAL_FORMS"] = str(len(rows))
        for index, row in enumerate(rows):
            for key, value in row.items():
                data[f"trials-{index}-{key}"] = str(value)
        return data

    def intake_fields(self, *, version: int, action: str) -> dict[str, Any]:
        """The intake form's whole POST for a draft without trials, as the page sends it:
        `version`, the button, every answer and the trial formset's management form."""
        return {
            "version": str(version),
            "action": action,
            "trials-INITIAL_FORMS": "0",
            "trials-MIN_NUM_FORMS": "0",
            "trials-MAX_NUM_FORMS": "1000",
            **self.answers(),
        }


def vignettes() -> list[Vignette]:
    found = []
    for path in sorted(VIGNETTES.glob("*.json")):
        document = json.loads(path.read_text())
        found.append(Vignette(document["name"], document["facts"], document.get("expected", {})))
    return found


# --- running clients side by side --------------------------------------------------------------


def in_threads(work: Iterable[Callable[[], Any]]) -> tuple[list[Any], float]:
    """Run each callable in its own thread; their results (in order) and the wall time in s.
    The first exception raised in a thread is raised again here, after all have finished."""
    jobs = list(work)
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    # Daemons: an interrupted benchmark ends without waiting for its clients.
    threads = [
        threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(jobs)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return results, elapsed


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
