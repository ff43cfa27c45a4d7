"""The rebuild's parallel chain pass (workers compute, the main process writes) equals the sequential one."""

import multiprocessing
import random

import sqlalchemy as sa

from services.audit.schema import events
from services.audit.store import AuditStore
from services.audit.store.chains import _fetch_range, _shareable, compute_chains
from tests.unit.audit.conftest import log_with_erasure, sealed_conversation



def _bulk_store(tmp_path, name, log):
    store = AuditStore(f"sqlite:///{tmp_path / name}", bulk=True)
    store.migrate()
    store.begin_bulk_load()
    shuffled = log + log[:40]  # out of order, with redeliveries
    random.Random(5).shuffle(shuffled)
    store.ingest(shuffled, rechain=False)
    store.end_bulk_load()
    return store


def test_rechain_all_in_worker_processes_gives_the_live_store(tmp_path, keystore, monkeypatch):
    monkeypatch.setattr("services.audit.store.chains.RECHAIN_BATCH", 50)  # many ranges, several in flight at once
    log = log_with_erasure(keystore)
    live = AuditStore(f"sqlite:///{tmp_path / 'live.sqlite'}")
    live.migrate()
    for i in range(0, len(log), 97):
        live.ingest(log[i : i + 97])
    sequential = _bulk_store(tmp_path, "seq.sqlite", log)
    chains = sequential.rechain_all()
    parallel = _bulk_store(tmp_path, "par.sqlite", log)
    seen = []
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert parallel.rechain_all(lambda done, n: seen.append((done, n)), pool=pool) == chains
    assert seen[-1] == (chains, chains) and len(seen) > 2
    assert parallel.digest() == sequential.digest() == live.digest()
    assert parallel.verify() == []
    # the erased customer's text was scrubbed by a worker, the skeleton kept
    cid = sealed_conversation(keystore)[1][1]["conversation_id"]
    lineage = parallel.lineage(cid)
    assert lineage["summary"]["erased"]["by"] == "dpo" and "where is my order" not in str(lineage)


def test_a_second_rechain_writes_nothing(tmp_path, keystore):
    store = _bulk_store(tmp_path, "a.sqlite", log_with_erasure(keystore))
    store.rechain_all()
    with store.engine.connect() as connection:
        first, last = connection.execute(sa.select(sa.func.min(events.c.chain_key), sa.func.max(events.c.chain_key))).one()
        rows, related = _fetch_range(connection, first, last)
    work = compute_chains(rows, related, store._erasures())
    assert work.updates == [] and work.rewrites == []
    assert work.chains == store.counts()["chains"]


def test_in_memory_sqlite_is_not_shared_with_workers():
    assert not _shareable("sqlite://")
    assert not _shareable("sqlite:///:memory:")
    assert _shareable("sqlite:////tmp/x/audit.sqlite")
    assert _shareable("postgresql+psycopg://u:p@h/db")
