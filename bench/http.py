"""Over HTTP: the intake submit and the result page against the framework floor.

    .venv/bin/python bench/http.py [--requests N] [--concurrency C] [--rounds R] [--workers W]
        [--nodes K] [--keep-db] [--logs DIR] [--smoke]

Creates the PostgreSQL database `screening_bench_http` next to the one DATABASE_URL names
(default postgres://postgres@127.0.0.1:5432/…; dropped and created afresh, reused with
--keep-db, dropped at the end unless --keep-db), migrates it, and starts gunicorn (2 workers,
DEBUG off, the bench settings) on a free port of 127.0.0.1. C clinicians sign in once each
(one client thread each); then, with the same client code and C clients at a time, it times N
requests of each:

- floor: a bench-only page (`bench/floor/`, mounted by `bench.settings` only) that pays what
  every signed-in page pays (session, CSRF, role check, session renewal), one INSERT, one
  SELECT and a small template;
- submit: the intake form's "Run screening" POST as a browser sends it (CSRF token, the intake's
  version, every answer, the trial formset), on a draft intake made beforehand for each request
  (answers from the clinical vignettes in turn), which saves the intake, runs and stores the
  screening and redirects to its result;
- result page: the GET of those results, each by the clinician who ran it.

Each endpoint is warmed up (2 requests per client), then the three take turns, a fifth of the
requests at a time (--rounds), so that a change in the machine's load during the run touches
them alike. Prints requests/s, p50 and p95 for each, and the server's CPU time per request
(gunicorn's workers and their PostgreSQL sessions, from /proc: less disturbed by a busy machine
than the latencies are); the last line is `http: submit p95 / floor p95 = R` (target R ≤ 3).

With --nodes K, K gunicorn instances (W workers each, on K ports, one database) stand for K web
nodes behind a load balancer without sticky sessions: each client signs in on one node and
sends each next request to the next node in turn, so sessions, CSRF tokens and sign-in must
hold across nodes. After the run `manage.py verify_audit` must pass (the audit chain written
from every node); the exit status is non-zero otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: its own folder must not stand in for the standard library's http.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import Client, Response, Vignette, expect, redirect_target  # noqa: E402

DATABASE = harness.sibling_database("bench_http")
WARM_UP = 2


@dataclass
class Bench:
    """One signed-in client and its work: draft intakes to submit, screenings it ran."""

    client: Client
    drafts: list[tuple[str, Vignette]]
    screenings: list[str] = field(default_factory=list)


def draft_intakes(
    usernames: list[str], per_client: int, run: str
) -> list[list[tuple[str, Vignette]]]:
    """`per_client` patients with an empty draft intake for each client, made directly in the
    database (setup, not measured); each paired with the vignette it will be filled with."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from patients.models import Intake, Patient

    today = timezone.localdate()
    cases = itertools.cycle(harness.vignettes())
    users = [User.objects.get(username=name) for name in usernames]
    planned = [(user, next(cases)) for _ in range(per_client) for user in users]
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"BH-{run}-{n}",
            family_name="Bench",
            given_names=f"Http {n}",
            date_of_birth=vignette.date_of_birth(today),
            sex_at_birth=vignette.sex_at_birth,
            created_by=user,
        )
        for n, (user, vignette) in enumerate(planned)
    )
    intakes = Intake.objects.bulk_create(
        Intake(patient=patient, created_by=user, updated_by=user)
        for patient, (user, _) in zip(patients, planned, strict=True)
    )
    drafts: list[list[tuple[str, Vignette]]] = [[] for _ in users]
    for n, (intake, (_, vignette)) in enumerate(zip(intakes, planned, strict=True)):
        drafts[n % len(users)].append((str(intake.uuid), vignette))
    return drafts


def floor(bench: Bench, n: int) -> Response:
    return expect(bench.client.post("/bench/floor/"), 200, "floor")


def submit(bench: Bench, n: int) -> Response:
    intake, vignette = bench.drafts.pop()
    response = bench.client.post(
        f"/intakes/{intake}/", vignette.intake_fields(version=1, action="run")
    )
    bench.screenings.append(redirect_target(response, "/screenings/", f"submit {vignette.name}"))
    return response


def result_page(bench: Bench, n: int) -> Response:
    screening = bench.screenings[n % len(bench.screenings)]
    return expect(bench.client.get(f"/screenings/{screening}/"), 200, "result page")


