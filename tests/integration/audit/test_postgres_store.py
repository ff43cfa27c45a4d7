"""The same store on a real PostgreSQL server gives the same digest as SQLite.

Uses ``CASETRAIL_AUDIT_TEST_PG_URL`` (e.g. ``postgresql+psycopg://user:pw@host/db``) when set,
otherwise a throw-away server from the ``pgserver`` package when it is installed
(``uv pip install pgserver``); skipped when neither is available.
"""

import os
import random

import pytest

from services.audit.offline import synthetic
from services.audit.store import AuditStore

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url(tmp_path):
    url = os.environ.get("CASETRAIL_AUDIT_TEST_PG_URL")
    if url:
        yield url
        return
    pgserver = pytest.importorskip("pgserver", reason="no PostgreSQL: set CASETRAIL_AUDIT_TEST_PG_URL or install pgserver")
    server = pgserver.get_server(str(tmp_path / "pg"), cleanup_mode="stop")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://")
    finally:
        server.cleanup()


def test_postgres_and_sqlite_stores_are_identical(pg_url, tmp_path):
    log = list(synthetic.event_log(1500, seed=3))
    pg = AuditStore(pg_url)
    pg.drop()
    pg.migrate()
    try:
        pg.ingest(log)  # live path
        sqlite = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
        sqlite.migrate()
        shuffled = log[:]
        random.Random(1).shuffle(shuffled)
        sqlite.ingest(shuffled, rechain=False)  # rebuild path, other order
        sqlite.rechain_all()
        assert pg.digest() == sqlite.digest()
        assert pg.verify() == []
        cid = next(e["conversation_id"] for n, e in log if n == "ConversationReceived")
        assert pg.lineage(cid)["complete"]
        assert pg.lineage(cid, tenant="someone-else") is None
    finally:
        pg.drop()
        pg.close()
