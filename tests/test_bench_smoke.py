"""Every benchmark in bench/ runs end to end in its `--smoke` mode (seconds, tiny data), so a
change that breaks one fails the suite instead of the next person who measures. The figures are
not read: tests never assert timings, only that each bench got to its summary line.

(`bench/audit.py --smoke` has its own test, which also checks what it prints.)

`bench/http.py` runs with two web nodes (`--nodes 2`): each client signs in on one gunicorn
and sends its next requests to the other in turn (the submit included), and the audit chain
they wrote together must verify afterwards."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Each bench run (its file and any arguments beside --smoke) and the start of the last line
#: it prints when it ran to the end.
BENCHES = {
    "engine.py": "engine: ",
    "impact.py": "impact: 60 screenings in ",
    "reviewer.py": "reviewer: list p95 ratio 90/30 = ",
    "http.py --nodes 2": "http: submit p95 / floor p95 = ",
    "soak.py": "soak: ",
    # The workers' connections are killed under the clinicians: nothing lost, no 500.
    "soak.py --faults": "soak: ",
    "cds.py": "cds: patient-view p95 / evaluate p95 = ",
}


@pytest.mark.parametrize("bench", BENCHES)
def test_the_bench_runs_in_smoke_mode(bench):
    script, *arguments = bench.split()
    run = subprocess.run(
        [sys.executable, f"bench/{script}", "--smoke", *arguments],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "test-only-not-a-secret"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    last = run.stdout.splitlines()[-1]
    assert last.startswith(BENCHES[bench]), run.stdout[-2000:]
    if script == "http.py":  # signed in on one node, the submit on the other: the chain holds
        assert "verify_audit: audit trail intact" in run.stdout, run.stdout[-2000:]
    if bench == "soak.py":
        assert last.endswith(" 0 errors, 0 lost"), run.stdout[-2000:]
    if bench == "soak.py --faults":  # a journey may break off at a 503; none may lose work
        assert "connections killed" in run.stdout, run.stdout[-2000:]
        assert last.endswith(" 0 lost"), run.stdout[-2000:]
    if script == "soak.py":
        assert not last.startswith("soak: 0 journeys"), run.stdout[-2000:]
