"""The audit trail at scale: append throughput with concurrent writers, and verification speed.

    DATABASE_URL=postgres://… python bench/audit.py [--writers 1 4 8] [--seconds 10]
        [--events 1000000] [--keepdb] [--code DIR] [--smoke]

Creates a throwaway PostgreSQL database named after DATABASE_URL's (`<name>_bench_audit`),
migrated by the code under test, and dropped at the end unless --keepdb.

**Append.** For each writer count, that many processes (one connection each) call `audit_record`
in autocommit mode, one event per transaction, as the services do, for --seconds; the rate is
events committed per second, all writers together. Every writer takes its turn on the chain
head, the global serialisation point, so this is the trail's ceiling. When the code has signed
checkpoints, they are configured as in production (a key, a checkpoint file, a checkpoint queued
for the worker after every AUDIT_CHECKPOINT_EVERY_EVENTS events), so their cost is counted.

**Verify.** Tops the trail up to --events (generated in Python with correct hashes and loaded
with COPY; a signed checkpoint every 1000 events, in the table and the file, when the code has
them), then runs `audit_verify()` in a fresh process and reports events/s and that process's
peak RSS, and the CPU time it used (which a shared machine disturbs less than the wall
clock). `--events 0` measures appends only, `--seconds 0` verification only.

`--code DIR` imports the project from DIR (e.g. `git archive` of the parent commit unpacked
there), so that before and after run under the same harness. `--smoke` (run by the test suite)
uses 1 and 2 writers for a second and 2,000 events: it shows the bench works, nothing more.

**Before and after, interleaved.** On a shared machine the load drifts more between two runs
than a small change costs, so `--ab DIR` compares DIR (before) with --code (after) in one run:
each side has its own database and its own writer processes, and the sides take turns,
--seconds at a time, for --rounds rounds (who goes first alternates), so both see the same
load. It prints each side's median rate per writer count and after/before:

    python bench/audit.py --ab /tmp/before --rounds 10 --seconds 3 [--writers 1 4 8]
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/screening"
CHECKPOINT_EVERY = 1000
COPY_BATCH = 50_000
#: What a screening run records, in size and shape (no patient data).
DETAIL = {
    "intake": "0b5e3f8e-7c1a-4c1e-9a57-3d1c2f0e9a11",
    "intake_version": 3,
    "ruleset": {"name": "ketamine", "version": 1},
    "disposition": "eligible_with_review",
    "urgent": False,
    "flags": ["REV-BP-ELEVATED", "REV-BENZODIAZEPINE"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keepdb", action="store_true")
    parser.add_argument(
        "--database-suffix",
        default="_bench_audit",
        help="appended to DATABASE_URL's database name (default _bench_audit)",
    )
    parser.add_argument("--code", type=Path, default=ROOT, help="the project to import")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--ab", type=Path, metavar="DIR", help="compare DIR (before) with --code")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--verify-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--writer-child", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.smoke:
        options.writers, options.seconds, options.events = [1, 2], 1.0, 2000
    if options.ab:
        compare(options)
        return
    setup(options.code)
    if options.verify_child:
        verify_child()
        return
    if options.writer_child is not None:
        writer_child(options.writer_child)
        return
    url = database_url(
        f"{options.database_suffix}_smoke" if options.smoke else options.database_suffix
    )
    if options.keepdb:  # the key and the checkpoint file must outlive the run, as the database
        scratch = ROOT / "bench" / "out" / urlsplit(url).path.lstrip("/")
        scratch.mkdir(parents=True, exist_ok=True)
        run(options, url, scratch)
        return
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as scratch_name:
        run(options, url, Path(scratch_name))


def database_url(suffix: str) -> str:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = DEFAULT_DATABASE_URL
    parts = urlsplit(base)
    return parts._replace(path=f"/{parts.path.lstrip('/')}{suffix}").geturl()


def setup(code: Path) -> None:
    """Import the project from `code` (this folder's bench/http.py must not shadow http)."""
    sys.path[0] = str(code.resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "screening.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ["DEBUG"] = "false"


def has_checkpoints() -> bool:
    try:
        import screening.core.checkpoints  # noqa: F401
    except ImportError:
        return False
    return True


def run(options: argparse.Namespace, url: str, scratch: Path) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not (exists.fetchone() and options.keepdb):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))  # fmt: skip
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    anchors = scratch / "audit"
    os.environ.update(
        AUDIT_SIGNING_KEY_FILE=str(anchors / "signing-key.pem"),
        AUDIT_PUBLIC_KEYS=str(anchors / "public-keys"),
        AUDIT_CHECKPOINT_FILE=str(anchors / "checkpoints.jsonl"),
        AUDIT_CHECKPOINT_EVERY_EVENTS=str(CHECKPOINT_EVERY),
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    checkpoints = has_checkpoints()
    if checkpoints:
        call_command("audit_keygen", "--if-missing", stdout=open(os.devnull, "w"))  # noqa: SIM115
    code = "this checkout" if options.code.resolve() == ROOT else str(options.code)
    print(f"audit bench: code from {code}; signed checkpoints: {'yes' if checkpoints else 'no'}")
    try:
        for writers in options.writers if options.seconds > 0 else []:
            connections.close_all()  # forked writers must not share the parent's connection
            rate, total = append_rate(writers, options.seconds)
            plural = "s" if writers != 1 else " "
            print(f"append   {writers} writer{plural}  {rate:9,.0f} events/s  ({total:,} events)")
        if options.events:
            top_up(options.events, with_checkpoints=checkpoints)
            connections.close_all()
            verify(options.code, options.events)
    finally:
        connections.close_all()
        if not options.keepdb:
            with psycopg.connect(maintenance, autocommit=True) as connection:
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))  # fmt: skip


