"""Reviewers' list at scale: first page and filtered pages at 10,000 and 1,000,000 screenings.

    DATABASE_URL=postgres://… SECRET_KEY=… python bench/reviewer.py [--sizes 10000 1000000]
        [--repeat 30] [--keepdb] [--smoke]

Creates a throwaway PostgreSQL database `bench_reviewer_<name>` beside the one DATABASE_URL
names (migrated like a test database, dropped at the end unless --keepdb), and for each size in
turn tops it up to that many screenings with one `INSERT … SELECT generate_series` (and one more
for their `ScreeningFlag` rows), then times
the list page through the test client, as a signed-in reviewer: unfiltered first page, a page
filtered by rule fired + signed, and the overridden-stop filter. Prints p50/p95 per page and the
EXPLAIN ANALYZE execution time of each page's query; the last line is
`reviewer: list p95 ratio 1M/10k = R` (largest size over smallest).
`--smoke` (run by the test suite) does the same with 30 and 90 screenings and 2 timings each.

Synthetic screenings carry the result computed for each clinical vignette under the published
version, and empty facts and rule text: the list never reads those.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository root instead of this folder, whose http.py would stand in for the standard
# library's http.
sys.path[0] = str(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "screening.settings")
# The reviewer signs in with a password alone: the bench measures the list, not enrolment in
# the second factor that production requires of every role.
os.environ["MFA_REQUIRED_ROLES"] = ""

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from patients.models import Intake, Patient  # noqa: E402
from rules.engine import validate_facts  # noqa: E402
from rules.loader import compiled_version  # noqa: E402
from rules.selectors import published_version  # noqa: E402
from screening.core.permissions import Role  # noqa: E402
from screening.models import Screening  # noqa: E402
from screening.review.selectors import ScreeningFilters, filtered_screenings  # noqa: E402

VIGNETTES = ROOT / "rules" / "data" / "vignettes"
ON = date(2026, 1, 15)
PATIENTS = 200
CLINICIANS = 8

PAGES: dict[str, dict[str, str]] = {
    "first page": {},
    "rule fired + signed": {"rule_id": "STOP-PREGNANCY", "signed": "yes"},
    "overridden stop": {"overridden_stop": "on"},
}

# The parameters travel apart from the SQL (server-side binding): a Python int arrives typed by
# its size (smallint for small numbers), so each is cast to the type the statement needs.
INSERT_SCREENINGS = """
INSERT INTO screening_screening (uuid, patient_id, intake_id, ruleset_version_id, status,
    screening_date, facts, result, rule_texts, disposition, urgent, run_by_id, run_at,
    signed_by_id, signed_at, stale_rules_reason, incomplete_reasons)
SELECT gen_random_uuid(), p.patient_id, p.intake_id, %(version)s::bigint,
    CASE WHEN g %% 3 = 0 THEN 'signed' ELSE 'superseded' END,
    %(on)s::date,
    '{}'::jsonb,
    (%(results)s::jsonb[])[1 + g %% %(result_count)s::integer],
    '{}'::jsonb,
    (%(results)s::jsonb[])[1 + g %% %(result_count)s::integer] ->> 'disposition',
    g %% 97 = 0,
    (%(clinicians)s::bigint[])[1 + g %% %(clinician_count)s::integer],
    now() - make_interval(secs => g * 20),
    CASE WHEN g %% 3 = 0 THEN (%(clinicians)s::bigint[])[1 + g %% %(clinician_count)s::integer] END,
    CASE WHEN g %% 3 = 0 THEN now() - make_interval(secs => g * 20 - 600) END,
    '', '{}'::jsonb
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
JOIN (
    SELECT row_number() OVER (ORDER BY id) - 1 AS n, patient_id, id AS intake_id
    FROM patients_intake
) AS p ON p.n = g %% %(patient_count)s::integer
"""

INSERT_FLAGS = """
INSERT INTO screening_screeningflag (screening_id, rule_id, severity, run_at, review_kind,
    reviewed_at)
SELECT s.id, f ->> 'rule', f ->> 'severity', s.run_at,
    CASE
        WHEN f ->> 'severity' = 'stop' AND s.id %% 4 = 0 THEN 'overridden'
        WHEN f ->> 'severity' IN ('urgent', 'review') AND s.id %% 2 = 0 THEN 'acknowledged'
        ELSE ''
    END,
    CASE
        WHEN (f ->> 'severity' = 'stop' AND s.id %% 4 = 0)
          OR (f ->> 'severity' IN ('urgent', 'review') AND s.id %% 2 = 0)
        THEN s.run_at + make_interval(secs => 60 + s.id %% 3600)
    END
