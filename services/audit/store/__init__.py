"""The audit store: a projection of the event log, in SQLite (default) or PostgreSQL.

One data layer (SQLAlchemy Core) for both databases, its schema managed by
Alembic migrations (``services/audit/migrations``). Why Alembic rather than a
hand-written version table: the store must run on SQLite *and* PostgreSQL,
and Alembic already handles per-dialect DDL, ordered revisions, upgrade and
downgrade (``rebuild`` is "downgrade to base, upgrade to head, replay").

Writing happens in two steps so a replay of a million events stays fast:

1. ``ingest`` reduces events to audit records and upserts them (deduplicated
   by event id: a redelivery is a no-op; two different records with one id
   keep the smaller content hash, whatever the arrival order);
2. ``rechain`` recomputes, for each touched chain, the canonical order, the
   hash chain, the erasure scrubbing and the conversation's summary row.

Live consumption does both per batch; a rebuild ingests everything first and
rechains once at the end. Either way the result depends only on the set of
events, which is what makes a rebuild byte-for-byte identical (``digest``).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

import orjson
import sqlalchemy as sa

from services.audit import chain
from services.audit.lineage import fold
from services.audit.records import canonical_json, conversation_identity, iso_utc, scrub
from services.audit.schema import SEARCH_COLUMNS, chains, conversations, events
from services.audit.store.rows import conversation_dict, row_of, summary_row

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
RECHAIN_BATCH = 2000  # chains per rechain query
BULK_WAL_PAGES = 100_000  # automatic checkpoint of a bulk (rebuild) store every ~400 MB of WAL
NON_CONVERSATION_PREFIXES = ("intake:", "kb:", "erasure:", "deadletter:")


def default_url() -> str:
    import os

    from casetrail.settings import settings

    url = os.environ.get("CASETRAIL_AUDIT_DB_URL")
    if url:
        return url
    path = settings().data_dir / "audit" / "audit.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class IngestResult:
    records: int
    chains: int


class AuditStore:
    """Read and write the audit projection. Thread-safe as SQLAlchemy engines are."""

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

    # -- writing ----------------------------------------------------------
    def ingest(self, items: Iterable[tuple[str, dict]], *, rechain: bool = True) -> IngestResult:
        """Store decoded events ``(event type name, record dict)``; rechain what they touched."""
        return self.ingest_rows([row_of(event_type, event) for event_type, event in items], rechain=rechain)

    def ingest_rows(self, rows: list[dict], *, rechain: bool = True) -> IngestResult:
        """Store rows made by ``row_of`` (possibly in another process); rechain what they touched."""
        if not rows:
            return IngestResult(0, 0)
        dirty = {row["chain_key"] for row in rows}
        refresh = {row["related_id"] for row in rows if row["related_id"]}  # summary changes, chain does not
        erased_customers = {(row["tenant"], row["customer_id"]) for row in rows if row["stage"] == "erased"}
        with self.engine.begin() as connection:
            self._upsert_events(connection, rows)
            for tenant, customer in erased_customers:
                found = connection.execute(
                    sa.select(conversations.c.conversation_id).where(
                        conversations.c.tenant == tenant, conversations.c.customer_id == customer
                    )
                ).scalars()
                dirty.update(found)
        if rechain:
            self.rechain(dirty | refresh)
        return IngestResult(len(rows), len(dirty))

    def _insert(self, table: sa.Table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _upsert_events(self, connection, rows: list[dict]) -> None:
        stmt = self._insert(events)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[events.c.event_id],
            set_={c: getattr(excluded, c) for c in ("chain_key", "sort_key", "event_type", "stage", "tenant",
                                                    "occurred_at", "related_id", "content_hash", "record")}
            | {"seq": sa.null()},
            where=excluded.content_hash < events.c.content_hash,
        )
        self._executemany(connection, stmt, rows)

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

    def insert_finished(self, rows: list[tuple], heads: list[dict], summaries: list[dict]) -> int:
        """Insert rows whose chain position is already computed (a rebuild's single write of them).

        ``rows`` are tuples in the column order of ``audit_events``; an event id already present is
        left alone (the caller compares the returned count of inserted rows). One transaction.
        """
        with self.engine.begin() as connection:
            inserted = connection.exec_driver_sql(self._finished_sql(), rows).rowcount if rows else 0
            if heads:
                self._executemany(connection, self._upsert_stmt(chains, "chain_key"), heads)
            if summaries:
                self._executemany(connection, self._upsert_stmt(conversations, "conversation_id"), summaries)
        return inserted

    def _finished_sql(self) -> str:
        sql = self._upserts.get("finished")
        if sql is None:
            stmt = self._insert(events).values({c.name: sa.bindparam(c.name) for c in events.columns})
            compiled = stmt.on_conflict_do_nothing(index_elements=[events.c.event_id]).compile(dialect=self.engine.dialect)
            if not compiled.positional or tuple(compiled.positiontup) != tuple(c.name for c in events.columns):
                raise RuntimeError("insert_finished needs a positional driver with parameters in column order")
            sql = self._upserts["finished"] = str(compiled)
        return sql

    def begin_bulk_load(self) -> None:
        """Drop the secondary indexes of the events table before a rebuild loads it.

        Building an index once over the loaded table is much cheaper than
        keeping it up to date through a million random inserts;
        ``end_bulk_load`` recreates exactly the indexes the schema declares.
        """
        with self.engine.begin() as connection:
            for index in events.indexes:
                index.drop(connection, checkfirst=True)

    def end_bulk_load(self) -> None:
        with self.engine.begin() as connection:
            for index in events.indexes:
                index.create(connection, checkfirst=True)

    def rechain_all(self, progress: Optional[Callable[[int, int], None]] = None, *, pool=None) -> int:
        """Rechain every chain of the store; with a process ``pool``, chains are computed in its workers.

        The work is cut into ranges of ``RECHAIN_BATCH`` chain keys. A worker
        reads its range through its own connection and computes order, hashes,
        scrubbing and summaries; this process only writes the results, one
        transaction per range. Ranges are disjoint and nothing a range computes
        depends on another range's writes, so the result is the same as
        computing them one after the other here.
        """
        with self.engine.connect() as connection:
            keys = list(connection.execute(
                sa.select(events.c.chain_key).distinct().order_by(events.c.chain_key)).scalars())
        if not keys:
            return 0
        erasures = self._erasures()
        ranges = [(keys[i], keys[min(i + RECHAIN_BATCH, len(keys)) - 1]) for i in range(0, len(keys), RECHAIN_BATCH)]
        if pool is not None and not _shareable(self.url):
            pool = None  # an in-memory database cannot be opened by another process
        done = 0

        def write(work: "ChainWork") -> None:
            nonlocal done
            with self.engine.begin() as connection:
                self._write_chains(connection, work)
            done += work.chains
            if progress:
                progress(done, len(keys))

        if pool is None:
            for first, last in ranges:
                with self.engine.connect() as connection:
                    rows, related = _fetch_range(connection, first, last)
                write(compute_chains(rows, related, erasures))
            return len(keys)
        window = 2 * max(1, getattr(pool, "_processes", 2))
        pending: collections.deque = collections.deque()
        for first, last in ranges:
            pending.append(pool.apply_async(chain_range, (self.url, first, last, erasures)))
            while len(pending) > window:
                write(pending.popleft().get())
        while pending:
            write(pending.popleft().get())
        return len(keys)

    def rechain(self, keys: Iterable[str], progress: Optional[Callable[[int, int], None]] = None) -> None:
        """Recompute order, hash chain, erasure scrubbing and summary of the given chains."""
        keys = sorted(set(keys))
        if not keys:
            return
        erasures = self._erasures()
        done = 0
        for start in range(0, len(keys), RECHAIN_BATCH):
            batch = keys[start : start + RECHAIN_BATCH]
            with self.engine.begin() as connection:
                rows, related = _fetch_keys(connection, batch)
                work = compute_chains(rows, related, erasures)
                self._write_chains(connection, work)
            if work.chains < len(batch):
                # Conversations referred to (e.g. by a re-contact) that have no records of their own yet.
                log.debug("%d referenced conversations have no records yet", len(batch) - work.chains)
            done += len(batch)
            if progress:
                progress(done, len(keys))

    def _erasures(self) -> dict[str, list[dict]]:
        """Erasure records by tenant (few: one per erased customer)."""
        out: dict[str, list[dict]] = {}
        with self.engine.connect() as connection:
            for text in connection.execute(sa.select(events.c.record).where(*_chain_prefix("erasure:"))).scalars():
                record = orjson.loads(text)
                out.setdefault(record["tenant"], []).append(record)
        return out

    def _write_chains(self, connection, work: "ChainWork") -> None:
        if work.rewrites:
            self._executemany(connection, _REWRITE, work.rewrites)
        if work.updates:
            self._executemany(connection, _RELINK, work.updates)
        if work.heads:
            self._executemany(connection, self._upsert_stmt(chains, "chain_key"), work.heads)
        if work.summaries:
            self._executemany(connection, self._upsert_stmt(conversations, "conversation_id"), work.summaries)

    def _upsert_stmt(self, table: sa.Table, key: str):
        stmt = self._upserts.get(table.name)
        if stmt is None:
            stmt = self._insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c[key]], set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
            )
            self._upserts[table.name] = stmt
        return stmt

    def purge_expired(self, retention: Callable[[str], dt.timedelta], now: Optional[dt.datetime] = None) -> int:
        """Delete every chain of a tenant whose newest record is older than the tenant's retention."""
        now = now or dt.datetime.now(dt.timezone.utc)
        doomed: list[str] = []
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(events.c.chain_key, events.c.tenant, sa.func.max(events.c.occurred_at)).group_by(
                    events.c.chain_key, events.c.tenant
                )
            ).all()
        for key, tenant, newest in rows:
            if tenant and newest and newest < iso_utc(now - retention(tenant)):
                doomed.append(key)
        for start in range(0, len(doomed), RECHAIN_BATCH):
            batch = doomed[start : start + RECHAIN_BATCH]
            with self.engine.begin() as connection:
                connection.execute(events.delete().where(events.c.chain_key.in_(batch)))
                connection.execute(chains.delete().where(chains.c.chain_key.in_(batch)))
                connection.execute(conversations.delete().where(conversations.c.conversation_id.in_(batch)))
        return len(doomed)

    # -- reading ----------------------------------------------------------
    def conversation(self, conversation_id: str) -> Optional[dict]:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(conversations).where(conversations.c.conversation_id == conversation_id)
            ).mappings().first()
        return conversation_dict(row) if row else None

    def lineage(self, conversation_id: str, tenant: Optional[str] = None) -> Optional[dict]:
        """The lineage of one conversation (``None`` if unknown, or of another tenant)."""
        c = events.c
        with self.engine.connect() as connection:
            head = connection.execute(
                sa.select(conversations.c.tenant, conversations.c.source, conversations.c.external_id,
                          conversations.c.customer_id).where(conversations.c.conversation_id == conversation_id)
            ).first()
            if head is None or (tenant is not None and head.tenant != tenant):
                return None
            keys = [conversation_id]
            if head.source and head.external_id:
                keys.append(f"intake:{head.tenant}:{head.source}:{head.external_id}")
            rows = connection.execute(
                sa.select(c.event_id, c.seq, c.hash, c.record).where(
                    sa.or_(c.chain_key.in_(keys), sa.and_(c.related_id.isnot(None), c.related_id == conversation_id))
                )
            ).all()
            erasure_rows = connection.execute(
                sa.select(c.event_id, c.seq, c.hash, c.record).where(c.chain_key == f"erasure:{head.tenant}")
            ).all()
        records, hashes = [], {}
        for row in rows:
            records.append(orjson.loads(row.record))
            hashes[row.event_id] = {"seq": row.seq, "hash": row.hash}
        for row in erasure_rows:
            record = orjson.loads(row.record)
            if record.get("customer_id") == head.customer_id and head.customer_id is not None:
                records.append(record)
                hashes[row.event_id] = {"seq": row.seq, "hash": row.hash}
        lineage = fold(conversation_id, records)
        for step in lineage["steps"]:
            step.update(hashes.get(step["record"]["event_id"], {}))
        return lineage

    def search(self, tenant: str, *, since: Optional[str] = None, until: Optional[str] = None,
               model: Optional[str] = None, limit: int = 100, offset: int = 0, **filters: Optional[str]) -> list[dict]:
        """Conversation summaries of one tenant matching every given filter, newest first."""
        t = conversations.c
        query = sa.select(conversations).where(t.tenant == tenant)
        for name, value in filters.items():
            if value is None:
                continue
            if name not in SEARCH_COLUMNS:
                raise ValueError(f"cannot search by {name!r}; searchable: {', '.join(SEARCH_COLUMNS)}")
            query = query.where(t[name] == value)
        if model is not None:
            query = query.where(sa.or_(t.triage_model == model, t.draft_model == model))
        if since is not None:
            query = query.where(t.started_at >= iso_utc(since))
        if until is not None:
            query = query.where(t.started_at < iso_utc(until))
        query = query.order_by(t.started_at.desc(), t.conversation_id).limit(limit).offset(offset)
        with self.engine.connect() as connection:
            return [conversation_dict(row) for row in connection.execute(query).mappings()]

    def summaries(self, tenant: Optional[str], since: str, until: str) -> Iterator[dict]:
        """Every conversation (summary row with its parsed summary) started in ``[since, until)``."""
        t = conversations.c
        query = sa.select(conversations).where(t.started_at >= since, t.started_at < until)
        if tenant is not None:
            query = query.where(t.tenant == tenant)
        with self.engine.connect() as connection:
            for row in connection.execute(query.order_by(t.started_at, t.conversation_id)).mappings():
                yield conversation_dict(row)

    def kb_clauses(self, tenant: Optional[str] = None) -> set[str]:
        """``clause_id@kb_version`` of every clause a KnowledgeBasePublished event announced."""
        c = events.c
        query = sa.select(c.record).where(*_chain_prefix("kb:"))
        if tenant is not None:
            query = query.where(c.tenant == tenant)
        out: set[str] = set()
        with self.engine.connect() as connection:
            for text in connection.execute(query).scalars():
                record = orjson.loads(text)
                out.update(f"{clause}@{record['kb_version']}" for clause in record.get("clause_ids") or ())
        return out

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {
                "events": connection.execute(sa.select(sa.func.count()).select_from(events)).scalar_one(),
                "chains": connection.execute(sa.select(sa.func.count()).select_from(chains)).scalar_one(),
                "conversations": connection.execute(sa.select(sa.func.count()).select_from(conversations)).scalar_one(),
            }

    # -- integrity --------------------------------------------------------
    def verify(self) -> list[chain.ChainProblem]:
        """Recompute every hash chain and every summary row; name what disagrees."""
        c = events.c
        problems: list[chain.ChainProblem] = []
        erasures = self._erasures()
        with self.engine.connect() as connection:
            heads = {r.chain_key: r for r in connection.execute(sa.select(chains))}
            stored_summaries = {
                r["conversation_id"]: r for r in connection.execute(sa.select(conversations)).mappings()
            }
            rows = connection.execute(
                sa.select(c.chain_key, c.seq, c.event_id, c.record, c.prev_hash, c.hash).order_by(c.chain_key, c.seq)
            )
            current_key, current = None, []
            for row in rows:
                if row.chain_key != current_key and current_key is not None:
                    problems += self._verify_chain(connection, current_key, current, heads, stored_summaries, erasures)
                    current = []
                current_key = row.chain_key
                current.append(row)
            if current_key is not None:
                problems += self._verify_chain(connection, current_key, current, heads, stored_summaries, erasures)
            seen = {p for p in heads}
            for key in stored_summaries:
                if key not in seen:
                    problems.append(chain.ChainProblem(key, -1, "", "summary row without records"))
        return problems

    def _verify_chain(self, connection, key, rows, heads, stored_summaries, erasures) -> list[chain.ChainProblem]:
        problems = chain.verify(
            key, [(r.seq, r.event_id, r.record.encode("utf-8"), r.prev_hash, r.hash) for r in rows]
        )
        head = heads.get(key)
        if head is None or head.length != len(rows) or head.head_hash != rows[-1].hash:
            problems.append(chain.ChainProblem(key, len(rows) - 1, rows[-1].event_id, "chain head does not match"))
        summary = stored_summaries.get(key)
        if summary is not None:
            records = [orjson.loads(r.record) for r in rows]
            related = [
                orjson.loads(t)
                for t in connection.execute(sa.select(events.c.record).where(events.c.related_id.isnot(None), events.c.related_id == key)).scalars()
            ]
            erasure = _erasure_for(records, erasures)
            expected = summary_row(fold(key, records + related + ([erasure] if erasure else [])), len(records))
            if any(expected[k] != summary[k] for k in expected):
                changed = sorted(k for k in expected if expected[k] != summary[k])
                problems.append(chain.ChainProblem(key, -1, "", f"summary row differs from its records: {changed}"))
        return problems

    def digest(self) -> str:
        """SHA-256 over every stored row in a fixed order: equal digests, identical stores."""
        h = hashlib.sha256()
        with self.engine.connect() as connection:
            c = events.c
            for row in connection.execute(
                sa.select(c.chain_key, c.seq, c.event_id, c.event_type, c.stage, c.tenant, c.occurred_at, c.related_id,
                          c.content_hash, c.record, c.prev_hash, c.hash).order_by(c.chain_key, c.seq, c.event_id)
            ):
                h.update(orjson.dumps(list(row)))
            for row in connection.execute(sa.select(chains).order_by(chains.c.chain_key)):
                h.update(orjson.dumps(list(row)))
            for row in connection.execute(sa.select(conversations).order_by(conversations.c.conversation_id)):
                h.update(orjson.dumps(list(row)))
        return h.hexdigest()


