"""Engine throughput: the public vignettes' facts evaluated in a loop under the default rule set.

    python bench/engine.py [--seconds S] [--vignettes DIR] [--smoke]

Prints evaluations per second with facts validation included, then excluded, on one core
(single thread). The last line is `engine: N evaluations/s` (validation included).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository root instead of this folder, whose http.py would stand in for the standard
# library's http.
sys.path[0] = str(ROOT)

from rules.engine import compile_ruleset, validate_facts  # noqa: E402

TODAY = date(2026, 11, 24)


def rate(step, documents, seconds: float) -> tuple[float, float]:
    """Run `step` over the documents round-robin for `seconds`; (per second, µs per call)."""
    for document in documents:  # warm up
        step(document)
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for document in documents:
            step(document)
        count += len(documents)
    elapsed = time.perf_counter() - started
    return count / elapsed, elapsed / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument(
        "--vignettes", type=Path, default=ROOT.parent / "shared" / "clinical" / "vignettes"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds, tiny data: proves the bench still runs (the test suite runs it)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 0.05

    ruleset = compile_ruleset(tomllib.loads((ROOT / "rules/data/ketamine-v1.toml").read_text()))
    documents = [json.loads(p.read_text())["facts"] for p in sorted(args.vignettes.glob("*.json"))]
    if not documents:
        sys.exit(f"no vignettes in {args.vignettes}")
    validated = [validate_facts(d, today=TODAY) for d in documents]

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}"
    )
    print(
        f"rule set: {ruleset.ref.name} v{ruleset.ref.version}, "
        f"{len(ruleset.indications) + len(ruleset.considerations)} rules; "
        f"{len(documents)} vignettes; {args.seconds:g} s per measurement"
    )

    only_validation, us = rate(lambda d: validate_facts(d, today=TODAY), documents, args.seconds)
    print(f"validation only:        {only_validation:>9,.0f} /s  ({us:.1f} µs each)")
    excluded, us = rate(ruleset.evaluate, validated, args.seconds)
    print(f"evaluation, no validation: {excluded:>6,.0f} /s  ({us:.1f} µs each)")
    included, us = rate(lambda d: ruleset.screen(d, today=TODAY), documents, args.seconds)
    print(f"evaluation + validation: {included:>8,.0f} /s  ({us:.1f} µs each)")
    print(f"engine: {included:.0f} evaluations/s")


if __name__ == "__main__":
    main()
