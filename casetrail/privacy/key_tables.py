"""The key store's one table, on SQLAlchemy Core, and the engine settings per database.

SQLite (a file; the default for development) and PostgreSQL (``CASETRAIL_KEYSTORE_URL``; the
chart's default: every pod of every service points at one database) run the same statements.
Only two things differ, and they live here: the SQLite connection pragmas, and how the bytes of
an erased key are pushed out of the files (:func:`scrub`).
"""

from __future__ import annotations

import os
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


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def create_engine(url: str, busy_timeout: float) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, secure_delete and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # PostgreSQL: a short connect timeout so an unreachable store is a retryable fault, not a hang;
    # pre-ping so a connection the server dropped is replaced rather than failing one seal.
    connect_args: dict[str, Any] = {"connect_timeout": max(1, int(busy_timeout))}
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, pool_size=2, max_overflow=4)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # freed content is zeroed: an erased key is overwritten
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def migrate(engine: sa.Engine) -> None:
    """Create the table; add ``purpose`` to a file written before it existed."""
    METADATA.create_all(engine)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("customer_keys")}
    if "purpose" not in columns:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "ALTER TABLE customer_keys ADD COLUMN purpose VARCHAR(16) NOT NULL DEFAULT 'customer'"))


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