_REWRITE = events.update().where(events.c.event_id == sa.bindparam("b_event_id")).values(record=sa.bindparam("b_record"))
_RELINK = (
    events.update()
    .where(events.c.event_id == sa.bindparam("b_event_id"))
    .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"))
)


def _chain_prefix(prefix: str) -> tuple:
    """Chains whose key starts with ``prefix``, as an index range (works the same in SQLite and PostgreSQL)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (events.c.chain_key >= prefix, events.c.chain_key < upper)


_ROW_COLUMNS = (events.c.event_id, events.c.chain_key, events.c.record, events.c.seq, events.c.prev_hash, events.c.hash)
_RANGE_ROWS = (
    sa.select(*_ROW_COLUMNS)
    .where(events.c.chain_key >= sa.bindparam("lo"), events.c.chain_key <= sa.bindparam("hi"))
    .order_by(events.c.chain_key, events.c.sort_key)
)
_RANGE_RELATED = sa.select(events.c.related_id, events.c.record).where(
    events.c.related_id.isnot(None), events.c.related_id >= sa.bindparam("lo"), events.c.related_id <= sa.bindparam("hi")
)
_RAW_SQL: dict[tuple[str, int], tuple[str, Optional[tuple]]] = {}


def _raw_all(connection, stmt, params: dict) -> list[tuple]:
    """Rows of a compiled SELECT as plain tuples, straight from the driver (no per-row Row objects)."""
    dialect = connection.dialect
    cached = _RAW_SQL.get((dialect.name, id(stmt)))
    if cached is None:
        compiled = stmt.compile(dialect=dialect)
        cached = (str(compiled), tuple(compiled.positiontup) if compiled.positional else None)
        _RAW_SQL[(dialect.name, id(stmt))] = cached
    sql, order = cached
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, tuple(params[name] for name in order) if order is not None else params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetch_range(connection, first: str, last: str) -> tuple[list, dict[str, list[dict]]]:
    """Rows ``(event_id, chain_key, record, seq, prev_hash, hash)`` of the chains in ``[first, last]``, in
    canonical order, and the records of other chains that refer to one of them (by ``related_id``)."""
    params = {"lo": first, "hi": last}
    rows = _raw_all(connection, _RANGE_ROWS, params)
    related: dict[str, list[dict]] = {}
    for rid, text in _raw_all(connection, _RANGE_RELATED, params):
        related.setdefault(rid, []).append(orjson.loads(text))
    return rows, related


def _fetch_keys(connection, keys: list[str]) -> tuple[list, dict[str, list[dict]]]:
    """Like ``_fetch_range`` for a list of chain keys (the live path: the chains a batch touched)."""
    c = events.c
    rows = connection.execute(sa.select(*_ROW_COLUMNS).where(c.chain_key.in_(keys)).order_by(c.chain_key, c.sort_key)).all()
    related: dict[str, list[dict]] = {}
    for rid, text in connection.execute(sa.select(c.related_id, c.record).where(c.related_id.isnot(None), c.related_id.in_(keys))):
        related.setdefault(rid, []).append(orjson.loads(text))
    return rows, related


@dataclass
class ChainWork:
    """What rechaining some chains writes: parameter rows of the statements ``_write_chains`` runs."""

    chains: int
    rewrites: list[dict]
    updates: list[dict]
    heads: list[dict]
    summaries: list[dict]


def iter_chains(rows, related: dict[str, list[dict]], erasures: dict[str, list[dict]]) -> Iterator[tuple]:
    """Order, hash chain, erasure scrubbing and summary of chains (pure: runs in worker processes too).

    ``rows`` are tuples ``(event_id, chain_key, record, ...)`` ordered by chain key and sort key,
    one per event id. Yields, per chain, ``(chain_rows, texts, scrubbed, links, head, summary)``:
    the chain's rows, each record's (possibly scrubbed) canonical JSON, whether it was scrubbed,
    its ``(seq, prev_hash, hash)``, the chain-head row and the summary row (``None`` for a
    chain that is not a conversation). The one definition of a chain, for every write path.
    """
    link = chain.link
    loads = orjson.loads
    n_rows = len(rows)
    i = 0
    while i < n_rows:
        key = rows[i][1]
        j = i + 1
        while j < n_rows and rows[j][1] == key:
            j += 1
        chain_rows = rows[i:j]
        i = j
        records = [loads(r[2]) for r in chain_rows]
        texts = [r[2].encode("utf-8") for r in chain_rows]
        scrubbed = [False] * len(chain_rows)
        is_conversation = bool(records[0].get("conversation_id")) and not key.startswith(NON_CONVERSATION_PREFIXES)
        erasure = _erasure_for(records, erasures) if is_conversation else None
        if erasure is not None:
            for n, record in enumerate(records):
                if not record.get("erased"):
                    records[n] = scrub(record)
                    texts[n] = canonical_json(records[n])
                    scrubbed[n] = True
        links = []
        prev = chain.GENESIS
        for seq, text in enumerate(texts):
            current = link(prev, text)
            links.append((seq, prev, current))
            prev = current
        tenant = next((r.get("tenant") for r in records if r.get("tenant")), None)
        head = {"chain_key": key, "tenant": tenant, "length": len(records), "head_hash": prev}
        summary = None
        if is_conversation:
            lineage = fold(key, records + related.get(key, []) + ([erasure] if erasure else []))
            summary = summary_row(lineage, len(records))
        yield chain_rows, texts, scrubbed, links, head, summary


def compute_chains(rows, related: dict[str, list[dict]], erasures: dict[str, list[dict]]) -> ChainWork:
    """What rechaining the given chains writes into a store that already holds their rows.

    ``rows`` are ``(event_id, chain_key, record, seq, prev_hash, hash)`` ordered by chain key and
    sort key; only rows whose stored seq / hashes / record differ from the computed ones are written.
    """
    updates: list[dict] = []
    rewrites: list[dict] = []
    heads: list[dict] = []
    summaries: list[dict] = []
    for chain_rows, texts, scrubbed, links, head, summary in iter_chains(rows, related, erasures):
        for row, text, was_scrubbed, (seq, prev, current) in zip(chain_rows, texts, scrubbed, links):
            if was_scrubbed:
                rewrites.append({"b_event_id": row[0], "b_record": text.decode("utf-8")})
            if row[3] != seq or row[4] != prev or row[5] != current:
                updates.append({"b_event_id": row[0], "b_seq": seq, "b_prev": prev, "b_hash": current})
        heads.append(head)
        if summary is not None:
            summaries.append(summary)
    return ChainWork(len(heads), rewrites, updates, heads, summaries)


_WORKER_STORES: dict[str, "AuditStore"] = {}


def chain_range(url: str, first: str, last: str, erasures: dict[str, list[dict]]) -> ChainWork:
    """``compute_chains`` for the chains in ``[first, last]``, read through this process's own connection."""
    store = _WORKER_STORES.get(url)
    if store is None:
        store = _WORKER_STORES[url] = AuditStore(url)
    with store.engine.connect() as connection:
        rows, related = _fetch_range(connection, first, last)
    return compute_chains(rows, related, erasures)


def _shareable(url: str) -> bool:
    """Whether another process can open the same database (not an in-memory SQLite one)."""
    parsed = sa.engine.make_url(url)
    return not parsed.drivername.startswith("sqlite") or parsed.database not in (None, "", ":memory:")


def _erasure_for(records: list[dict], erasures: dict[str, list[dict]]) -> Optional[dict]:
    """The erasure record that covers this conversation, if any.

    A conversation is covered when its sealed original used the erased key, or
    when the erased customer's conversation began before the erasure (a
    customer who comes back later gets a new key and a new history).
    """
    tenant = next((r.get("tenant") for r in records if r.get("tenant")), None)
    candidates = erasures.get(tenant or "", [])
    if not candidates:
        return None
    customer_id = key_id = started = None
    for record in records:
        c, k, s = conversation_identity(record)
        customer_id, key_id, started = customer_id or c, key_id or k, started or s
    started = started or min((r.get("occurred_at") or "" for r in records), default="")
    covering = [
        e for e in candidates
        if (key_id is not None and e.get("key_id") == key_id)
        or (customer_id is not None and e.get("customer_id") == customer_id and (started or "") <= e["occurred_at"])
    ]
    return min(covering, key=lambda e: (e["occurred_at"], e["event_id"])) if covering else None