# --- append ------------------------------------------------------------------------------------


def append_rate(writers: int, seconds: float) -> tuple[float, int]:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    counts = context.Queue()
    processes = [
        context.Process(target=writer, args=(n, seconds, start, counts)) for n in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    total = sum(counts.get(timeout=seconds + 120) for _ in processes)
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a writer failed (exit status {process.exitcode})")
    return total / elapsed, total


def writer(number: int, seconds: float, start: Any, counts: Any) -> None:
    from django.db import connection

    from screening.core.audit import audit_record

    connection.ensure_connection()
    start.wait()
    deadline = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < deadline:
        audit_record(actor=None, action="bench.append", detail={**DETAIL, "writer": number})
        count += 1
    connection.close()
    counts.put(count)


# --- before and after, interleaved -------------------------------------------------------------


def compare(options: argparse.Namespace) -> None:
    import statistics

    sides = {"before": options.ab.resolve(), "after": options.code.resolve()}
    with tempfile.TemporaryDirectory(prefix="bench-audit-ab-") as scratch:
        environments = {
            side: prepare_side(side, code, Path(scratch) / side) for side, code in sides.items()
        }
        print(f"audit bench A/B: before {sides['before']}, after {sides['after']}")
        print(f"{options.rounds} rounds of {options.seconds:g} s per side, sides alternating")
        for writers in options.writers:
            rates: dict[str, list[float]] = {side: [] for side in sides}
            pools = {
                side: [
                    subprocess.Popen(
                        [sys.executable, __file__, "--code", str(code), "--writer-child", str(n)],
                        env=environments[side],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for n in range(writers)
                ]
                for side, code in sides.items()
            }
            try:
                for pool in pools.values():
                    for process in pool:
                        assert process.stdout is not None
                        if process.stdout.readline().strip() != "ready":
                            raise SystemExit("a writer did not start")
                for round_number in range(options.rounds):
                    order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
                    for side in order:
                        rates[side].append(slice_rate(pools[side], options.seconds))
            finally:
                for pool in pools.values():
                    for process in pool:
                        if process.stdin:
                            process.stdin.close()
                        process.wait(timeout=60)
            before, after = (statistics.median(rates[side]) for side in ("before", "after"))
            plural = "s" if writers != 1 else " "
            print(
                f"append   {writers} writer{plural}  before {before:7,.0f}  after {after:7,.0f} "
                f"events/s (medians)  after/before {after / before:.3f}"
            )
            for side in sides:
                print(f"         {side:6} rounds: " + " ".join(f"{r:.0f}" for r in rates[side]))
        for environment in environments.values():
            drop_database(environment["DATABASE_URL"])


def prepare_side(side: str, code: Path, scratch: Path) -> dict[str, str]:
    """A fresh database for one side, migrated by its own code; checkpoints configured."""
    import psycopg
    from psycopg import sql

    url = database_url(f"_bench_audit_{side}")
    drop_database(url)
    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        name = urlsplit(url).path.lstrip("/")
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "screening.settings",
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "AUDIT_SIGNING_KEY_FILE": str(scratch / "signing-key.pem"),
        "AUDIT_PUBLIC_KEYS": str(scratch / "public-keys"),
        "AUDIT_CHECKPOINT_FILE": str(scratch / "checkpoints.jsonl"),
        "AUDIT_CHECKPOINT_EVERY_EVENTS": str(CHECKPOINT_EVERY),
    }
    manage = [sys.executable, str(code / "manage.py")]
    if (code / "screening" / "core" / "management" / "commands" / "audit_keygen.py").exists():
        subprocess.run(
            [*manage, "audit_keygen", "--if-missing"],
            env=environment,
            check=True,
            cwd=code,
            stdout=subprocess.DEVNULL,
        )
    subprocess.run([*manage, "migrate", "-v0"], env=environment, check=True, cwd=code)
    return environment


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    maintenance = urlsplit(url)._replace(path="/postgres").geturl()
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def slice_rate(pool: list[subprocess.Popen[str]], seconds: float) -> float:
    """Let every writer of `pool` append for `seconds`; the events per second they committed."""
    for process in pool:
        assert process.stdin is not None
        process.stdin.write(f"{seconds}\n")
        process.stdin.flush()
    total = 0
    for process in pool:
        assert process.stdout is not None
        total += int(process.stdout.readline())
    return total / seconds


def writer_child(number: int) -> None:
    """A writer that appends for as long as each line of its input says, and answers with how
    many events it committed."""
    import django

    django.setup()
    from django.db import connection

    from screening.core.audit import audit_record

    connection.ensure_connection()
    print("ready", flush=True)
    for line in sys.stdin:
        deadline = time.perf_counter() + float(line)
        count = 0
        while time.perf_counter() < deadline:
            audit_record(actor=None, action="bench.append", detail={**DETAIL, "writer": number})
            count += 1
        print(count, flush=True)


# --- a long trail, loaded fast ------------------------------------------------------------------


def top_up(target: int, *, with_checkpoints: bool) -> None:
    """Append generated events up to `target` (correct hashes, COPY), with a signed checkpoint
    every CHECKPOINT_EVERY events when the code has checkpoints."""
    from django.db import connection

    from screening.core.audit import event_hash
    from screening.core.models import GENESIS_HASH, AuditChainHead

    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    seq, prev_hash = head or (0, GENESIS_HASH)
    if seq >= target:
        return
    started = time.perf_counter()
    moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    signer = Signer() if with_checkpoints else None
    columns = (
        "seq, occurred_at, actor_repr, action, object_type, object_id, detail, prev_hash, hash"
    )
    while seq < target:
        batch_end = min(target, seq + COPY_BATCH)
        rows = []
        for n in range(seq + 1, batch_end + 1):
            event = SimpleNamespace(
                seq=n,
                occurred_at=moment + datetime.timedelta(milliseconds=n),
                actor_id=None,
                actor_repr="",
                action="screening.run",
                object_type="screening.screening",
                object_id=f"00000000-0000-4000-8000-{n:012d}",
                detail={**DETAIL, "n": n},
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = event_hash(event)
            rows.append(event)
            if signer and n % CHECKPOINT_EVERY == 0:
                signer.add(n, event.hash, event.occurred_at)
        seq = batch_end
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY screening_auditevent ({columns}) FROM STDIN") as copy:
                for event in rows:
                    copy.write_row((
                        event.seq, event.occurred_at, "", event.action, event.object_type,
                        event.object_id, json.dumps(event.detail), event.prev_hash, event.hash,
                    ))  # fmt: skip
            cursor.execute(
                "INSERT INTO screening_auditchainhead (id, last_seq, last_hash) VALUES (1, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq,"
                " last_hash = excluded.last_hash",
                [seq, prev_hash],
            )
        if signer:
            signer.flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE screening_auditevent")
    print(f"loaded   the trail to {target:,} events in {time.perf_counter() - started:.1f} s")


class Signer:
    """Checkpoints of generated events, signed as `audit_checkpoint` signs them, stored in the
    table and appended to the checkpoint file."""

    def __init__(self) -> None:
        from screening.core.checkpoints import signing_key, statement_of
        from screening.core.models import AuditCheckpoint

        self.key = signing_key()
        last = AuditCheckpoint.objects.order_by("-number").first()
        self.number = last.number if last else 0
        self.prev = statement_of(last).digest() if last else "0" * 64
        self.pending: list[Any] = []

    def add(self, seq: int, head: str, at: datetime.datetime) -> None:
        import base64

        from screening.core.checkpoints import Statement, key_id
        from screening.core.models import AuditCheckpoint

        self.number += 1
        statement = Statement(
            number=self.number,
            seq=seq,
            head=head,
            at=at.isoformat(timespec="microseconds"),
            key=key_id(self.key.public_key()),
            prev=self.prev,
        )
        self.prev = statement.digest()
        self.pending.append(
            AuditCheckpoint(
                number=statement.number,
                seq=seq,
                head_hash=head,
                created_at=at,
                key_id=statement.key,
                prev_digest=statement.prev,
                signature=base64.b64encode(self.key.sign(statement.canonical())).decode(),
            )
        )

    def flush(self) -> None:
        from screening.core.checkpoints import publish_checkpoints
        from screening.core.models import AuditCheckpoint

        AuditCheckpoint.objects.bulk_create(self.pending)
        self.pending = []
        publish_checkpoints()


# --- verify ------------------------------------------------------------------------------------


def verify(code: Path, events: int) -> None:
    child = subprocess.run(
        [sys.executable, __file__, "--verify-child", "--code", str(code)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if child.returncode != 0:
        raise SystemExit(f"verification failed:\n{child.stdout}\n{child.stderr}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    rate = result["events"] / result["seconds"]
    print(
        f"verify   {result['events']:,} events in {result['seconds']:.1f} s  {rate:9,.0f} "
        f"events/s  (CPU {result['cpu_seconds']:.1f} s)  peak RSS {result['peak_rss_mb']:.0f} MB (after setup "
        f"{result['setup_rss_mb']:.0f} MB)  checkpoints {result['checkpoints']}  "
        f"{'intact' if result['ok'] else 'BROKEN: ' + result['reason']}"
    )
    if result["events"] < events:
        raise SystemExit(f"verified {result['events']} events, expected at least {events}")


def peak_rss_mb() -> float:
    """This process's peak resident set size. Linux's VmHWM, which starts afresh at exec;
    getrusage's ru_maxrss would still count the parent this process was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verify_child() -> None:
    """In a fresh process: verify the whole trail once; print one JSON line."""
    import django

    django.setup()
    from django.db import connection

    from screening.core.audit import audit_verify

    connection.ensure_connection()
    setup_rss = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result = audit_verify()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    peak_rss = peak_rss_mb()
    print(
        json.dumps(
            {
                "events": result.events_checked,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "ok": result.ok,
                "reason": result.reason,
                "checkpoints": getattr(result, "checkpoints_checked", 0),
                "setup_rss_mb": setup_rss,
                "peak_rss_mb": peak_rss,
            }
        )
    )


if __name__ == "__main__":
    main()