@dataclass
class Endpoint:
    label: str
    step: Callable[[Bench, int], Response]
    samples: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0
    done: int = 0

    def run(self, server: Nodes, benches: list[Bench], requests: int) -> None:
        """`requests` more requests, spread over the clients, all at once; timed."""
        cpu = server.cpu_seconds()
        shares = [
            range(self.done + i, self.done + requests, len(benches)) for i in range(len(benches))
        ]
        results, elapsed = harness.in_threads(
            (lambda b=b, share=share: [self.step(b, n // len(benches)).ms for n in share])
            for b, share in zip(benches, shares, strict=True)
        )
        self.samples += [ms for per_client in results for ms in per_client]
        self.seconds += elapsed
        self.cpu += server.cpu_seconds() - cpu
        self.done += requests

    def report(self) -> float:
        p50, p95 = harness.percentile(self.samples, 0.5), harness.percentile(self.samples, 0.95)
        print(
            f"{self.label:<12} {len(self.samples):>5} requests  "
            f"{len(self.samples) / self.seconds:7.1f} req/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"(server CPU {self.cpu / len(self.samples) * 1000:5.1f} ms/request)"
        )
        return p95


class Nodes:
    """Web nodes side by side: the CPU of all their workers and of the database sessions."""

    def __init__(self, servers: list[harness.Server]) -> None:
        self.servers = servers

    def cpu_seconds(self) -> float:
        first, *others = self.servers
        return first.cpu_seconds() + sum(s.cpu_seconds(sessions=False) for s in others)


def measure(server: Nodes, benches: list[Bench], requests: int, rounds: int) -> dict[str, float]:
    """Warm each endpoint up, then time them in turn, `rounds` times (so that a change in the
    machine's load during the run touches all three alike); print; p95 by endpoint."""
    endpoints = [
        Endpoint("floor", floor),
        Endpoint("submit", submit),
        Endpoint("result page", result_page),
    ]
    for endpoint in endpoints:
        harness.in_threads(
            (lambda b=b, e=endpoint: [e.step(b, n) for n in range(WARM_UP)]) for b in benches
        )
    for turn in range(rounds):
        share = requests * (turn + 1) // rounds - requests * turn // rounds
        for endpoint in endpoints:
            endpoint.run(server, benches, share)
    return {endpoint.label: endpoint.report() for endpoint in endpoints}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=4, help="clients at a time")
    parser.add_argument(
        "--rounds", type=int, default=5, help="the endpoints take turns this many times"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (per node)")
    parser.add_argument("--nodes", type=int, default=1, help="gunicorn instances (web nodes)")
    parser.add_argument("--keep-db", action="store_true", help=f"reuse and keep {DATABASE}")
    parser.add_argument("--logs", type=Path, help="gunicorn's logs (default: a new temp dir)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny data: proves the bench still runs (the test suite runs it)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.concurrency, args.rounds, args.workers = 6, 2, 1, 1
    if min(args.requests, args.concurrency, args.rounds, args.nodes) < 1 or (
        args.rounds > args.requests
    ):
        parser.error("--requests, --concurrency and --rounds must be at least 1, rounds ≤ requests")

    harness.stop_on_sigterm()
    url = harness.database_url(DATABASE)
    harness.prepare_database(url, keep=args.keep_db)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="bench-http-"))
    try:
        password = secrets.token_urlsafe(16)
        run = secrets.token_hex(3)
        usernames = harness.clinicians(args.concurrency, "bench-http", password)
        per_client = WARM_UP + -(-args.requests // args.concurrency)
        drafts = draft_intakes(usernames, per_client, run)
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(
                    harness.Server(url, logs=logs / f"node-{n}", workers=args.workers)
                )
                for n in range(args.nodes)
            ]
            ports = [server.port for server in servers]
            # Client i signs in on node i mod K, then goes round the nodes.
            benches = [
                Bench(Client(*ports[i % len(ports) :], *ports[: i % len(ports)]), mine)
                for i, mine in enumerate(drafts)
            ]
            for bench, username in zip(benches, usernames, strict=True):
                bench.client.login(username, password)
            server = Nodes(servers)
            print(
                f"machine: {platform.machine()} {platform.processor() or ''} "
                f"python {platform.python_version()}"
            )
            print(
                f"{args.nodes} × gunicorn {args.workers} workers on {harness.HOST}:"
                f"{','.join(map(str, ports))}, database {DATABASE}; {args.concurrency} clients; "
                f"logs in {logs}"
            )
            p95 = measure(server, benches, args.requests, args.rounds)
        intact, said = harness.verify_audit(url)
        print(f"verify_audit: {said}")
        print(f"http: submit p95 / floor p95 = {p95['submit'] / p95['floor']:.2f}")
        if not intact:
            sys.exit(1)
    finally:
        if not args.keep_db:
            harness.drop_database(url)


if __name__ == "__main__":
    main()
