"""What every PostgreSQL benchmark needs before Django starts: a database of its own, created if missing."""

from __future__ import annotations

import os
import sys


def require_bench_database(example: str, *, fresh: bool = False) -> str:
    """The DATABASE_URL to benchmark on (exits with a hint if it is not PostgreSQL); creates the database if needed,
    or drops and creates it again with `fresh` (a scratch database that starts empty)."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"Set DATABASE_URL to a PostgreSQL database of its own, e.g. .../{example}")
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        if fresh:
            connection.execute(f'drop database if exists "{name}" with (force)')
        if not connection.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            connection.execute(f'create database "{name}"')
    return url
