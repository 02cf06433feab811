"""Database triggers: the flags a signed screening raised are locked with it, as its flag
reviews already are (migration 0006).

`ScreeningFlag` rows copy each flag a screening raised, and the kind and time of its review.
Once the screening is signed none may be added, changed or removed, whatever path tries (raw
SQL, bulk updates, the shell); the flag reviews' trigger of 0006 is kept as it is (it refuses
any change once the screening is no longer unsigned). A superseded screening's flags stay free,
so that removing an unsigned or superseded screening still cascades to them.
"""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION screening_screeningflag_guard() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM screening_screening
        WHERE id = COALESCE(NEW.screening_id, OLD.screening_id);
    IF parent_status = 'signed' THEN
        RAISE EXCEPTION 'the flags of a signed screening cannot change: % rejected', TG_OP
            USING ERRCODE = '23001';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.screening_id IS DISTINCT FROM OLD.screening_id
       AND (SELECT status FROM screening_screening WHERE id = OLD.screening_id) = 'signed' THEN
        RAISE EXCEPTION 'the flags of a signed screening cannot change: UPDATE rejected'
            USING ERRCODE = '23001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER screening_screeningflag_guard
    BEFORE INSERT OR UPDATE OR DELETE ON screening_screeningflag
    FOR EACH ROW EXECUTE FUNCTION screening_screeningflag_guard();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS screening_screeningflag_guard ON screening_screeningflag;
DROP FUNCTION IF EXISTS screening_screeningflag_guard();
"""

_SIGNED = "(SELECT status FROM screening_screening WHERE id = {}.screening_id) = 'signed'"


def _abort(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE = [
    f"""CREATE TRIGGER screeningflag_no_insert BEFORE INSERT ON screening_screeningflag
        WHEN {_SIGNED.format("NEW")} {_abort("the flags of a signed screening cannot change")}""",
    f"""CREATE TRIGGER screeningflag_no_update BEFORE UPDATE ON screening_screeningflag
        WHEN {_SIGNED.format("OLD")} OR {_SIGNED.format("NEW")}
        {_abort("the flags of a signed screening cannot change")}""",
    f"""CREATE TRIGGER screeningflag_no_delete BEFORE DELETE ON screening_screeningflag
        WHEN {_SIGNED.format("OLD")} {_abort("the flags of a signed screening cannot change")}""",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("screeningflag_no_insert", "screeningflag_no_update", "screeningflag_no_delete")
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
    dependencies = [("screening", "0013_reviewers_use_the_reviewer_desk")]

    operations = [migrations.RunPython(forwards, backwards)]
