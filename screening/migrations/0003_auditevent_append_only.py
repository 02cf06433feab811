"""Make the audit table append-only in the database itself: UPDATE and DELETE raise an error
whatever code or console issues them. PostgreSQL gets a plpgsql trigger function, SQLite its
own RAISE(ABORT) triggers; both surface in Django as IntegrityError (PostgreSQL's SQLSTATE is
23001 restrict_violation, SQLite's a constraint failure), so callers see one error on both.

On SQLite, Django alters a table by rebuilding it, which drops its triggers: a later migration
that alters AuditEvent must re-run `add_triggers` after its schema operations.
"""

from django.db import migrations

FUNCTION = "screening_auditevent_append_only"


def add_triggers(apps, schema_editor):
    table = apps.get_model("screening", "AuditEvent")._meta.db_table
    quote = schema_editor.quote_name
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [
            f"""
            CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit events are append-only: % on % rejected', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END;
            $$
            """,
            f"""
            CREATE TRIGGER {FUNCTION} BEFORE UPDATE OR DELETE ON {quote(table)}
            FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()
            """,
        ]
    elif vendor == "sqlite":
        statements = [
            f"""
            CREATE TRIGGER {FUNCTION}_{operation.lower()} BEFORE {operation} ON {quote(table)}
            BEGIN
                SELECT RAISE(ABORT, 'audit events are append-only: {operation} on {table} rejected');
            END
            """
            for operation in ("UPDATE", "DELETE")
        ]
    else:
        raise NotImplementedError(
            f"No append-only trigger for the {vendor} database: the audit trail needs PostgreSQL or SQLite."
        )
    for sql in statements:
        # No params: plpgsql's own % placeholders must reach the server untouched.
        schema_editor.execute(sql, params=None)


def remove_triggers(apps, schema_editor):
    table = apps.get_model("screening", "AuditEvent")._meta.db_table
    quote = schema_editor.quote_name
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {FUNCTION} ON {quote(table)}",
            f"DROP FUNCTION IF EXISTS {FUNCTION}()",
        ]
    elif vendor == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {FUNCTION}_{op}" for op in ("update", "delete")]
    else:
        statements = []
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0002_initial"),
    ]

    operations = [migrations.RunPython(add_triggers, remove_triggers)]
