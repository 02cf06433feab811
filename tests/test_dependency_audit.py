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
