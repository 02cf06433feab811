"""Dependency audit: every installed package against a vulnerability database (pip-audit).

    .venv/bin/python .ci/audit.py            # `make audit`; CI runs it after the tests

Fails (exit 1) on any known vulnerability that `.ci/audit-exceptions.toml` does not justify.
Asks OSV first and falls back to PyPI's advisory data. When neither can vouch for any package
(an offline machine, or a registry mirror without advisory data) it says so plainly — "not
performed", with the reason — rather than printing a clean bill it has not checked; set
`AUDIT_REQUIRED=1` to make that an error too (for a machine that can reach a service).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXCEPTIONS = HERE / "audit-exceptions.toml"
SERVICES = ("osv", "pypi")


def run_pip_audit(service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON report from `service`, or None and the reason it could not run."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--vulnerability-service",
                service,
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not report.exists():
            last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"{service}: {last[:200]}"
        return json.loads(report.read_text()), ""


def justified() -> dict[str, str]:
    """Vulnerability ID → the reason it is accepted, from the exceptions file."""
    data = tomllib.loads(EXCEPTIONS.read_text()) if EXCEPTIONS.exists() else {}
    accepted = {}
    for entry in data.get("exception", []):
        if not entry.get("reason", "").strip():
            sys.exit(f"audit: exception {entry.get('id')} in {EXCEPTIONS.name} has no reason")
        accepted[entry["id"]] = entry["reason"].strip()
    return accepted


def main() -> int:
    reasons = []
    for service in SERVICES:
        report, problem = run_pip_audit(service)
        if report is None:
            reasons.append(problem)
            continue
        dependencies = report["dependencies"]
        audited = [d for d in dependencies if "skip_reason" not in d]
        if audited:
            break
        reasons.append(f"{service}: no advisory data for any of {len(dependencies)} packages")
    else:
        print("audit: NOT PERFORMED: no vulnerability service could vouch for any package")
        for reason in reasons:
            print(f"  {reason}")
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0

    accepted = justified()
    failures = 0
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            known = next((accepted[i] for i in ids if i in accepted), None)
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']}"
            if known:
                print(f"audit: accepted {line}: {known}")
            else:
                failures += 1
                fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
                print(f"audit: VULNERABLE {line} (fixed in {fixes})")
    skipped = len(dependencies) - len(audited)
    print(
        f"audit: {len(audited)} packages checked with {service}, {skipped} not checkable, "
        f"{failures} unjustified known vulnerabilities"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
