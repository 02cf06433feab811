"""`python -m tests.dbcheck URL`: make sure the PostgreSQL database for the tests is reachable.

Prints one clear line and exits 1 when the server cannot be reached; creates the database when
the server is up but the database does not exist yet. Used by `make test` before pytest starts.
"""

import sys
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

CONNECT_TIMEOUT = 5


def ensure_database(url: str) -> str | None:
    """None when the database is ready, else a one-line reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        return f"the test suite runs on PostgreSQL, but DATABASE_URL is {parts.scheme}://"
    name = unquote(parts.path.lstrip("/")) or "screening"
    server = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(server, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not found:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        host = parts.hostname or "localhost"
        return f"PostgreSQL is not reachable at {host}:{parts.port or 5432} ({first_line})"
    return None


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/screening"
    problem = ensure_database(url)
    if problem:
        print(f"make test: {problem}. Start PostgreSQL or set TEST_DATABASE_URL.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
