"""Soak: the whole clinician journey from several clients at once, then a check of everything.

    .venv/bin/python bench/soak.py [--minutes M] [--clients C] [--workers W] [--keep-db]
        [--logs DIR] [--faults] [--smoke]

Creates the PostgreSQL database `screening_soak` next to the one DATABASE_URL names (default
postgres://postgres@127.0.0.1:5432/…; dropped and created afresh, reused with --keep-db), and
starts gunicorn (2 workers, DEBUG off, the bench settings) on a free port of 127.0.0.1. C
clinicians (default 4) sign in once each and, for M minutes (default 5; 0.5 for a quick try),
each repeats the journey a browser makes, following every redirect and submitting the forms the
pages draw (their hidden fields included):

register a patient (a new MRN) → New intake → fill it in from a clinical vignette (every third
journey saves a draft first) → Run screening → the result page → acknowledge each review and
urgent flag, override each stop flag with a coded and a written reason → Sign → (every fourth
journey) Amend.

The vignettes (rules/data/vignettes) take turns, so results are eligible, contraindicated,
incomplete or need review, with and without stop, urgent and review flags. When the time is up
gunicorn is stopped and every journey is checked in the database: the patient, the intake, the
screening with its facts, result and rule text, the disposition the page showed (and the
vignette expects), each flag reviewed as it was, signed by its clinician, the amendment draft,
and the audit events of every step; then `manage.py verify_audit` must pass. The logs must hold
no MRN or patient name and no server error.

With --faults, a thread terminates the gunicorn workers' PostgreSQL connections
(`pg_terminate_backend`, what a failover, a pooler restart or a network blip does) every 3 s for
the first 65 s (or the whole run if shorter). It reports the connections killed, the journeys
broken off, the 5xx answers (503 "try again" and 500 apart) and the lost; the run passes when
nothing is lost, no answer is a 500, at most one journey broke off per four connections killed,
the logs show no patient identifier nor traceback, and verify_audit passes.

Errors are unexpected answers (status, redirect, page) and exceptions; lost are journeys whose
stored record is missing or differs from what the server confirmed. The last line is
`soak: N journeys, E errors, L lost`; the exit status is non-zero when E or L is, when
verify_audit fails, or when the logs show patient identifiers or server errors. The database
is dropped at the end when everything passed (kept with --keep-db, or to investigate).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder (which holds bench/http.py) must not stand in for the
# standard library's http.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import string  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from typing import Any  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import BenchError, Client, Response, Vignette, expect  # noqa: E402

DATABASE = harness.sibling_database("soak")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FLAG_ACTION = re.compile(rf"^/screenings/{UUID}/flags/([^/]+)/(acknowledge|override)/$")
# The badge carries the stored code beside the words the clinician reads.
DISPOSITION = re.compile(r'data-testid="disposition" data-disposition="(\w+)"')
REASON = "Assessed in clinic; soak test."
AMEND_REASON = "Correcting an answer; soak test."


@dataclass
class Journey:
    """What the server confirmed of one journey, step by step (None: not reached)."""

    client: int
    username: str
    vignette: Vignette
    mrn: str
    patient: str | None = None
    intake: str | None = None
    drafts_saved: int = 0
    screening: str | None = None
    disposition: str | None = None
    reviews: dict[str, str] = field(default_factory=dict)  # rule ID → acknowledge / override
    signed: bool = False
    amendment: str | None = None
    complete: bool = False


@dataclass(frozen=True)
class Page:
    url: str
    body: str


@dataclass
class Tally:
    journeys: list[Journey] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors[message] += 1


class Clinician:
    """One signed-in browser going through journeys; it follows redirects as a browser does."""

    def __init__(self, number: int, port: int, username: str, password: str, run: str) -> None:
        self.number = number
        self.client = Client(port)
        self.username = username
        self.password = password
        self.run = run
        self.count = 0
        self.requests = 0

    def login(self) -> None:
        self.client.login(self.username, self.password)
        self.requests += 3

    def get(self, path: str, what: str) -> Page:
        self.requests += 1
        return Page(path, expect(self.client.get(path), 200, what).body)

    def submit(self, page: Page, target: str, what: str, **answers: Any) -> Response:
        """Fill in and submit the form of `page` that posts to `target`."""
        form = harness.form_posting_to(page.body, page.url, target, what)
        self.requests += 1
        return self.client.post(target, form.fields(**answers))

    def follow(self, response: Response, prefix: str, what: str) -> tuple[str, Page]:
        """The UUID a form's redirect names (`prefix<uuid>/…`) and the page it leads to."""
        target = harness.redirect_target(response, prefix, what)
        uuid = target.split("/")[0]
        if not re.fullmatch(UUID, uuid):
            raise BenchError(f"{what}: redirected to an unexpected place")
        return uuid, self.get(response.location, f"{what} (page)")

    def journey(self, vignette: Vignette, today: date) -> Journey:
        n = self.count
        self.count += 1
        token = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
        trip = Journey(self.number, self.username, vignette, f"SK{self.run}{self.number}{n:05d}")
        self.trip = trip
        page = self.get("/patients/new/", "registration page")
        registration = vignette.patient_fields(
            mrn=trip.mrn, family=f"Soakfam{token}", given=f"Soakgiven{token}", today=today
        )
        response = self.submit(page, "/patients/new/", "register", **registration)
        trip.patient, page = self.follow(response, "/patients/", "register")

        response = self.submit(page, f"/patients/{trip.patient}/intakes/new/", "new intake")
        trip.intake, page = self.follow(response, "/intakes/", "new intake")
        edit = f"/intakes/{trip.intake}/"
        if n % 3 == 0:
            response = self.submit(page, edit, "save draft", **vignette.answers(), action="save")
            _, page = self.follow(response, "/intakes/", "save draft")
            trip.drafts_saved += 1
        response = self.submit(page, edit, "run screening", **vignette.answers(), action="run")
        trip.screening, page = self.follow(response, "/screenings/", "run screening")
        shown = DISPOSITION.search(page.body)
        if shown is None:
            raise BenchError("result page: no disposition")
        trip.disposition = shown.group(1)

        result = f"/screenings/{trip.screening}/"
        for form in harness.forms_of(page.body, page.url):
            flag = FLAG_ACTION.match(form.action)
            if flag is None:
                continue
            rule_id, verb = flag.groups()
            answers = {"reason": REASON}
            if verb == "override":
                answers["reason_code"] = next(v for v in form.options["reason_code"] if v)
            response = self.submit(page, form.action, f"{verb} a flag", **answers)
            _, page = self.follow(response, "/screenings/", f"{verb} a flag")
            if f'data-testid="review-{rule_id}"' not in page.body:
                raise BenchError(f"{verb} a flag: the review is not on the result page")
            trip.reviews[rule_id] = verb

        response = self.submit(page, f"{result}sign/", "sign")
        _, page = self.follow(response, "/screenings/", "sign")
        if 'data-testid="signature"' not in page.body:
            raise BenchError("sign: the result page shows no signature")
        trip.signed = True

        if n % 4 == 3:
            response = self.submit(page, f"{result}amend/", "amend", reason=AMEND_REASON)
            trip.amendment, _ = self.follow(response, "/intakes/", "amend")
        trip.complete = True
        return trip

    def loop(self, cases: list[Vignette], deadline: float, tally: Tally) -> None:
        from django.utils import timezone

        today = timezone.localdate()
        turn = self.number
        while time.monotonic() < deadline:
            vignette = cases[turn % len(cases)]
            turn += 1
            try:
                self.journey(vignette, today)
            except (BenchError, OSError) as error:
                tally.error(str(error))
                if "/login/" in str(error):  # signed out: sign in again and carry on
                    self.login()
            except Exception as error:  # a broken page parse, say: counted, and on to the next
                where = traceback.extract_tb(error.__traceback__)[-1]
                tally.error(f"{type(error).__name__} at {Path(where.filename).name}:{where.lineno}")
            with tally.lock:
                tally.journeys.append(self.trip)


