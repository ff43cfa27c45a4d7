"""The audit store: a projection of the event log, in SQLite (default) or PostgreSQL.

One data layer (SQLAlchemy Core) for both databases, its schema managed by
Alembic migrations (``services/audit/migrations``). ``AuditStore`` is assembled
from one class per concern, each in its module:

- ``database.py`` — engine, SQLite settings, migrations, statement execution;
- ``writes.py`` — events upserted by event id, a rebuild's finished rows, retention;
- ``chains.py`` — the chain pass (canonical order, hash chain, erasure scrubbing,
  summary rows) and the integrity checks (``verify``, ``digest``);
- ``queries.py`` — lineage, search, report summaries, counts;
- ``rows.py`` — row shaping (pure: event -> stored row, lineage -> summary row).

The result depends only on the set of events, which is what makes a rebuild
byte-for-byte identical (``digest``).
"""

from __future__ import annotations

from services.audit.store.database import default_url
from services.audit.store.queries import StoreQueries
from services.audit.store.writes import IngestResult, StoreWrites


class AuditStore(StoreWrites, StoreQueries):
    """Read and write the audit projection. Thread-safe as SQLAlchemy engines are."""


__all__ = ["AuditStore", "IngestResult", "default_url"]
