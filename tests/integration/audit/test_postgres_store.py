"""The same store on a real PostgreSQL server gives the same digest as SQLite.

The server is ``CASETRAIL_TEST_PG_URL`` when set, otherwise a throw-away one from the pinned
``pgserver`` package (tests/support/postgres.py): this test runs on every machine, never skipped.
"""

import random

import pytest

from services.audit.offline import synthetic
from services.audit.store import AuditStore

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url(postgres_url):
    return postgres_url


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