# --- checking what was stored -------------------------------------------------------------------


def lost_journeys(journeys: list[Journey]) -> collections.Counter[str]:
    """Why each journey's stored record falls short of what the server confirmed (by reason)."""
    from patients.models import Intake, Patient
    from screening.core.models import AuditEvent
    from screening.models import FlagReview, Screening, ScreeningFlag

    events: collections.Counter[tuple[str, str]] = collections.Counter(
        AuditEvent.objects.values_list("object_id", "action").iterator()
    )
    reviewed = collections.defaultdict(dict)
    for screening_uuid, rule_id, kind, user in FlagReview.objects.values_list(
        "screening__uuid", "rule_id", "kind", "reviewed_by__username"
    ).iterator():
        reviewed[str(screening_uuid)][rule_id] = (kind, user)
    flags = collections.defaultdict(dict)
    for screening_uuid, rule_id, review_kind in ScreeningFlag.objects.values_list(
        "screening__uuid", "rule_id", "review_kind"
    ).iterator():
        flags[str(screening_uuid)][rule_id] = review_kind
    patients = {str(u): mrn for u, mrn in Patient.objects.values_list("uuid", "mrn")}
    intakes = {
        str(u): (status, str(amends) if amends else None)
        for u, status, amends in Intake.objects.values_list("uuid", "status", "amends__uuid")
    }
    screenings = {
        str(s.uuid): s for s in Screening.objects.select_related("run_by", "signed_by").iterator()
    }
    lost: collections.Counter[str] = collections.Counter()
    for trip in journeys:
        problem = _problem(trip, patients, intakes, screenings, reviewed, flags, events)
        if problem:
            lost[problem] += 1
    return lost


