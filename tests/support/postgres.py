"""A real PostgreSQL server for tests: ``CASETRAIL_TEST_PG_URL`` when set (a server someone runs),
otherwise a throw-away one from the ``pgserver`` package (pinned in requirements.lock; it ships the
server binaries in its wheel, so a fresh machine needs no system PostgreSQL and no download).

Each test gets a database of its own (``fresh_database``) on the session's one server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

URL_ENV = "CASETRAIL_TEST_PG_URL"


def _sqlalchemy_url(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def server_scratch() -> Iterator[Path]:
    """The server's data directory: outside pytest's basetemp, which another pytest run of the same
    user on the machine may delete while this session's server still runs in it (seen here: the
    server died mid-test)."""
    scratch = Path(tempfile.mkdtemp(prefix="casetrail-pg-"))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def server_url(scratch: Path) -> Iterator[str]:
    """The URL of a server's maintenance database (``postgres``) for the whole session."""
    url = os.environ.get(URL_ENV)
    if url:
        yield url
        return
    import pgserver

    server = pgserver.get_server(str(scratch), cleanup_mode="stop")
    try:
        yield _sqlalchemy_url(server.get_uri())
    finally:
        server.cleanup()


def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
