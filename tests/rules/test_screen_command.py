"""`manage.py screen`: the data dictionary's command contract."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from rules.models import RuleSetVersion
from screening.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def screen(*args, stdin: str | None = None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = 0
    try:
        call_command("screen", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def test_one_file_prints_one_result_per_the_data_dictionary(facts_file):
    code, out = screen(facts_file("adolescent-15", version=2))
    result = json.loads(out)
    assert code == 0
    assert result["ruleset"] == {"name": "ketamine", "version": 2}
    assert result["disposition"] == "review_required"
    assert [i["condition"] for i in result["indications"]] == [
        "mdd",
        "trd",
        "bipolar_depression",
        "gad",
        "ptsd",
        "ocd",
        "fibromyalgia",
        "crps",
    ]
    (flag,) = result["flags"]
    assert flag["rule"] == "REV-PEDIATRIC"
    assert flag["because"] == ["age_years = 15 (< 18)"]
    assert set(flag) == {"rule", "severity", "title", "message", "because", "source"}


def test_version_1_still_screens_as_it_did_when_named(facts_file):
    code, out = screen("--ruleset-version", "1", facts_file("adolescent-mdd", version=1))
    result = json.loads(out)
    assert code == 0
    assert result["ruleset"] == {"name": "ketamine", "version": 1}
    assert result["disposition"] == "review_required"
    (flag,) = result["flags"]
    assert flag["rule"] == "REV-PEDIATRIC"
    assert flag["because"] == ["age_years = 16 (< 18)"]
    assert flag["source"] == "Seed article; esketamine US label (not approved < 18)"


def test_several_files_print_one_compact_line_each_in_order(facts_file):
    names = ["pregnant", "trd-eligible", "v1-intake-without-v2-facts"]
    code, out = screen(*(facts_file(n, version=2) for n in names))
    lines = out.strip().splitlines()
    assert code == 0
    assert [json.loads(line)["disposition"] for line in lines] == [
        "contraindicated",
        "eligible",
        "incomplete",
    ]


def test_dash_reads_one_document_from_stdin(monkeypatch, trd_eligible_facts):
    code, out = screen("-", stdin=json.dumps(trd_eligible_facts), monkeypatch=monkeypatch)
    assert code == 0
    assert json.loads(out)["disposition"] == "eligible"


def test_an_invalid_document_is_listed_by_field_and_the_rest_go_on(tmp_path, facts_file):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"age_years": 130, "pregancy_status": "pregnant"}))
    code, out = screen(str(bad), facts_file("trd-eligible", version=2))
    first, second = (json.loads(line) for line in out.strip().splitlines())
    assert code == 2
    assert first["file"] == str(bad)
    assert {e["field"] for e in first["errors"]} == {"age_years", "pregancy_status"}
    assert second["disposition"] == "eligible"


def test_a_file_that_is_not_json_is_reported_not_raised(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    code, out = screen(str(bad))
    assert code == 2
    assert "is not valid JSON" in json.loads(out)["errors"][0]["message"]


def test_a_number_too_long_for_python_is_reported_not_raised(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_text('{"phq9_total": ' + "9" * 5000 + "}")
    code, out = screen(str(huge))
    assert code == 2
    assert "is not valid JSON" in json.loads(out)["errors"][0]["message"]


def test_screening_stores_nothing(facts_file):
    before = (AuditEvent.objects.count(), RuleSetVersion.objects.count())
    screen(facts_file("pregnant", version=2))
    assert (AuditEvent.objects.count(), RuleSetVersion.objects.count()) == before


def test_an_unknown_ruleset_version_is_a_clear_error(facts_file):
    with pytest.raises(CommandError, match="has no version 9"):
        call_command("screen", "--ruleset-version", "9", facts_file("pregnant", version=2))


def test_a_named_version_is_used(facts_file):
    _, out = screen("--ruleset-version", "1", facts_file("pregnant", version=1))
    assert json.loads(out)["ruleset"]["version"] == 1, out
    _, out = screen(facts_file("pregnant", version=2))
    assert json.loads(out)["ruleset"]["version"] == 2, out


@pytest.mark.parametrize(
    ("folder", "last_line"),
    [("vignettes", "14/14 vignettes match"), ("vignettes-v2", "18/18 vignettes match")],
)
def test_check_vignettes_reports_every_vignette_matching(vignettes_dir, folder, last_line):
    """The shared checker, run the way CI and reviewers run it, on this database: each
    vignette under the version it names (version 1 retired, version 2 published)."""
    checker = vignettes_dir.parent.parent / "tools" / "check-vignettes"
    root = Path(__file__).resolve().parents[2]
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    run = subprocess.run(
        [sys.executable, str(checker), str(vignettes_dir.parent / folder)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DATABASE_URL": url, "CHECK_PYTHON": sys.executable},
    )
    assert run.stdout.strip().splitlines()[-1] == last_line, run.stdout + run.stderr


@pytest.fixture
def empty_database():
    """A PostgreSQL database with no tables (a checkout before `migrate`); its URL."""
    import psycopg

    db = connection.settings_dict
    server = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    name = f"{db['NAME']}_unmigrated"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _screen_command(database_url, *args):
    return subprocess.run(
        [sys.executable, "manage.py", "screen", *args],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-only"},
    )


def test_before_migrate_it_screens_under_the_default_rule_set_and_says_so(
    empty_database, facts_file
):
    run = _screen_command(empty_database, facts_file("adolescent-15", version=2))

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["ruleset"] == {"name": "ketamine", "version": 2}
    assert [f["rule"] for f in result["flags"]] == ["REV-PEDIATRIC"]
    assert "The database is not migrated" in run.stderr
    assert "ketamine-v2.toml, version 2" in run.stderr


@pytest.mark.parametrize(("number", "vignette"), [(1, "adolescent-mdd"), (2, "adolescent-15")])
def test_before_migrate_a_version_migrate_would_publish_screens_as_it_would(
    empty_database, facts_file, number, vignette
):
    run = _screen_command(
        empty_database, "--ruleset-version", str(number), facts_file(vignette, version=number)
    )

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["ruleset"] == {"name": "ketamine", "version": number}
    assert [f["rule"] for f in result["flags"]] == ["REV-PEDIATRIC"]
    assert f"ketamine-v{number}.toml, version {number}" in run.stderr


def test_before_migrate_another_version_is_an_error_naming_migrate(empty_database, facts_file):
    run = _screen_command(
        empty_database, "--ruleset-version", "3", facts_file("pregnant", version=2)
    )

    assert run.returncode != 0
    assert run.stdout == ""
    assert "run `python manage.py migrate` first" in run.stderr


def test_an_unreachable_database_is_an_error_not_the_default_rule_set(facts_file):
    run = _screen_command(
        "postgres://postgres@127.0.0.1:1/nowhere", facts_file("pregnant", version=2)
    )

    assert run.returncode != 0
    assert run.stdout == ""
    assert "cannot read rule sets from the database" in run.stderr


def test_diagnoses_known_in_part_screen_with_the_rest_left_open(tmp_path, trd_eligible_facts):
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps({**trd_eligible_facts, "diagnoses": {"includes": ["mdd"]}}))

    code, out = screen(str(path))

    result = json.loads(out)
    assert code == 0
    assert "diagnoses" in [m["fact"] for m in result["missing"]]
    assert {i["condition"]: i["status"] for i in result["indications"]}["mdd"] == "indicated"


# --- issue 16: bounded cost, and one bad document never loses the batch ---------------------------


def test_oversized_deep_and_flooded_documents_each_get_their_own_line_and_the_batch_goes_on(
    tmp_path, facts_file
):
    flooded = tmp_path / "flooded.json"
    flooded.write_text(json.dumps({f"unknown_fact_{i:05d}": True for i in range(50_000)}))
    deep = tmp_path / "deep.json"
    deep.write_text('{"diagnoses": ' + "[" * 100_000 + "]" * 100_000 + "}")
    nested = tmp_path / "nested.json"
    nested.write_text('{"diagnoses": ' + "[" * 50 + "]" * 50 + "}")
    good = facts_file("adolescent-15", version=2)

    code, out = screen(str(flooded), str(deep), str(nested), good)

    assert code == 2
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert lines[0]["file"] == str(flooded)
    assert lines[0]["errors"] == [
        {
            "field": "(document)",
            "message": "is larger than 256 KB, the most a facts document may be",
        }
    ]
    assert lines[1]["file"] == str(deep)
    assert "nested too deeply" in lines[1]["errors"][0]["message"]
    assert lines[2]["file"] == str(nested)
    assert "nested too deeply" in lines[2]["errors"][0]["message"]
    assert lines[3]["disposition"] == "review_required"


def test_a_document_of_many_unknown_keys_under_the_size_limit_is_one_line_of_bounded_problems(
    tmp_path,
):
    many = tmp_path / "many.json"
    many.write_text(json.dumps({f"k{i}": True for i in range(5_000)}))
    code, out = screen(str(many))
    assert code == 2
    assert json.loads(out)["errors"] == [
        {"field": "(document)", "message": "has 5,000 keys; a facts document has at most 100"}
    ]
