"""Production configuration mistakes fail with a sentence, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_secret_key_is_reported_by_its_system_check(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="false", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "screening.E001" in run.stderr
    assert "Set the SECRET_KEY environment variable" in run.stderr
    assert "Traceback" not in run.stderr


def test_production_without_audit_anchors_is_warned(settings):
    settings.AUDIT_SIGNING_KEY = settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_CHECKPOINT_FILE = ""

    ids = {problem.id for problem in run_checks(include_deployment_checks=True)}

    assert {"screening.W101", "screening.W102"} <= ids


def test_an_audit_signing_key_that_cannot_be_read_is_warned(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "missing.pem")

    (problem,) = [p for p in run_checks() if p.id == "screening.W103"]

    assert "audit_keygen" in problem.msg
