"""Looking at the project's advisory locks from another database session."""

import psycopg
from django.db import connection


def other_session() -> psycopg.Connection:
    """A second PostgreSQL session on the test database (another worker host, as it were)."""
    params = connection.get_connection_params()
    keys = ("host", "port", "user", "password", "dbname")
    return psycopg.connect(
        psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k in keys}),
        autocommit=True,
    )


def taken_elsewhere(lock_class: int, key: int) -> bool:
    """True when another session holds the advisory lock (`lock_class`, `key`)."""
    with other_session() as other:
        row = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, key]).fetchone()
        if row[0]:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, key])
        return not row[0]
