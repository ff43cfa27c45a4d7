"""The store as a projection: order-independent, tamper-evident, erasable. SQLite, no broker."""

import random

import sqlalchemy as sa

from casetrail.privacy.keystore import KeyErased
from casetrail.events.conversation import EncryptedText
from services.audit.offline import synthetic
from services.audit.schema import events
from services.audit.store import AuditStore
from tests.unit.audit.conftest import ORIGINAL_TEXT, sealed_conversation


def _log(n=600):
    return list(synthetic.event_log(n, seed=3))


def test_any_order_and_batching_gives_the_same_digest(tmp_path):
    log = _log()
    a = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    a.migrate()
    a.ingest(log)  # live path, one batch
    b = AuditStore(f"sqlite:///{tmp_path / 'b.sqlite'}", bulk=True)
    b.migrate()
    shuffled = log + log[:50]  # with redeliveries
    random.Random(9).shuffle(shuffled)
    for i in range(0, len(shuffled), 37):  # small live batches, out of order
        b.ingest(shuffled[i : i + 37])
    c = AuditStore(f"sqlite:///{tmp_path / 'c.sqlite'}", bulk=True)
    c.migrate()
    c.ingest(list(reversed(log)), rechain=False)  # rebuild path
    c.rechain_all()
    assert a.digest() == b.digest() == c.digest()
    assert a.counts()["events"] == len(log)
    assert a.verify() == []


def test_verify_names_a_changed_record(store):
    store.ingest(_log(200))
    assert store.verify() == []
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(events.c.event_id, events.c.record).where(events.c.stage == "routed").limit(1)).first()
        tampered = row.record.replace('"action":"', '"action":"x', 1)
        conn.execute(events.update().where(events.c.event_id == row.event_id).values(record=tampered))
    problems = store.verify()
    assert any(p.event_id == row.event_id and "does not match its hash" in p.problem for p in problems)


def test_verify_catches_a_record_whose_hash_was_recomputed(store):
    from services.audit.chain import link

    store.ingest(_log(200))
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(events).where(events.c.stage == "triaged").limit(1)).first()
        tampered = row.record.replace('"intent":"', '"intent":"y', 1)
        conn.execute(events.update().where(events.c.event_id == row.event_id)
                     .values(record=tampered, hash=link(row.prev_hash, tampered.encode())))
    problems = store.verify()
    # the recomputed hash hides the change in its own row; the next row's link to it breaks
    assert [(p.chain_key, p.seq, p.problem) for p in problems] == [
        (row.chain_key, row.seq + 1, "previous-hash link broken"),
        (row.chain_key, row.seq + 1, "record content does not match its hash"),
    ]


def test_erasure_scrubs_text_keeps_the_skeleton_and_shreds_the_original(store, keystore):
    events_ = sealed_conversation(keystore)
    cid = events_[1][1]["conversation_id"]
    store.ingest(events_)
    before = store.lineage(cid)
    received = next(s["record"] for s in before["steps"] if s["stage"] == "received")
    sealed = received["conversation"]["original"]
    import base64

    enc = EncryptedText(key_id=sealed["key_id"], nonce=base64.b64decode(sealed["nonce"]),
                        ciphertext=base64.b64decode(sealed["ciphertext"]))
    assert keystore.open(enc) == ORIGINAL_TEXT
    assert "where is my order" in received["conversation"]["messages"][0]["body_text"]

    key_id = keystore.erase("acme-shop", "cust-jane")
    erasure = ("PersonalDataErased", {
        "event_id": "erase-1", "occurred_at": "2026-12-01T00:00:00.000Z", "producer": {"service": "audit", "version": "t"},
        "tenant": "acme-shop", "customer_id": "cust-jane", "key_id": key_id, "requested_by": "dpo@acme", "reason": "art17",
    })
    store.ingest([erasure])
    after = store.lineage(cid)
    try:
        keystore.open(enc)
        raise AssertionError("original still readable")
    except KeyErased:
        pass
    dumped = str(after)
    assert "where is my order" not in dumped and "Your order ships" not in dumped
    # the skeleton stays: what was decided, by which versions, on which evidence
    assert [s["stage"] for s in after["steps"]] == [s["stage"] for s in before["steps"]] + ["erased"]
    for key in ("intent", "category", "mode", "action", "verdict", "triage_model", "kb_version", "citations", "checks"):
        assert after["summary"][key] == before["summary"][key], key
    assert after["summary"]["erased"]["by"] == "dpo@acme"
    assert store.conversation(cid)["erased"] is True
    assert store.verify() == []


def test_erasure_before_the_conversation_arrives_gives_the_same_store(tmp_path, keystore):
    events_ = sealed_conversation(keystore)
    key_id = keystore.erase("acme-shop", "cust-jane")
    erasure = ("PersonalDataErased", {
        "event_id": "erase-2", "occurred_at": "2026-12-01T00:00:00.000Z", "producer": {"service": "audit", "version": "t"},
        "tenant": "acme-shop", "customer_id": "cust-jane", "key_id": key_id, "requested_by": "dpo", "reason": "",
    })
    first = AuditStore(f"sqlite:///{tmp_path / 'x.sqlite'}")
    first.migrate()
    first.ingest(events_)
    first.ingest([erasure])
    second = AuditStore(f"sqlite:///{tmp_path / 'y.sqlite'}")
    second.migrate()
    second.ingest([erasure])
    second.ingest(events_)
    assert first.digest() == second.digest()


def test_rebuild_drops_and_recreates_the_schema(store):
    store.ingest(_log(100))
    assert store.schema_revision() == "0001_initial"
    store.drop()
    assert store.schema_revision() is None
    store.migrate()
    assert store.counts()["events"] == 0