FROM screening_screening AS s, jsonb_array_elements(s.result -> 'flags') AS f
WHERE s.id > %(after)s::bigint
"""


def vignette_results() -> list[str]:
    """Each vignette's whole result under the published version (the list reads the stored
    result as the engine's result model, which needs every field)."""
    compiled = compiled_version(published_version())
    results = []
    for path in sorted(VIGNETTES.glob("*.json")):
        facts = validate_facts(json.loads(path.read_text())["facts"], today=ON)
        results.append(compiled.evaluate(facts).model_dump_json())
    return results


def people() -> tuple[User, list[int]]:
    reviewer, _ = User.objects.get_or_create(username="bench-reviewer")
    reviewer.groups.add(Group.objects.get(name=Role.REVIEWER.value))
    clinicians = []
    for n in range(CLINICIANS):
        user, _ = User.objects.get_or_create(username=f"bench-clinician-{n}")
        user.groups.add(Group.objects.get(name=Role.CLINICIAN.value))
        clinicians.append(user.pk)
    if not Intake.objects.exists():
        for n in range(PATIENTS):
            patient = Patient.objects.create(
                mrn=f"BENCH-{n}",
                family_name=f"Bench{n}",
                given_names="Synthetic",
                date_of_birth=date(1980, 1, 1),
                sex_at_birth="female",
                created_by=reviewer,
            )
            Intake.objects.create(patient=patient, created_by=reviewer, updated_by=reviewer)
    return reviewer, clinicians


def top_up(target: int, clinicians: list[int], results: list[str]) -> None:
    existing = Screening.objects.count()
    if existing >= target:
        return
    started = time.perf_counter()
    after = Screening.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SCREENINGS,
            {
                "version": published_version().pk,
                "on": ON,
                "results": results,
                "result_count": len(results),
                "clinicians": clinicians,
                "clinician_count": len(clinicians),
                "patient_count": Intake.objects.count(),
                "first": existing + 1,
                "last": target,
            },
        )
        # A signed screening's flags are locked by a trigger (screening 0014): the synthetic
        # rows are bulk-loaded the way a restore is, with triggers off for that statement.
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(INSERT_FLAGS, {"after": after})
        cursor.execute("ANALYZE screening_screening")
        cursor.execute("ANALYZE screening_screeningflag")
    print(f"  filled to {target:,} screenings in {time.perf_counter() - started:.1f} s")


def timings(client: Client, params: dict[str, str], repeat: int) -> tuple[float, float]:
    url = reverse("screening:list")
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def explain(reviewer: User, params: dict[str, str]) -> str:
    """The EXPLAIN ANALYZE execution time of the page's first-page query and its top node."""
    filters = ScreeningFilters(
        rule_id=params.get("rule_id", ""),
        signed=True if params.get("signed") == "yes" else None,
        overridden_stop=bool(params.get("overridden_stop")),
    )
    page_query = filtered_screenings(reviewer, filters).defer("facts", "rule_texts")[:51]
    plan = page_query.explain(analyze=True)
    lines = plan.splitlines()
    executed = next((line.strip() for line in lines if line.startswith("Execution Time")), "")
    top = lines[0].strip() if lines else ""
    return f"{executed}; top: {top[:100]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keepdb", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny data: proves the bench still runs (the test suite runs it)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.repeat = [30, 90], 2

    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        sys.exit("bench/reviewer.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    database["TEST"] = {**database.get("TEST", {}), "NAME": f"bench_reviewer_{database['NAME']}"}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    p95s: dict[int, float] = {}
    try:
        print(f"database: {connection.vendor} {name}")
        reviewer, clinicians = people()
        results = vignette_results()
        client = Client()
        client.force_login(reviewer)
        for size in sorted(args.sizes):
            print(f"N = {size:,}")
            top_up(size, clinicians, results)
            for label, params in PAGES.items():
                timings(client, params, 3)  # warm the cache and the plan
                p50, p95 = timings(client, params, args.repeat)
                print(f"  {label:<22} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
                print(f"  {'':<22} {explain(reviewer, params)}")
                if label == "first page":
                    p95s[size] = p95
        smallest, largest = min(p95s), max(p95s)
        ratio = p95s[largest] / p95s[smallest]
        sizes = "1M/10k" if (smallest, largest) == (10_000, 1_000_000) else f"{largest}/{smallest}"
        print(f"reviewer: list p95 ratio {sizes} = {ratio:.2f}")
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
