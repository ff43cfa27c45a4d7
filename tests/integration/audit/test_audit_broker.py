"""Audit on the real Kafka broker: complete lineage, identical rebuild, tamper detection, erasure."""

import base64
import datetime as dt
import random
import uuid

import pytest
import sqlalchemy as sa

from casetrail.codec import AvroCodec
from casetrail.events.conversation import EncryptedText
from casetrail.privacy.keystore import KeyErased, KeyStore
from casetrail.topic_admin import apply_topics, resolved_name
from casetrail.topics import EVENT_TOPICS
from services.audit.offline import synthetic
from services.audit.erasure import erase_customer
from services.audit.offline.log_topic import delete_topic, produce_log
from services.audit.consumer import AuditConsumer, topic_names
from services.audit.replay import replay
from services.audit.schema import events as events_table
from services.audit.store import AuditStore

pytestmark = pytest.mark.integration

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
TEXT = "Where is order 12345? Jane Doe, jane@example.com"
TOPIC_OF = {spec.value_schema: spec for spec in EVENT_TOPICS}


@pytest.fixture
def prefix(kafka_bootstrap):
    p = f"it-audit-{uuid.uuid4().hex[:8]}-"
    apply_topics(EVENT_TOPICS, prefix=p)
    yield p
    for name in topic_names(p):
        try:
            delete_topic(name)
        except Exception:
            pass


def _publish(prefix, items):
    codec = AvroCodec()
    by_topic = {}
    for name, record in items:
        topic = resolved_name(TOPIC_OF[name], prefix)
        key = (record.get("conversation_id") or record.get("customer_id") or record.get("tenant") or "").encode()
        by_topic.setdefault(topic, []).append((key, codec.encode_record(name, record)))
    for topic, records in by_topic.items():
        produce_log(topic, records)


def _store(tmp_path, name):
    s = AuditStore(f"sqlite:///{tmp_path / name}")
    s.migrate()
    return s


def test_lineage_rebuild_verify_and_erasure_on_the_broker(tmp_path, prefix):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    rng = random.Random(21)
    sealed = keystore.seal("acme-shop", "cust-jane", TEXT).model_dump()
    first = synthetic.conversation_events(rng, "acme-shop", START, customer_id="cust-jane", sealed=sealed)
    cid = first[1][1]["conversation_id"]
    # the same customer comes back two days later: a re-contact of the first conversation
    again = synthetic.conversation_events(rng, "acme-shop", START + dt.timedelta(days=2), customer_id="cust-jane",
                                          sealed=keystore.seal("acme-shop", "cust-jane", TEXT).model_dump(),
                                          recontact_of=cid)
    others = [e for e in synthetic.event_log(300, seed=5)]
    first.append(("DeadLetter", {
        "event_id": str(uuid.uuid4()), "occurred_at": START, "producer": {"service": "router", "version": "t"},
        "reason_code": "invalid_event", "reason": "RoutedDecision fails validation", "exception_type": "ValueError",
        "source_topic": "drafts.verified.v1", "source_partition": 0, "source_offset": 7,
        "original_key": cid.encode(), "original_value": b"raw bytes with jane@example.com", "original_headers": {},
    }))
    # every event type audit folds must be in this log
    kinds = {name for name, _ in first + again + others}
    assert kinds >= {"IntakeTicket", "ConversationReceived", "ConversationTriaged", "DraftProposed", "DraftVerified",
                     "RoutedDecision", "ReplyOutbound", "SlaEvent", "RecontactDetected", "KnowledgeBasePublished",
                     "DeadLetter"} and ("AgentFeedback" in kinds)
    _publish(prefix, first + again + others)
    # a record that is not Avro at all: skipped (it stays in the log), the consumer keeps going
    produce_log(resolved_name(TOPIC_OF["DraftProposed"], prefix), [(b"junk", b"{not avro}")])

    live = _store(tmp_path, "live.sqlite")
    stored = AuditConsumer(live, topics=topic_names(prefix), group_id=f"it-audit-{uuid.uuid4().hex}").run(
        idle_stop_seconds=8)
    assert stored == len(first + again + others)

    lineage = live.lineage(cid)
    assert lineage["complete"], lineage["gaps"]
    stages = [s["stage"] for s in lineage["steps"]]
    for stage in ("intake", "received", "triaged", "drafted", "verified", "routed", "sla", "recontact"):
        assert stage in stages, stage
    assert lineage["summary"]["recontacted"][0]["conversation_id"] == again[1][1]["conversation_id"]
    assert lineage["summary"]["kb_version"] == synthetic.KB_VERSION
    assert lineage["summary"]["dead_letters"] == 1 and "jane@example.com" not in str(lineage)
    assert live.verify() == []

    # rebuild: a fresh store from the log gives the identical store
    rebuilt = _store(tmp_path, "rebuilt.sqlite")
    stats = replay(rebuilt, topic_names(prefix))
    assert stats.stored == stored and stats.skipped == {"not_avro": 1}
    assert rebuilt.digest() == live.digest()

    # tamper with one stored record: verify names it
    with rebuilt.engine.begin() as conn:
        row = conn.execute(sa.select(events_table.c.event_id, events_table.c.record)
                           .where(events_table.c.chain_key == cid, events_table.c.stage == "verified")).first()
        conn.execute(events_table.update().where(events_table.c.event_id == row.event_id)
                     .values(record=row.record.replace('"verdict":"', '"verdict":"passed-', 1)))
    problems = rebuilt.verify()
    assert [p.event_id for p in problems if "does not match its hash" in p.problem] == [row.event_id]

    # erasure: key destroyed, audited event on the erasures topic, store scrubbed, skeleton kept
    before = live.lineage(cid)["summary"]
    event = erase_customer("acme-shop", "cust-jane", "dpo@acme-shop", "GDPR art. 17", store=live, keystore=keystore,
                           prefix=prefix)
    after = live.lineage(cid)
    assert after["summary"]["erased"]["key_id"] == event.key_id
    for key in ("intent", "category", "mode", "action", "verdict", "rule", "queue", "triage_model", "kb_version",
                "prompt_version", "citations", "checks"):
        assert after["summary"][key] == before[key], key
    assert "where is my order" not in str(after).lower()

    # unreadable in the log too: the sealed original read back from Kafka no longer opens
    replayed = _store(tmp_path, "after-erasure.sqlite")
    # this time with worker processes into an empty store: the single-write path (services/audit/bulk.py),
    # the workers stage, then compute chains and summaries (scrubbing included) and write each row once
    from services.audit import bulk

    assert bulk.usable(replayed, object())
    replay(replayed, topic_names(prefix), workers=2)
    assert replayed.digest() == live.digest()  # the erasure event is in the log: a rebuild erases again
    for conversation in (cid, again[1][1]["conversation_id"]):
        received = next(s["record"] for s in replayed.lineage(conversation)["steps"] if s["stage"] == "received")
        original = received["conversation"]["original"]
        with pytest.raises(KeyErased):
            keystore.open(EncryptedText(key_id=original["key_id"], nonce=base64.b64decode(original["nonce"]),
                                        ciphertext=base64.b64decode(original["ciphertext"])))
        assert all(m["body_text"] == "" for m in received["conversation"]["messages"])
    assert replayed.verify() == []
    keystore.close()
