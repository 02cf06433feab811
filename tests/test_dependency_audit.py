"""The CI dependency audit (.ci/audit.py) fails on an unjustified vulnerability, accepts a
justified one, and never reports a clean audit it could not perform."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"


@pytest.fixture
def audit(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "EXCEPTIONS", tmp_path / "exceptions.toml")
    monkeypatch.delenv("AUDIT_REQUIRED", raising=False)
    return module


def _reports(monkeypatch, audit, **by_service):
    monkeypatch.setattr(
        audit, "run_pip_audit", lambda service: by_service.get(service, (None, "unreachable"))
    )


VULNERABLE = {
    "dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [
            {"id": "PYSEC-1", "aliases": ["GHSA-aaaa"], "fix_versions": ["5.2.1"]}
        ]},
        {"name": "six", "version": "1.17.0", "vulns": []},
    ],
    "fixes": [],
}  # fmt: skip


def test_a_known_vulnerability_fails_the_audit_naming_package_and_fix(audit, monkeypatch, capsys):
    _reports(monkeypatch, audit, osv=(VULNERABLE, ""))

    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "VULNERABLE django 5.2.0: PYSEC-1 (fixed in 5.2.1)" in out
    assert "2 packages checked with osv, 0 not checkable, 1 unjustified" in out


def test_a_justified_vulnerability_passes_and_its_reason_is_printed(audit, monkeypatch, capsys):
    audit.EXCEPTIONS.write_text(
        '[[exception]]\nid = "GHSA-aaaa"\nreason = "MySQL backend only; we run PostgreSQL."\n'
    )
    _reports(monkeypatch, audit, osv=(VULNERABLE, ""))

    assert audit.main() == 0
    assert "accepted django 5.2.0: PYSEC-1: MySQL backend only" in capsys.readouterr().out


def test_an_exception_without_a_reason_is_refused(audit, monkeypatch):
    audit.EXCEPTIONS.write_text('[[exception]]\nid = "GHSA-aaaa"\nreason = " "\n')
    _reports(monkeypatch, audit, osv=(VULNERABLE, ""))

    with pytest.raises(SystemExit, match="has no reason"):
        audit.main()


def test_no_reachable_advisory_data_is_reported_as_not_performed(audit, monkeypatch, capsys):
    skipped = {"dependencies": [{"name": "six", "skip_reason": "not found"}], "fixes": []}
    _reports(monkeypatch, audit, pypi=(skipped, ""))

    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "NOT PERFORMED" in out
    assert "no advisory data for any of 1 packages" in out
    assert "0 unjustified" not in out

    monkeypatch.setenv("AUDIT_REQUIRED", "1")
    assert audit.main() == 1


def _project(latest, *vulns):
    return {"info": {"version": latest}, "vulnerabilities": list(vulns)}


PROJECTS = {
    "django": _project("5.2.0", {"id": "PYSEC-1", "aliases": ["CVE-1"], "fixed_in": ["5.2.1"]}),
    "six": _project("1.17.0", {"id": "PYSEC-2", "withdrawn": "2026-01-01T00:00:00"}),
    "gunicorn": _project("27.0.1", {"id": "PYSEC-3", "fixed_in": []}),
}


def _latest_only(monkeypatch, audit, packages, projects):
    """A mirror that serves each project's JSON but neither OSV nor per-version data."""
    monkeypatch.setattr(audit, "installed", lambda: packages)
    monkeypatch.setattr(audit, "project_json", projects.get)
    real = audit.run_pip_audit
    monkeypatch.setattr(
        audit,
        "run_pip_audit",
        lambda service: real(service) if service == "pypi-latest" else (None, "unreachable"),
    )


def test_packages_at_their_latest_release_are_checked_against_its_advisories(
    audit, monkeypatch, capsys
):
    _latest_only(
        monkeypatch, audit, {"django": "5.2.0", "six": "1.17.0", "gunicorn": "23.0.0"}, PROJECTS
    )

    assert audit.main() == 1
    out = capsys.readouterr().out
    assert "VULNERABLE django 5.2.0: PYSEC-1 (fixed in 5.2.1)" in out
    assert "PYSEC-2" not in out  # withdrawn
    # gunicorn's advisory is its latest release's, not necessarily 23.0.0's: not checked, named.
    assert "PYSEC-3" not in out
    assert "not checked gunicorn 23.0.0: not its latest release (27.0.1)" in out
    assert "2 packages checked with pypi-latest, 1 not checkable, 1 unjustified" in out


def test_a_latest_release_advisory_can_be_justified_like_any_other(audit, monkeypatch, capsys):
    audit.EXCEPTIONS.write_text('[[exception]]\nid = "CVE-1"\nreason = "Oracle backend only."\n')
    _latest_only(monkeypatch, audit, {"django": "5.2.0", "six": "1.17.0"}, PROJECTS)

    assert audit.main() == 0
    assert "accepted django 5.2.0: PYSEC-1: Oracle backend only." in capsys.readouterr().out


def test_no_project_json_at_all_is_still_not_performed(audit, monkeypatch, capsys):
    _latest_only(monkeypatch, audit, {"django": "5.2.0"}, {})

    assert audit.main() == 0
    out = capsys.readouterr().out
    assert "NOT PERFORMED" in out
    assert "pypi-latest: no project JSON could be read" in out