def _problem(
    trip: Journey,
    patients: dict[str, str],
    intakes: dict[str, tuple[str, str | None]],
    screenings: dict[str, Any],
    reviewed: dict[str, dict[str, tuple[str, str]]],
    flags: dict[str, dict[str, str]],
    events: collections.Counter[tuple[str, str]],
) -> str:
    """The first way the stored journey differs from what the server confirmed ("" if none)."""
    if trip.patient is None:
        return ""
    if patients.get(trip.patient) != trip.mrn or not events[trip.patient, "patient.register"]:
        return "patient missing, or its registration event"
    if trip.intake is None:
        return ""
    if trip.intake not in intakes or not events[trip.intake, "intake.create"]:
        return "intake missing, or its creation event"
    if trip.screening is None:
        return ""
    saves = events[trip.intake, "intake.save"]
    if saves != trip.drafts_saved + 1:
        return f"intake saved {saves} times in the audit trail, not {trip.drafts_saved + 1}"
    screening = screenings.get(trip.screening)
    if screening is None or not (screening.facts and screening.result and screening.rule_texts):
        return "screening missing, or its facts, result or rule text"
    if screening.run_by.username != trip.username:
        return "screening run by someone else"
    if not events[trip.screening, "screening.run"] or not events[trip.screening, "screening.view"]:
        return "screening's run or view events missing"
    expected = trip.vignette.expected.get("disposition", trip.disposition)
    if not screening.disposition == trip.disposition == expected:
        return "disposition differs from the page's or the vignette's"
    to_review = {
        f["rule"]: "override" if f["severity"] == "stop" else "acknowledge"
        for f in screening.result["flags"]
        if f["severity"] in ("stop", "urgent", "review")
    }
    if trip.signed and to_review != trip.reviews:
        return "flags on the page differ from the stored result"
    kinds = {"acknowledge": "acknowledged", "override": "overridden"}
    for rule_id, verb in trip.reviews.items():
        if reviewed[trip.screening].get(rule_id) != (kinds[verb], trip.username):
            return "flag review missing or different"
        if flags[trip.screening].get(rule_id) != kinds[verb]:
            return "flag index not marked reviewed"
        if not events[trip.screening, f"flag.{kinds[verb]}"]:
            return "flag review event missing"
    if set(flags[trip.screening]) != {f["rule"] for f in screening.result["flags"]}:
        return "flag index differs from the result's flags"
    if trip.signed:
        signed_by = screening.signed_by.username if screening.signed_by else None
        if screening.status != "signed" or signed_by != trip.username:
            return "screening not signed by its clinician"
        if intakes[trip.intake][0] != "locked" or not events[trip.screening, "screening.sign"]:
            return "intake not locked, or sign event missing"
    if trip.amendment is not None:
        if intakes.get(trip.amendment) != ("draft", trip.screening):
            return "amendment draft missing"
        if not (
            events[trip.screening, "screening.amend"] and events[trip.amendment, "intake.create"]
        ):
            return "amendment events missing"
    return ""


def scan_logs(server: harness.Server, run: str) -> tuple[int, int, int]:
    """(patient identifiers, 5xx responses, tracebacks) in gunicorn's logs."""
    identifiers = re.compile(rf"SK{run}|Soakfam|Soakgiven")
    access = server.access_log.read_text(errors="replace")
    messages = server.server_log.read_text(errors="replace")
    leaks = len(identifiers.findall(access)) + len(identifiers.findall(messages))
    server_errors = sum(
        1 for line in access.splitlines() if re.search(r'" 5\d\d ', line) is not None
    )
    return leaks, server_errors, messages.count("Traceback")


class Faults:
    """Terminate the gunicorn workers' connections every `every` s for `seconds` s."""

    def __init__(self, *, every: float = 3.0, seconds: float = 65.0) -> None:
        self.every = every
        self.seconds = seconds
        self.kills = 0
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Faults:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg
        from django.db import connection

        params = {
            k: v
            for k, v in connection.get_connection_params().items()
            if k not in ("cursor_factory", "context", "prepare_threshold")
        }
        deadline = time.monotonic() + self.seconds
        with psycopg.connect(**params, autocommit=True) as killer:
            while not self._stop.wait(self.every) and time.monotonic() < deadline:
                killed = killer.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s AND pid <> pg_backend_pid()",
                    [harness.Server.APPLICATION_NAME],
                ).fetchone()
                self.kills += int(killed[0]) if killed else 0
                self.rounds += 1


