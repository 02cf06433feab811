"""Database triggers: what was shown never changes, and a signed screening is locked.

- A screening's snapshots (facts, result, rule text, rule-set version, patient, intake) never
  change after it is written.
- A signed screening cannot change at all, nor be deleted; superseded ones only stay superseded.
- Flag reviews cannot be added, changed or removed once their screening is signed.
- A locked intake (its screening was signed), and its trials, cannot change.

The services refuse first, with a sentence for the clinician; these triggers make it hold for
any other path (raw SQL, bulk updates, the shell).
"""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION screening_screening_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION 'signed screening % is locked', OLD.uuid USING ERRCODE = '23001';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('signed', 'superseded') AND NEW IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION '% screening % is locked', OLD.status, OLD.uuid USING ERRCODE = '23001';
    END IF;
    IF NEW.facts IS DISTINCT FROM OLD.facts OR NEW.result IS DISTINCT FROM OLD.result
       OR NEW.rule_texts IS DISTINCT FROM OLD.rule_texts
       OR NEW.ruleset_version_id IS DISTINCT FROM OLD.ruleset_version_id
       OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
       OR NEW.intake_id IS DISTINCT FROM OLD.intake_id
       OR NEW.disposition IS DISTINCT FROM OLD.disposition
       OR NEW.urgent IS DISTINCT FROM OLD.urgent
       OR NEW.screening_date IS DISTINCT FROM OLD.screening_date
       OR NEW.run_at IS DISTINCT FROM OLD.run_at THEN
        RAISE EXCEPTION 'what screening % showed cannot change', OLD.uuid USING ERRCODE = '23001';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER screening_screening_guard
    BEFORE UPDATE OR DELETE ON screening_screening
    FOR EACH ROW EXECUTE FUNCTION screening_screening_guard();

CREATE OR REPLACE FUNCTION screening_flagreview_guard() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM screening_screening
        WHERE id = COALESCE(NEW.screening_id, OLD.screening_id);
    IF parent_status <> 'unsigned' THEN
        RAISE EXCEPTION 'flag reviews of a % screening cannot change', parent_status
            USING ERRCODE = '23001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER screening_flagreview_guard
    BEFORE INSERT OR UPDATE OR DELETE ON screening_flagreview
    FOR EACH ROW EXECUTE FUNCTION screening_flagreview_guard();

CREATE OR REPLACE FUNCTION patients_intake_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'locked' THEN
        RAISE EXCEPTION 'intake % is locked by a signed screening', OLD.uuid
            USING ERRCODE = '23001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER patients_intake_guard
    BEFORE UPDATE OR DELETE ON patients_intake
    FOR EACH ROW EXECUTE FUNCTION patients_intake_guard();

CREATE OR REPLACE FUNCTION patients_trial_guard() RETURNS trigger AS $$
DECLARE
    intake_status text;
BEGIN
    SELECT status INTO intake_status FROM patients_intake
        WHERE id = COALESCE(NEW.intake_id, OLD.intake_id);
    IF intake_status = 'locked' THEN
        RAISE EXCEPTION 'trials of a locked intake cannot change' USING ERRCODE = '23001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER patients_trial_guard
    BEFORE INSERT OR UPDATE OR DELETE ON patients_antidepressanttrial
    FOR EACH ROW EXECUTE FUNCTION patients_trial_guard();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS screening_screening_guard ON screening_screening;
DROP FUNCTION IF EXISTS screening_screening_guard();
DROP TRIGGER IF EXISTS screening_flagreview_guard ON screening_flagreview;
DROP FUNCTION IF EXISTS screening_flagreview_guard();
DROP TRIGGER IF EXISTS patients_intake_guard ON patients_intake;
DROP FUNCTION IF EXISTS patients_intake_guard();
DROP TRIGGER IF EXISTS patients_trial_guard ON patients_antidepressanttrial;
DROP FUNCTION IF EXISTS patients_trial_guard();
"""

_SNAPSHOT_CHANGED = " OR ".join(
    f"NEW.{column} IS NOT OLD.{column}"
    for column in (
        "facts",
        "result",
        "rule_texts",
        "ruleset_version_id",
        "patient_id",
        "intake_id",
        "disposition",
        "urgent",
        "screening_date",
        "run_at",
    )
)
_PARENT = "(SELECT status FROM screening_screening WHERE id = {}.screening_id) IS NOT 'unsigned'"
_INTAKE = "(SELECT status FROM patients_intake WHERE id = {}.intake_id) = 'locked'"


def _abort(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE = [
    f"""CREATE TRIGGER screening_no_update BEFORE UPDATE ON screening_screening
        WHEN OLD.status IN ('signed', 'superseded') OR {_SNAPSHOT_CHANGED}
        {_abort("a signed screening, and what any screening showed, cannot change")}""",
    f"""CREATE TRIGGER screening_no_delete BEFORE DELETE ON screening_screening
        WHEN OLD.status = 'signed' {_abort("a signed screening cannot be deleted")}""",
    f"""CREATE TRIGGER flagreview_no_insert BEFORE INSERT ON screening_flagreview
        WHEN {_PARENT.format("NEW")} {_abort("flag reviews of a signed screening cannot change")}""",
    f"""CREATE TRIGGER flagreview_no_update BEFORE UPDATE ON screening_flagreview
        WHEN {_PARENT.format("OLD")} {_abort("flag reviews of a signed screening cannot change")}""",
    f"""CREATE TRIGGER flagreview_no_delete BEFORE DELETE ON screening_flagreview
        WHEN {_PARENT.format("OLD")} {_abort("flag reviews of a signed screening cannot change")}""",
    f"""CREATE TRIGGER intake_no_update BEFORE UPDATE ON patients_intake
        WHEN OLD.status = 'locked' {_abort("a locked intake cannot change")}""",
    f"""CREATE TRIGGER intake_no_delete BEFORE DELETE ON patients_intake
        WHEN OLD.status = 'locked' {_abort("a locked intake cannot change")}""",
    f"""CREATE TRIGGER trial_no_insert BEFORE INSERT ON patients_antidepressanttrial
        WHEN {_INTAKE.format("NEW")} {_abort("trials of a locked intake cannot change")}""",
    f"""CREATE TRIGGER trial_no_update BEFORE UPDATE ON patients_antidepressanttrial
        WHEN {_INTAKE.format("OLD")} {_abort("trials of a locked intake cannot change")}""",
    f"""CREATE TRIGGER trial_no_delete BEFORE DELETE ON patients_antidepressanttrial
        WHEN {_INTAKE.format("OLD")} {_abort("trials of a locked intake cannot change")}""",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "screening_no_update",
        "screening_no_delete",
        "flagreview_no_insert",
        "flagreview_no_update",
        "flagreview_no_delete",
        "intake_no_update",
        "intake_no_delete",
        "trial_no_insert",
        "trial_no_update",
        "trial_no_delete",
    )
]


def _run(schema_editor, postgres, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement, params=None)
    else:
        raise RuntimeError(f"no locking triggers written for {vendor}")


def forwards(apps, schema_editor):
    _run(schema_editor, POSTGRES, SQLITE)


def backwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_REVERSE, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0005_screening_flagreview_and_more"),
        ("patients", "0002_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
