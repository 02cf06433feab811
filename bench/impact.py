"""Impact preview throughput: N past screenings re-evaluated under a draft, as the worker runs it.

    DATABASE_URL=postgres://… SECRET_KEY=… python bench/impact.py [--screenings N] [--keepdb] [--smoke]

Creates a throwaway database next to the one DATABASE_URL names (`bench_impact_<name>`,
migrated like a test database, dropped at the end unless --keepdb), fills it with N synthetic
screenings (bulk_create; facts varied from the clinical vignettes, results computed under
version 1), starts a draft with two changes, then times the preview task called synchronously,
the way `manage.py db_worker` calls it. Prints screenings per second; the last line is
`impact: N screenings in S s (R/s)`.

The screenings' `rule_texts` snapshots are stored empty: the preview never reads them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The repository root instead of this folder, whose http.py would stand in for the standard
# library's http.
sys.path[0] = str(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "screening.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from patients.models import Intake, Patient  # noqa: E402
from rules.engine import validate_facts  # noqa: E402
from rules.loader import compiled_version  # noqa: E402
from rules.models import ImpactPreview, RuleSet  # noqa: E402
from rules.selectors import open_draft, published_version  # noqa: E402
from rules.services import (  # noqa: E402
    draft_discard,
    draft_start,
    impact_preview_start,
    rule_retire,
    rule_update,
)
from rules.tasks import impact_preview_run  # noqa: E402
from screening.core.permissions import Role  # noqa: E402
from screening.models import Screening  # noqa: E402

VIGNETTES = ROOT / "rules" / "data" / "vignettes"
FIRST_DAY = date(2025, 1, 1)
INSERT_BATCH = 5000


def varied_facts(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A vignette's facts with age, blood pressure and scores drawn at random."""
    facts = dict(base)
    facts["age_years"] = rng.randint(16, 85)
    if "systolic_bp" in facts:
        systolic = rng.randint(100, 200)
        facts["systolic_bp"] = systolic
        facts["diastolic_bp"] = rng.randint(60, min(125, systolic - 10))
    if "phq9_total" in facts:
        facts["phq9_total"] = rng.randint(0, 27)
    if "benzodiazepine_dose_mg_diazepam_eq" in facts:
        facts["benzodiazepine_dose_mg_diazepam_eq"] = rng.choice([0.0, 0.0, 0.0, 5.0, 10.0])
    if "has_escort_home" in facts:
        facts["has_escort_home"] = rng.random() > 0.2
    return facts


def fill(count: int, seed: int) -> None:
    rng = random.Random(seed)
    bases = [json.loads(p.read_text())["facts"] for p in sorted(VIGNETTES.glob("*.json"))]
    clinician = person("bench-clinician", Role.CLINICIAN)
    patient, _ = Patient.objects.get_or_create(
        mrn="BENCH-1",
        defaults={
            "family_name": "Bench",
            "given_names": "Synthetic",
            "date_of_birth": date(1980, 1, 1),
            "sex_at_birth": "female",
            "created_by": clinician,
        },
    )
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    version = published_version()
    compiled = compiled_version(version)
    now = timezone.now()
    rows: list[Screening] = []
    for n in range(count):
        on = FIRST_DAY + timedelta(days=n % 600)
        facts = validate_facts(varied_facts(rng.choice(bases), rng), today=on)
        result = compiled.evaluate(facts)
        rows.append(
            Screening(
                patient=patient,
                intake=intake,
                ruleset_version=version,
                status=Screening.Status.SUPERSEDED,
                screening_date=on,
                facts=facts.as_document(),
                result=result.model_dump(mode="json"),
                rule_texts={},
                disposition=result.disposition,
                urgent=result.urgent,
                run_by=clinician,
                run_at=now,
            )
        )
        if len(rows) == INSERT_BATCH:
            Screening.objects.bulk_create(rows)
            rows = []
    Screening.objects.bulk_create(rows)


def person(username: str, role: Role) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.groups.add(Group.objects.get(name=role.value))
    return user


def changed_draft() -> ImpactPreview:
    """A draft with REV-OLDER-ADULT from 60 instead of 65 and INFO-ESCORT retired, and its
    queued preview (an open draft left by an earlier --keepdb run is discarded first)."""
    admin = person("bench-rule-admin", Role.RULE_ADMIN)
    rule_set = RuleSet.objects.get(name="ketamine")
    earlier = open_draft(rule_set)
    if earlier is not None:
        draft_discard(draft=earlier, user=admin)
    draft = draft_start(rule_set=rule_set, user=admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=admin,
        values={"logic": "age_years >= 60"},
    )
    rule_retire(rule=draft.rules.get(rule_id="INFO-ESCORT"), user=admin)
    return impact_preview_start(draft=draft, user=admin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keepdb", action="store_true", help="keep the bench database (and its screenings)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny data: proves the bench still runs (the test suite runs it)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.screenings = 60

    database = settings.DATABASES["default"]
    database["TEST"] = {**database["TEST"], "NAME": f"bench_impact_{database['NAME']}"}
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        print(f"database: {connection.vendor} {name}")
        existing = Screening.objects.count()
        if existing < args.screenings:
            started = time.perf_counter()
            fill(args.screenings - existing, args.seed)
            print(
                f"filled {args.screenings - existing} screenings in {time.perf_counter() - started:.1f} s"
            )
        preview = changed_draft()

        started = time.perf_counter()
        impact_preview_run.call(str(preview.uuid))
        elapsed = time.perf_counter() - started

        preview.refresh_from_db()
        count = preview.processed
        print(
            f"status {preview.status}: {preview.changed_disposition} would change disposition, "
            f"{preview.changed_flags} would change flags, {preview.unreadable} unreadable, "
            f"{len(preview.examples)} examples kept"
        )
        print(f"impact: {count} screenings in {elapsed:.1f} s ({count / elapsed:,.0f}/s)")
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
