"""Sessions that survive a dropped database connection (see `screening.core.outage`).

Every request saves its session (`SESSION_SAVE_EVERY_REQUEST`: the idle timeout renews). When the
worker's connection died during the request, Django's database session store turns the failed
save into `UpdateError`, which `SessionMiddleware` answers with a 400 (`SessionInterrupted`) and
the clinician appears signed out. This store discards the broken connection and saves once more
on a new one; if the database is still unreachable, the session row is left as it was (the user
stays signed in, the idle timeout is not renewed this once) and a warning is logged.
A session that truly disappeared (signed out in another tab) still fails as before.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from screening.core.outage import CONNECTION_ERRORS, discard_broken_connections

logger = logging.getLogger("screening.outage")


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
            return
        except (UpdateError, *CONNECTION_ERRORS) as error:
            if not self._connection_lost(error):
                raise
        discard_broken_connections()
        try:
            super().save(must_create=must_create)
        except (UpdateError, *CONNECTION_ERRORS) as error:
            if must_create or not self._connection_lost(error):
                raise
            logger.warning("database unavailable: session not saved (kept as it was)")

    def _connection_lost(self, error: BaseException) -> bool:
        """Whether `error` came from a lost connection (not from a session deleted meanwhile)."""
        if isinstance(error, CONNECTION_ERRORS):
            return True
        return isinstance(error.__cause__ or error.__context__, CONNECTION_ERRORS)
