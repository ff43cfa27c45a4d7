"""The single-write rebuild (services/audit/bulk.py) gives the store the live consumer and the general rebuild give."""

import copy
import multiprocessing
import random

import pytest

from services.audit import bulk
from services.audit.offline import synthetic
from services.audit.store import AuditStore
from services.audit.store.rows import row_values
from tests.unit.audit.conftest import log_with_erasure, sealed_conversation



def _shuffled(log):
    shuffled = log + log[:40]  # out of order, with redeliveries
    random.Random(5).shuffle(shuffled)
    return shuffled


def _live(tmp_path, log):
    live = AuditStore(f"sqlite:///{tmp_path / 'live.sqlite'}")
    live.migrate()
    for i in range(0, len(log), 97):
        live.ingest(log[i : i + 97])
    return live


def _general(tmp_path, log):
    store = AuditStore(f"sqlite:///{tmp_path / 'general.sqlite'}", bulk=True)
    store.migrate()
    store.begin_bulk_load()
    store.ingest(_shuffled(log), rechain=False)
    store.end_bulk_load()
    store.rechain_all()
    return store


def _bulk(tmp_path, log, pool, name="bulk.sqlite"):
    store = AuditStore(f"sqlite:///{tmp_path / name}", bulk=True)
    store.migrate()
    assert bulk.usable(store, pool)
    store.begin_bulk_load()
    rebuild = bulk.BulkRebuild(store, pool)
    items = _shuffled(log)
    pending = [pool.apply_async(bulk.stage_rows, (str(rebuild.directory), [row_values(t, e) for t, e in items[i : i + 53]]))
               for i in range(0, len(items), 53)]
    for p in pending:
        p.get()
    seen = []
    chains = rebuild.finish(lambda done, n: seen.append((done, n)))
    store.end_bulk_load()
    assert not rebuild.directory.exists()  # staging files removed
    assert seen and seen[-1] == (chains, chains)
    return store, chains


@pytest.fixture()
def pool():
    with multiprocessing.get_context("fork").Pool(2) as p:
        yield p


def test_single_write_rebuild_equals_live_and_general_rebuild(tmp_path, keystore, pool, monkeypatch):
    monkeypatch.setattr("services.audit.bulk.BULK_BATCH", 50)  # many ranges, both workers writing
    log = log_with_erasure(keystore)
    live = _live(tmp_path, log)
    general = _general(tmp_path, log)
    store, chains = _bulk(tmp_path, log, pool)
    assert chains == store.counts()["chains"] == general.counts()["chains"]
    assert store.digest() == general.digest() == live.digest()
    assert store.verify() == []
    cid = sealed_conversation(keystore)[1][1]["conversation_id"]
    lineage = store.lineage(cid)
    assert lineage["summary"]["erased"]["by"] == "dpo" and "where is my order" not in str(lineage)
    assert store.lineage(cid) == live.lineage(cid)
    with store.engine.connect() as connection:  # written with a rollback journal, back in WAL for live use
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_changed_record_in_a_single_write_store_is_caught(tmp_path, keystore, pool):
    import sqlalchemy as sa

    from services.audit.schema import events

    store, _ = _bulk(tmp_path, log_with_erasure(keystore), pool)
    with store.engine.begin() as connection:
        event_id = connection.execute(sa.select(events.c.event_id).where(events.c.seq == 1).limit(1)).scalar_one()
        connection.execute(events.update().where(events.c.event_id == event_id).values(prev_hash="0" * 64))
    assert any(p.event_id == event_id for p in store.verify())


@pytest.mark.parametrize("other_chain", [True, False])
def test_different_records_under_one_event_id_fall_back_to_the_general_path(tmp_path, keystore, pool, monkeypatch,
                                                                             other_chain):
    monkeypatch.setattr("services.audit.bulk.BULK_BATCH", 50)
    log = log_with_erasure(keystore)
    conversation_events = [(t, e) for t, e in log if e.get("conversation_id")]
    victim_type, victim = conversation_events[10]
    changed = copy.deepcopy(victim)
    if other_chain:  # the same event id claims another conversation (another range, most likely)
        changed["conversation_id"] = conversation_events[-30][1]["conversation_id"]
    else:
        changed["locale"] = "xx-XX"
    log = log + [(victim_type, changed)]
    live = _live(tmp_path, log)
    store, _ = _bulk(tmp_path, log, pool)
    assert store.digest() == _general(tmp_path, log).digest() == live.digest()
    assert store.verify() == []


def test_only_an_empty_file_store_with_a_pool_takes_the_single_write_path(tmp_path, pool):
    memory = AuditStore("sqlite://")
    memory.migrate()
    assert not bulk.usable(memory, pool)
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    store.migrate()
    assert bulk.usable(store, pool) and not bulk.usable(store, None)
    store.ingest(list(synthetic.event_log(20, seed=1)))
    assert not bulk.usable(store, pool)
