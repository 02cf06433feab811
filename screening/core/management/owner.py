"""Running a command as the tables' owner: `MIGRATE_DATABASE_URL` when it is set.

The default connection is pointed at the owner's URL for the duration (same database, another
role), then back at `DATABASE_URL`: `migrate` and `database_runtime_role` use it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def as_owner() -> Iterator[BaseDatabaseWrapper]:
    connection = connections[DEFAULT_DB_ALIAS]
    url = getattr(settings, "MIGRATE_DATABASE_URL", "")
    if not url:
        yield connection
        return
    owner = dj_database_url.parse(url)
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(
        {key: owner[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    )
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def runtime_user() -> str:
    """The user the app connects as (DATABASE_URL's)."""
    return str(connections[DEFAULT_DB_ALIAS].settings_dict.get("USER") or "")
