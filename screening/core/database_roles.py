"""A least-privilege PostgreSQL role for the running app.

Migrations run as the tables' owner (`MIGRATE_DATABASE_URL`); the app, its worker and its
commands run as a role (`DATABASE_URL`) that:

- may read and write the app's tables, but only SELECT and INSERT the audit events and
  checkpoints, and only move the chain head's two columns (whose trigger lets them go forward);
- may not TRUNCATE anything, nor create objects, nor change `django_migrations`;
- owns nothing, so it can neither ALTER a table, DROP or disable a trigger, nor replace a
  trigger function; and, not being a superuser, cannot set `session_replication_role`.

`grant_runtime_role` creates the role if needed and sets exactly these grants (again after every
`migrate`, so new tables are covered; default privileges cover them in between).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from screening.core.models import AuditChainHead, AuditCheckpoint, AuditEvent

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Tables that must never be read-write for the app.
READ_ONLY = ("django_migrations",)


class RoleError(Exception):
    """The role cannot be set up as asked; the message says why and what to do."""


def grant_runtime_role(
    connection: BaseDatabaseWrapper, *, role: str, password: str | None = None, create: bool = True
) -> list[str]:
    """Create `role` (when `create` and it does not exist) and give it exactly the runtime
    grants on `connection`'s database, connected as the tables' owner; return the statements
    run (the password, if any, shown as ***)."""
    if connection.vendor != "postgresql":
        raise RoleError(
            f"A runtime database role needs PostgreSQL; this database is {connection.vendor}, "
            "where every connection can do everything its file permissions allow."
        )
    if not ROLE_NAME.fullmatch(role):
        raise RoleError(f"{role!r} is not a plain lower-case role name")
    quote = connection.ops.quote_name
    done: list[str] = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:

        def run(sql: str) -> None:
            cursor.execute(sql)
            done.append(sql)

        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise RoleError(
                f"{role} is the role migrations run as (the tables' owner): the runtime role "
                "must be another one"
            )
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = %s",
            [role],
        )
        attributes = cursor.fetchone()
        if attributes is None:
            if not create:
                raise RoleError(
                    f"role {role} does not exist: create it with `manage.py database_runtime_role`"
                )
            run(f"CREATE ROLE {quote(role)} LOGIN")
        elif any(attributes):
            run(
                f"ALTER ROLE {quote(role)} NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS "
                "NOREPLICATION"
            )
        _refuse_owner_membership(cursor, role)
        if password:
            cursor.execute(f"ALTER ROLE {quote(role)} PASSWORD {_literal(connection, password)}")
            done.append(f"ALTER ROLE {quote(role)} PASSWORD ***")
        for sql in _grants(quote, role=role, database=database, schema=schema):
            run(sql)
    return done


def _grants(quote: Callable[[str], str], *, role: str, database: str, schema: str) -> list[str]:
    r, s = quote(role), quote(schema)
    append_only = ", ".join(quote(m._meta.db_table) for m in (AuditEvent, AuditCheckpoint))
    head = quote(AuditChainHead._meta.db_table)
    read_only = ", ".join(quote(table) for table in READ_ONLY)
    return [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"REVOKE INSERT, UPDATE, DELETE ON {read_only} FROM {r}",
        f"REVOKE UPDATE, DELETE ON {append_only}, {head} FROM {r}",
        f"GRANT UPDATE (last_seq, last_hash) ON {head} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]


def _refuse_owner_membership(cursor: CursorWrapper, role: str) -> None:
    """A member of the owner's role could act as the owner (ALTER, DISABLE TRIGGER)."""
    cursor.execute(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename = %s",
        [AuditEvent._meta.db_table],
    )
    for (table_owner,) in cursor.fetchall():
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, table_owner])
        (member,) = cursor.fetchone()
        if member:
            raise RoleError(
                f"{role} is a member of {table_owner}, which owns the audit tables: it could "
                f"alter them and disable their triggers. REVOKE {table_owner} FROM {role} first."
            )


def _literal(connection: BaseDatabaseWrapper, value: str) -> str:
    """`value` as an SQL string literal (utility statements take no parameters)."""
    from psycopg import sql

    connection.ensure_connection()
    return sql.Literal(value).as_string(connection.connection)
