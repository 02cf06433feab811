"""Dependency audit: every installed package against a vulnerability database (pip-audit).

    .venv/bin/python .ci/audit.py            # `make audit`; CI runs it after the tests

Fails (exit 1) on any known vulnerability that `.ci/audit-exceptions.toml` does not justify.
Asks OSV first and falls back to PyPI's advisory data per installed version (both through
pip-audit). A registry mirror may serve neither, but still serve each project's JSON, whose
`vulnerabilities` are those of the project's latest release: then every package installed at
its latest release is checked against that, and every other package is named as not checked.
When nothing can vouch for any package (an offline machine) it says so plainly — "not
performed", with the reason — rather than printing a clean bill it has not checked; set
`AUDIT_REQUIRED=1` to make that an error too (for a machine that can reach a service).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXCEPTIONS = HERE / "audit-exceptions.toml"
SERVICES = ("osv", "pypi", "pypi-latest")
#: PyPI's JSON API (or a mirror's): /pypi/<project>/json.
PYPI_JSON = os.environ.get("AUDIT_PYPI_JSON", "https://pypi.org/pypi/{name}/json")


def run_pip_audit(service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON report from `service`, or None and the reason it could not run."""
    if service == "pypi-latest":
        return latest_release_report(installed(), project_json)
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


def installed() -> dict[str, str]:
    """Installed distributions (normalised name → version), without editable installs (this
    project itself), as `pip-audit --skip-editable` sees them."""
    found = {}
    for dist in metadata.distributions():
        direct = dist.read_text("direct_url.json")
        if direct and json.loads(direct).get("dir_info", {}).get("editable"):
            continue
        found[re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()] = dist.version
    return found


def project_json(name: str) -> dict | None:
    """PyPI's JSON for project `name`, or None when it cannot be read."""
    url = PYPI_JSON.format(name=name)
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"AUDIT_PYPI_JSON must be an http(s) URL, got {PYPI_JSON!r}")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (checked above)
            return json.load(response)
    except (OSError, ValueError):
        return None


def latest_release_report(packages: dict[str, str], fetch) -> tuple[dict | None, str]:
    """A pip-audit-shaped report from each project's JSON: packages at their latest release
    carry that release's advisories; the others are skipped, saying why."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = dict(zip(packages, pool.map(fetch, packages), strict=True))
    if not any(documents.values()):
        return None, "pypi-latest: no project JSON could be read"
    dependencies = []
    for name, version in sorted(packages.items()):
        document = documents[name]
        entry: dict = {"name": name, "version": version}
        if document is None:
            entry["skip_reason"] = "its project JSON could not be read"
        elif document["info"]["version"] != version:
            entry["skip_reason"] = (
                f"not its latest release ({document['info']['version']}), and no advisory "
                "data per version is reachable"
            )
        else:
            entry["vulns"] = [
                {
                    "id": vuln["id"],
                    "aliases": vuln.get("aliases") or [],
                    "fix_versions": vuln.get("fixed_in") or [],
                }
                for vuln in document.get("vulnerabilities") or []
                if not vuln.get("withdrawn")
            ]
        dependencies.append(entry)
    return {"dependencies": dependencies, "fixes": []}, ""


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
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in skipped:
        print(
            f"audit: not checked {dependency['name']} {dependency['version']}: "
            f"{dependency['skip_reason']}"
        )
    print(
        f"audit: {len(audited)} packages checked with {service}, {len(skipped)} not checkable, "
        f"{failures} unjustified known vulnerabilities"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