def status_counts(server: harness.Server) -> collections.Counter[str]:
    """Responses by status in gunicorn's access log."""
    found = re.findall(r'" (\d{3}) ', server.access_log.read_text(errors="replace"))
    return collections.Counter(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=4, help="clinicians at a time")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep-db", action="store_true", help=f"reuse and keep {DATABASE}")
    parser.add_argument("--logs", type=Path, help="gunicorn's logs (default: a new temp dir)")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="terminate the workers' database connections every 3 s for 65 s",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny data: proves the bench still runs (the test suite runs it)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.minutes, args.clients, args.workers = 0.1, 2, 1
    if args.minutes <= 0 or args.clients < 1:
        parser.error("--minutes must be positive and --clients at least 1")

    harness.stop_on_sigterm()
    url = harness.database_url(DATABASE)
    harness.prepare_database(url, keep=args.keep_db)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="bench-soak-"))
    password = secrets.token_urlsafe(16)
    run = secrets.token_hex(3).upper()
    usernames = harness.clinicians(args.clients, "soak", password)
    cases = harness.vignettes()
    tally = Tally()
    passed = False
    try:
        with harness.Server(url, logs=logs, workers=args.workers) as server:
            print(
                f"soak: {args.clients} clinicians for {args.minutes:g} min against gunicorn "
                f"({args.workers} workers) on {harness.HOST}:{server.port}, database {DATABASE}; "
                f"logs in {logs}"
            )
            clinicians = [
                Clinician(n, server.port, name, password, run) for n, name in enumerate(usernames)
            ]
            for clinician in clinicians:
                clinician.login()
            deadline = time.monotonic() + args.minutes * 60
            faults = Faults(seconds=min(65.0, args.minutes * 60)) if args.faults else None
            with faults or contextlib.nullcontext():
                _, elapsed = harness.in_threads(
                    (lambda c=c: c.loop(cases, deadline, tally)) for c in clinicians
                )
            tally.requests = sum(c.requests for c in clinicians)
        done = [trip for trip in tally.journeys if trip.complete]
        amended = sum(1 for trip in done if trip.amendment)
        flagged = sum(1 for trip in done if trip.reviews)
        print(
            f"journeys: {len(done)} complete ({flagged} with flags reviewed, {amended} amended), "
            f"{len(tally.journeys) - len(done)} broken off; "
            f"{tally.requests} requests in {elapsed:.0f} s ({tally.requests / elapsed:.1f}/s)"
        )
        for message, count in tally.errors.most_common():
            print(f"  error ×{count}: {message}")
        lost = lost_journeys(tally.journeys)
        for reason, count in lost.most_common():
            print(f"  lost ×{count}: {reason}")
        intact, said = harness.verify_audit(url)
        print(f"verify_audit: {said}")
        leaks, server_errors, tracebacks = scan_logs(server, run)
        print(
            f"logs: {leaks} patient identifiers, {server_errors} 5xx responses, "
            f"{tracebacks} tracebacks"
        )
        errors, lost_count = sum(tally.errors.values()), sum(lost.values())
        if faults is None:
            passed = intact and not (errors or lost_count or leaks or server_errors or tracebacks)
        else:
            statuses = status_counts(server)
            broken = len(tally.journeys) - len(done)
            http_500 = sum(
                n for status, n in statuses.items() if status.startswith("5") and status != "503"
            )
            print(
                f"faults: {faults.kills} connections killed in {faults.rounds} rounds, "
                f"{broken} journeys broken off, 5xx: {statuses['503']} × 503 and "
                f"{http_500} × other, {statuses['400']} × 400, {lost_count} lost "
                f"(target: 0 lost, 0 HTTP 500, at most {faults.kills // 4} broken)"
            )
            passed = intact and not (lost_count or leaks or http_500 or tracebacks)
            # The broken-journey budget is a ratio over a real run: a smoke run's few seconds
            # kill too few connections for it to mean anything, so there it is only reported.
            # Lost work, a 500, a traceback or a broken audit chain fail any run.
            passed = passed and (args.smoke or broken * 4 <= faults.kills)
        print(f"soak: {len(done)} journeys, {errors} errors, {lost_count} lost")
    finally:
        if passed and not args.keep_db:
            harness.drop_database(url)
        elif not passed:
            print(f"(database {DATABASE} kept for investigation)", file=sys.stderr)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
