"""Reading the store: one conversation's summary and lineage, searches, a period's summaries
for reports, published clauses, counts."""

from __future__ import annotations

from typing import Iterator, Optional

import orjson
import sqlalchemy as sa

from services.audit.lineage import fold
from services.audit.records import iso_utc
from services.audit.schema import SEARCH_COLUMNS, chain_key_prefix, chains, conversations, events
from services.audit.store.database import StoreDatabase
from services.audit.store.rows import conversation_dict


class StoreQueries(StoreDatabase):
    """The reading side of the store (what the API, the reports and the command line ask)."""

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
        query = sa.select(c.record).where(*chain_key_prefix("kb:"))
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
