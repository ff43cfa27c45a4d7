"""Writing the store: events upserted by event id (then their chains rechained), a rebuild's
finished rows, bulk-load index handling, and retention's deletes.

Writing happens in two steps so a replay of a million events stays fast:

1. ``ingest`` reduces events to audit records and upserts them (deduplicated
   by event id: a redelivery is a no-op; two different records with one id
   keep the smaller content hash, whatever the arrival order);
2. ``rechain`` (``chains.py``) recomputes, for each touched chain, the canonical
   order, the hash chain, the erasure scrubbing and the conversation's summary row.

Live consumption does both per batch; a rebuild ingests everything first and
rechains once at the end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import sqlalchemy as sa

from services.audit.records import iso_utc
from services.audit.schema import chains, conversations, events
from services.audit.store.chains import RECHAIN_BATCH, StoreChains
from services.audit.store.rows import row_of


@dataclass(frozen=True)
class IngestResult:
    """Records stored and chains touched by one write."""

    records: int
    chains: int


class StoreWrites(StoreChains):
    """The writing side of the store (each write rechains what it touched, unless told not to)."""

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
