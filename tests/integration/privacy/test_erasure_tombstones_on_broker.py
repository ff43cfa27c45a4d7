"""Erasure reaches the compacted changelogs (issue 17), on the real broker with the services as processes.

Two customers of one tenant write two conversations each. Triage keeps a history per customer (table
key ``<tenant>:<customer id>``), delivery a thread per conversation (the customer id in the value),
the router a case per conversation (the customer's key in the value). Then ``casetrail audit erase``
erases one customer:

* triage and the router run through the erasure (a live erasure: their workers delete the entries);
* delivery is stopped before it and started after it (the erasure arrived while nobody held its
  partitions: the restore must not bring the entries back).

Every changelog then ends, for every key of the erased customer, in a tombstone (its latest record
has no value), and the other customer's entries keep their values; a triage worker restarted after
the erasure tombstones nothing again and holds on.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid

import orjson
import pytest
from confluent_kafka import Consumer

from casetrail import topics
from casetrail.events import AuthorRole, Conversation, ConversationReceived, CustomerContext, Message, ProducerInfo
from casetrail.settings import kafka_settings
from casetrail.topic_admin import apply_topics, resolved_name
from casetrail_tools.fake_platforms import FakePlatforms, delivery_config_yaml, delivery_secrets_env
from tests.support.kafka import produce_events
from tests.support.processes import REPO, free_port, service_process
from tests.unit.router.factories import verified

pytestmark = pytest.mark.integration
TENANT = "acme-shop"
ERASED, KEPT = "anna.erased@example.com", "bob.kept@example.com"
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
CHANGELOGS = {name: f"casetrail-{name.split(':')[0]}-{name.split(':')[1]}-changelog"
              for name in ("triage:customer_history", "delivery:threads", "router:conversations")}


def _received(conversation_id: str, customer: str, text: str) -> ConversationReceived:
    return ConversationReceived(
        conversation_id=conversation_id, tenant=TENANT, locale="en", producer=ProducerInfo(service="test", version="0"),
        conversation=Conversation(
            source="zendesk", external_id=conversation_id.rsplit("-", 1)[-1], channel="email", received_at=T0,
            messages=[Message(message_id=f"m-{conversation_id}", author_role=AuthorRole.customer, sent_at=T0,
                              body_text=text)],
            customer=CustomerContext(customer_id=customer)))


def _drafted(conversation_id: str, customer: str):
    event = verified(conversation_id=conversation_id, draft_id=f"draft-{conversation_id}", confidence=0.5)
    conversation = event.conversation.model_copy(update={"customer": CustomerContext(customer_id=customer)})
    return event.model_copy(update={"conversation": conversation})


def _changelog(topic: str) -> list[tuple[object, object]]:
    """Every committed record of a changelog, in order: (key, value or None for a tombstone)."""
    consumer = Consumer({**kafka_settings().consumer_config(f"test-{uuid.uuid4().hex[:8]}"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "enable.partition.eof": True})
    metadata = consumer.list_topics(topic, timeout=30).topics[topic]
    consumer.subscribe([topic])
    ends, records = set(), []
    deadline = time.monotonic() + 60
    try:
        while len(ends) < len(metadata.partitions) and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error():
                    ends.add(message.partition())
                    continue
                key = orjson.loads(message.key())
                records.append((key, None if message.value() is None else orjson.loads(message.value())))
    finally:
        consumer.close()
    return records


def _latest(records) -> dict:
    latest: dict = {}
    for key, value in records:
        latest[key] = value
    return latest


def _wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(1.0)
    return predicate()


def test_erasure_tombstones_every_changelog_entry_of_the_customer_live_and_on_restore(kafka_bootstrap, topic_prefix,
                                                                                     tmp_path):
    kafka_settings.cache_clear()
    apply_topics(topics.ALL_TOPICS, prefix=topic_prefix)
    names = {name: f"{topic_prefix}{topic}" for name, topic in CHANGELOGS.items()}
    fakes = FakePlatforms().start()
    config_dir = tmp_path / "delivery-config"
    config_dir.mkdir()
    (config_dir / f"{TENANT}.yaml").write_text(delivery_config_yaml(TENANT, fakes.http_url, fakes.smtp_port))
    common = {"CASETRAIL_CREATE_TOPICS": "false", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
              "CASETRAIL_DATA_DIR": str(tmp_path / "data")}  # one development key store for every process
    delivery_env = {**common, "CASETRAIL_DELIVERY_CONFIG_DIR": str(config_dir),
                    "CASETRAIL_DELIVERY_SECRETS_DIR": str(tmp_path / "no-secrets"), **delivery_secrets_env(TENANT)}

    def start(service: str, env: dict):
        process = service_process(service, prefix=topic_prefix, port=free_port(), log_dir=tmp_path, env=env).start()
        process.wait_ready(180)
        return process

    conversations = {f"conv-erased-{n}": ERASED for n in (1, 2)} | {f"conv-kept-{n}": KEPT for n in (3, 4)}
    received = [_received(cid, customer, f"Where is my parcel {n}? It has not arrived.")
                for n, (cid, customer) in enumerate(conversations.items())]
    produce_events(resolved_name(topics.CONVERSATIONS_RECEIVED, topic_prefix), received)
    produce_events(resolved_name(topics.DRAFTS_VERIFIED, topic_prefix),
                   [_drafted(cid, customer) for cid, customer in conversations.items()])
    running = {}
    try:
        running["triage"] = start("triage", common)
        running["router"] = start("router", common)
        running["delivery"] = start("delivery", delivery_env)
        expected = {"triage:customer_history": {f"{TENANT}:{ERASED}", f"{TENANT}:{KEPT}"},
                    "delivery:threads": set(conversations), "router:conversations": set(conversations)}
        for name, keys in expected.items():
            assert _wait_for(lambda: set(_latest(_changelog(names[name]))) >= keys), (name, running[name.split(":")[0]].log_tail())
        before = {name: _latest(_changelog(names[name])) for name in names}
        assert all(value is not None for latest in before.values() for value in latest.values())

        running.pop("delivery").stop()  # the erasure arrives while nobody holds delivery's partitions
        erased = subprocess.run(
            [sys.executable, "-m", "casetrail.cli", "audit", "erase", "--tenant", TENANT, "--customer", ERASED,
             "--by", "dpo@acme-shop.example", "--reason", "test", "--db", f"sqlite:///{tmp_path / 'audit.sqlite'}",
             "--prefix", topic_prefix],
            cwd=REPO, env={**os.environ, **common}, capture_output=True, text=True, timeout=120)
        assert erased.returncode == 0, erased.stderr[-2000:]

        erased_keys = {"triage:customer_history": {f"{TENANT}:{ERASED}"},
                       "delivery:threads": {"conv-erased-1", "conv-erased-2"},
                       "router:conversations": {"conv-erased-1", "conv-erased-2"}}

        def tombstoned(name: str):
            latest = _latest(_changelog(names[name]))
            return all(key in latest and latest[key] is None for key in erased_keys[name]) and latest

        for name in ("triage:customer_history", "router:conversations"):  # live erasure
            assert _wait_for(lambda: tombstoned(name), 60), (name, running[name.split(":")[0]].log_tail())
        running["delivery"] = start("delivery", delivery_env)  # restored after the erasure
        assert _wait_for(lambda: tombstoned("delivery:threads"), 60), running["delivery"].log_tail()

        running.pop("triage").stop()  # a restart after the erasure: nothing of the customer comes back
        running["triage"] = start("triage", common)
        time.sleep(5)  # the restarted worker has restored and swept by now (ready waits for the restore)
    finally:
        for process in running.values():
            process.stop()
        fakes.stop()

    for name, keys in erased_keys.items():
        records = _changelog(names[name])
        latest = _latest(records)
        for key in keys:
            assert latest[key] is None, (name, key)
            # after its tombstone, no record of the key carries a value again
            last_value = max(i for i, (k, v) in enumerate(records) if k == key and v is not None)
            assert any(k == key and v is None for k, v in records[last_value + 1:]), (name, key)
        kept = {key: value for key, value in latest.items() if key not in keys}
        assert set(kept) == set(before[name]) - keys, name
        assert all(value is not None for value in kept.values()), name
    # the kept customer's entries still hold what they held (the router's case, the thread, the history)
    assert _latest(_changelog(names["delivery:threads"]))["conv-kept-3"]["customer_id"] == KEPT
    assert _latest(_changelog(names["router:conversations"]))["conv-kept-4"]["draft_id"] == "draft-conv-kept-4"
    history = _latest(_changelog(names["triage:customer_history"]))[f"{TENANT}:{KEPT}"]
    assert sorted(e["conversation_id"] for e in history["entries"]) == ["conv-kept-3", "conv-kept-4"]
