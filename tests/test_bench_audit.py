"""`bench/audit.py --smoke` runs end to end on PostgreSQL: concurrent writers append, a trail is
loaded, signed and verified intact. Its figures are not read: tests never assert timings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_audit_bench_runs():
    run = subprocess.run(
        [sys.executable, "bench/audit.py", "--smoke"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "test-only-not-a-secret"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "signed checkpoints: yes" in lines[0]
    assert [line.split()[:2] for line in lines[1:3]] == [["append", "1"], ["append", "2"]]
    assert lines[-1].startswith("verify   2,")
    assert lines[-1].endswith("intact")
