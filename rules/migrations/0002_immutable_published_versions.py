"""Database triggers: published and retired rule-set versions, and their rules, never change.

The models and services refuse too; these triggers make it hold for raw SQL and bulk updates.
A published version may only move to retired (with its retired_at); drafts are free.
"""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION rules_rule_guard() RETURNS trigger AS $$
DECLARE
    old_status text;
    new_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO old_status FROM rules_rulesetversion WHERE id = OLD.version_id;
        IF old_status IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'rule % belongs to a % rule-set version, which is immutable',
                OLD.rule_id, old_status;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO new_status FROM rules_rulesetversion WHERE id = NEW.version_id;
        IF new_status IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'rule % cannot be added to a % rule-set version',
                NEW.rule_id, new_status;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rules_rule_guard
    BEFORE INSERT OR UPDATE OR DELETE ON rules_rule
    FOR EACH ROW EXECUTE FUNCTION rules_rule_guard();

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
            OR NEW.number IS DISTINCT FROM OLD.number
            OR NEW.rule_set_id IS DISTINCT FROM OLD.rule_set_id
            OR NEW.based_on_id IS DISTINCT FROM OLD.based_on_id
            OR NEW.change_note IS DISTINCT FROM OLD.change_note
            OR NEW.published_at IS DISTINCT FROM OLD.published_at
            OR NEW.published_by_id IS DISTINCT FROM OLD.published_by_id
            OR NEW.uuid IS DISTINCT FROM OLD.uuid)) THEN
        RAISE EXCEPTION 'rule-set version % is % and immutable', OLD.number, OLD.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rules_version_guard
    BEFORE UPDATE OR DELETE ON rules_rulesetversion
    FOR EACH ROW EXECUTE FUNCTION rules_version_guard();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS rules_rule_guard ON rules_rule;
DROP FUNCTION IF EXISTS rules_rule_guard();
DROP TRIGGER IF EXISTS rules_version_guard ON rules_rulesetversion;
DROP FUNCTION IF EXISTS rules_version_guard();
"""

_NOT_DRAFT = "(SELECT status FROM rules_rulesetversion WHERE id = {}.version_id) IS NOT 'draft'"

SQLITE = [
    f"""CREATE TRIGGER rules_rule_no_insert BEFORE INSERT ON rules_rule
        WHEN {_NOT_DRAFT.format("NEW")}
        BEGIN SELECT RAISE(ABORT, 'rules can only be added to a draft rule-set version'); END""",
    f"""CREATE TRIGGER rules_rule_no_update BEFORE UPDATE ON rules_rule
        WHEN {_NOT_DRAFT.format("OLD")} OR {_NOT_DRAFT.format("NEW")}
        BEGIN SELECT RAISE(ABORT, 'rules of a published or retired version are immutable'); END""",
    f"""CREATE TRIGGER rules_rule_no_delete BEFORE DELETE ON rules_rule
        WHEN {_NOT_DRAFT.format("OLD")}
        BEGIN SELECT RAISE(ABORT, 'rules of a published or retired version are immutable'); END""",
    """CREATE TRIGGER rules_version_no_delete BEFORE DELETE ON rules_rulesetversion
        WHEN OLD.status IS NOT 'draft'
        BEGIN SELECT RAISE(ABORT, 'a published or retired rule-set version cannot be deleted'); END""",
    """CREATE TRIGGER rules_version_no_update BEFORE UPDATE ON rules_rulesetversion
        WHEN OLD.status = 'retired' OR (OLD.status = 'published' AND (
            NEW.status IS NOT 'retired'
            OR NEW.number IS NOT OLD.number
            OR NEW.rule_set_id IS NOT OLD.rule_set_id
            OR NEW.based_on_id IS NOT OLD.based_on_id
            OR NEW.change_note IS NOT OLD.change_note
            OR NEW.published_at IS NOT OLD.published_at
            OR NEW.published_by_id IS NOT OLD.published_by_id
            OR NEW.uuid IS NOT OLD.uuid))
        BEGIN SELECT RAISE(ABORT, 'published and retired rule-set versions are immutable'); END""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS rules_rule_no_insert",
    "DROP TRIGGER IF EXISTS rules_rule_no_update",
    "DROP TRIGGER IF EXISTS rules_rule_no_delete",
    "DROP TRIGGER IF EXISTS rules_version_no_delete",
    "DROP TRIGGER IF EXISTS rules_version_no_update",
]


def _run(schema_editor, postgres, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no immutability triggers written for {vendor}")


def forwards(apps, schema_editor):
    _run(schema_editor, POSTGRES, SQLITE)


def backwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_REVERSE, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("rules", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
