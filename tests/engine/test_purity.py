"""The engine is a pure library: importing and running it never loads Django."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import json
    import sys
    import tomllib
    from datetime import date
    from pathlib import Path

    from rules.engine import compile_ruleset

    spec = tomllib.loads(Path("rules/data/ketamine-v1.toml").read_text(encoding="utf-8"))
    ruleset = compile_ruleset(spec)
    case = json.loads(
        Path("../shared/clinical/vignettes/trd-eligible.json").read_text(encoding="utf-8")
    )
    result = ruleset.screen(case["facts"], today=date(2026, 11, 24))
    print(json.dumps({
        "disposition": result.disposition,
        "django": sorted(name for name in sys.modules if name.startswith("django")),
    }))
    """
)


def test_engine_screens_without_django_settings_or_django_modules():
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["disposition"] == "eligible"  # it really screened
    assert report["django"] == []
