"""Database triggers: a published version's approval record (who submitted, approved, returned
and scheduled it, their comments and times, the single-person mark) never changes either.

Replaces the version guard of 0002 with one that also compares the columns of 0010.
"""

from django.db import migrations

_GUARDED = (
    "number",
    "rule_set_id",
    "based_on_id",
    "change_note",
    "published_at",
    "published_by_id",
    "uuid",
)
_APPROVAL = (
    "approval",
    "submitted_by_id",
    "submitted_at",
    "approved_by_id",
    "approved_at",
    "approval_note",
    "returned_by_id",
    "returned_at",
    "return_comment",
    "publish_after",
    "scheduled_by_id",
    "single_person",
)


def _postgres(columns):
    changed = "\n            OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    return f"""
CREATE OR REPLACE FUNCTION rules_version_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'a % rule-set version cannot be deleted', OLD.status;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'retired' OR (OLD.status = 'published' AND (
            NEW.status <> 'retired'
            OR {changed})) THEN
        RAISE EXCEPTION 'rule-set version % is % and immutable', OLD.number, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _sqlite(columns):
    changed = "\n            OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return [
        "DROP TRIGGER IF EXISTS rules_version_no_update",
        f"""CREATE TRIGGER rules_version_no_update BEFORE UPDATE ON rules_rulesetversion
        WHEN OLD.status = 'retired' OR (OLD.status = 'published' AND (
            NEW.status IS NOT 'retired'
            OR {changed}))
        BEGIN SELECT RAISE(ABORT, 'published and retired rule-set versions are immutable'); END""",
    ]


def _run(schema_editor, columns):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_postgres(columns), params=None)
    elif vendor == "sqlite":
        for statement in _sqlite(columns):
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no immutability triggers written for {vendor}")


def forwards(apps, schema_editor):
    _run(schema_editor, _GUARDED + _APPROVAL)


def backwards(apps, schema_editor):
    _run(schema_editor, _GUARDED)


class Migration(migrations.Migration):
    dependencies = [("rules", "0010_rulesetversion_approval")]

    operations = [migrations.RunPython(forwards, backwards)]
