"""The key store's one table, on SQLAlchemy Core, and the engine settings per database.

SQLite (a file; the default for development) and PostgreSQL (``CASETRAIL_KEYSTORE_URL``; the
chart's default: every pod of every service points at one database) run the same statements.
Only two things differ, and they live here: the SQLite connection pragmas, and how the bytes of
an erased key are pushed out of the files (:func:`scrub`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa

METADATA = sa.MetaData()

# One row per key ever issued. ``subject`` is SHA-256 of (tenant, customer id) for a customer's key,
# of (tenant, "record", record id) for a key of its own (a dead letter whose customer is unknown);
# ``subject`` and ``key`` are NULL once erased, the row itself is the tombstone.
CUSTOMER_KEYS = sa.Table(
    "customer_keys", METADATA,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("subject", sa.String(64)),
    sa.Column("key", sa.LargeBinary),  # 32 bytes, or 60 when wrapped with the master key
    sa.Column("wrapped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.String(40), nullable=False),  # ISO 8601, UTC, milliseconds
    sa.Column("erased_at", sa.String(40)),
    sa.Column("purpose", sa.String(16), nullable=False, server_default="customer"),  # customer | record
)
# Exactly one live key per subject, even when two pods create it at the same moment: the loser's
# insert does nothing (ON CONFLICT DO NOTHING) and it reads the winner's key.
sa.Index("one_live_key_per_subject", CUSTOMER_KEYS.c.subject, unique=True,
         sqlite_where=CUSTOMER_KEYS.c.erased_at.is_(None), postgresql_where=CUSTOMER_KEYS.c.erased_at.is_(None))


# The two reads every seal and open make, as text built once: a Core select costs more in building,
# cache-key generation and coercion (~0.5 ms per call here) than SQLite takes to answer it.
LIVE_KEY = sa.text("SELECT key_id, key, wrapped FROM customer_keys WHERE subject = :subject AND erased_at IS NULL")
KEY_BY_ID = sa.text("SELECT key, wrapped, erased_at FROM customer_keys WHERE key_id = :key_id")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def connect_args(url: str, busy_timeout: float) -> dict[str, Any]:
    """The driver's connection arguments: SQLite's busy timeout; for PostgreSQL a short connect timeout,
    so an unreachable store is a retryable fault, not a hang."""
    if url.startswith("sqlite"):
        return {"timeout": busy_timeout, "check_same_thread": False}
    return {"connect_timeout": max(1, int(busy_timeout))}


def create_engine(url: str, busy_timeout: float) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, secure_delete and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args=connect_args(url, busy_timeout))
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre-ping: a connection the server dropped is replaced rather than failing one seal
    return sa.create_engine(url, connect_args=connect_args(url, busy_timeout), pool_pre_ping=True,
                            pool_size=2, max_overflow=4)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # freed content is zeroed: an erased key is overwritten
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def migrate(engine: sa.Engine) -> None:
    """Create the table; add ``purpose`` to a file written before it existed.

    Every process of a pipeline migrates at start-up, at the same moment: between create_all's
    "does it exist?" and its CREATE another process may create the table (or add the column), so
    "already exists" / "duplicate column" from the database means done, not failed."""
    try:
        METADATA.create_all(engine)
    except sa.exc.DBAPIError as exc:
        if not _created_meanwhile(exc):
            raise
        METADATA.create_all(engine)  # the table is there now; its index may not be
    columns = {column["name"] for column in sa.inspect(engine).get_columns("customer_keys")}
    if "purpose" not in columns:
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "ALTER TABLE customer_keys ADD COLUMN purpose VARCHAR(16) NOT NULL DEFAULT 'customer'"))
        except sa.exc.DBAPIError as exc:
            if not _created_meanwhile(exc):
                raise


def _created_meanwhile(exc: sa.exc.DBAPIError) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "already exists" in text or "duplicate column" in text


def insert_if_absent(engine: sa.Engine) -> Callable[..., Any]:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the engine's dialect."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return lambda **values: insert(CUSTOMER_KEYS).values(**values).on_conflict_do_nothing()


def scrub(engine: sa.Engine) -> None:
    """Push the bytes of keys just erased out of the database's files, as far as the database allows.

    SQLite (``secure_delete`` on): the UPDATE zeroed the old cell in the page it rewrote; the
    checkpoint moves those pages from the WAL into the file and truncates the WAL, so no copy of
    the old page is left on disk (backups taken before stay what they are).

    PostgreSQL: an UPDATE writes a new row version and leaves the old one (with the key) in the
    heap as a dead tuple. ``VACUUM`` prunes it so the space is reused, but does not promise to
    overwrite the freed bytes; the old version also stays in WAL segments until they are recycled,
    and in WAL archives, base backups and replicas' files until their own retention. What makes
    those remnants useless is the master key: the stored keys are wrapped with it, so a copy of
    the database files alone opens nothing (docs/security.md, "What erasure reaches").
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM customer_keys")


def forked(engine: sa.Engine, pid: int) -> bool:
    """After a fork the pooled connections belong to the parent: drop them (without closing theirs)."""
    if pid != os.getpid():
        engine.dispose(close=False)
        return True
    return False


class HotReads:
    """The two reads of every seal and open, on a DBAPI connection of the thread's own.

    Why not the engine: SQLAlchemy's execution path (pool checkout, result wrapping) costs ~0.2 ms a
    call here, ten times what SQLite takes to answer; ingest makes one such read per ticket for the
    intake payload and one for the original. The statements are compiled once for the dialect; the
    connection is opened like the engine's (SQLite pragmas; PostgreSQL in autocommit, so a read is
    one round trip and holds no transaction), dropped on any driver error and after a fork.
    """

    def __init__(self, engine: sa.Engine, busy_timeout: float):
        self._engine = engine
        self._connect_args = connect_args(str(engine.url), busy_timeout)
        self._local = threading.local()
        self._statements = {}
        for name, clause in (("live_key", LIVE_KEY), ("key_by_id", KEY_BY_ID)):
            compiled = clause.compile(dialect=engine.dialect)
            self._statements[name] = (str(compiled), compiled.positiontup)
        self.driver_errors = (engine.dialect.loaded_dbapi.Error,)
        self.driver_operational_errors = (engine.dialect.loaded_dbapi.OperationalError,)

    def first(self, name: str, **params: Any):
        sql, positions = self._statements[name]
        connection = self._connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, [params[p] for p in positions] if positions else params)
            row = cursor.fetchone()
            cursor.close()
            return row
        except self.driver_errors:
            self.discard()
            raise

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        cparams = {**cparams, **self._connect_args}
        connection = self._engine.dialect.connect(*cargs, **cparams)
        if self._engine.dialect.name == "sqlite":
            _sqlite_pragmas(connection, None)
        else:
            connection.autocommit = True
        self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def discard(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None and getattr(self._local, "pid", None) == os.getpid():
            try:
                connection.close()
            except self.driver_errors:
                pass
