"""The store's database: engine and SQLite settings, schema migrations, and the statement
machinery the writing paths share (dialect upserts, one compiled statement for many rows).

Why Alembic rather than a hand-written version table: the store must run on SQLite *and*
PostgreSQL, and Alembic already handles per-dialect DDL, ordered revisions, upgrade and
downgrade (``rebuild`` is "downgrade to base, upgrade to head, replay").
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import sqlalchemy as sa

if TYPE_CHECKING:
    from services.audit.settings import AuditSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BULK_WAL_PAGES = 100_000  # automatic checkpoint of a bulk (rebuild) store every ~400 MB of WAL


def default_url(config: Optional["AuditSettings"] = None) -> str:
    """``CASETRAIL_AUDIT_DB_URL``, else the SQLite file under the data dir (created)."""
    from services.audit.settings import AuditSettings

    config = config or AuditSettings()
    if config.audit_db_url:
        return config.audit_db_url
    path = config.data_dir / "audit" / "audit.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class StoreDatabase:
    """One audit database (SQLite or PostgreSQL): its engine, schema and statement execution."""

    def __init__(self, url: Optional[str] = None, *, bulk: bool = False, journal: str = "WAL"):
        self.url = url or default_url()
        connect_args: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            connect_args = {"check_same_thread": False, "timeout": 30}
        self.engine = sa.create_engine(self.url, connect_args=connect_args)
        self.dialect = self.engine.dialect.name
        self._compiled: dict[int, tuple] = {}
        self._upserts: dict[str, Any] = {}
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", self._sqlite_pragmas(bulk, journal))

    @staticmethod
    def _sqlite_pragmas(bulk: bool, journal: str = "WAL") -> Callable:
        # journal: WAL always, except for the writers of a single-write rebuild (services/audit/bulk.py),
        # which write every page once into the database file instead of into the WAL and again at
        # checkpoint; the next ordinary connection switches the file back to WAL.
        def apply(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA journal_mode={journal}")
            # A rebuild can always be redone from the log, so it trades
            # durability for speed; live consumption keeps NORMAL.
            cursor.execute(f"PRAGMA synchronous={'OFF' if bulk else 'NORMAL'}")
            # A rebuild touches the whole file: give it a large page cache and mmap.
            cursor.execute(f"PRAGMA cache_size={-1048576 if bulk else -131072}")  # KiB: 1 GiB / 128 MiB
            if bulk:
                cursor.execute("PRAGMA mmap_size=8589934592")
                # Checkpoint in large steps: every page of a rebuild is written
                # twice anyway (insert, then chain); small automatic checkpoints
                # copy the same pages back to the database over and over.
                cursor.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        return apply

    # -- schema -----------------------------------------------------------
    def _alembic(self, connection) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from alembic import command

        with self.engine.begin() as connection:
            command.upgrade(self._alembic(connection), "head")

    def drop(self) -> None:
        """Remove every audit table (downgrade to base) — the first step of a rebuild."""
        from alembic import command

        with self.engine.begin() as connection:
            command.downgrade(self._alembic(connection), "base")

    def schema_revision(self) -> Optional[str]:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()

    # -- statements -------------------------------------------------------
    def _insert(self, table: sa.Table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _executemany(self, connection, stmt, rows: list[dict]) -> int:
        """Run one compiled statement for many rows straight through the driver.

        SQLAlchemy's per-row parameter processing cost more than SQLite's
        insert itself on the rebuild path; the statement is still built (and
        dialect-specific SQL rendered) by SQLAlchemy.
        """
        compiled = self._compiled.get(id(stmt))
        if compiled is None or compiled[0] is not stmt:
            compiled = (stmt, stmt.compile(dialect=self.engine.dialect))
            self._compiled[id(stmt)] = compiled
        sql = compiled[1]
        if sql.positional:
            pick = operator.itemgetter(*sql.positiontup)
            params = [pick(row) for row in rows] if len(sql.positiontup) > 1 else [(pick(row),) for row in rows]
        else:
            params = rows
        return connection.exec_driver_sql(str(sql), params).rowcount

    def _upsert_stmt(self, table: sa.Table, key: str):
        stmt = self._upserts.get(table.name)
        if stmt is None:
            stmt = self._insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c[key]], set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
            )
            self._upserts[table.name] = stmt
        return stmt
