"""Erasure reaches every sealed copy (issue 17), on the real broker with the key store all pods share.

A ticket goes in through the webhook bridge (the payload sealed with the customer's key on the intake
topic), ``casetrail run ingest`` turns it into a conversation (the original sealed with the same key),
and a second service's worker dead-letters a conversation of the same customer (the original bytes
sealed with that key). Every process - bridge, ingest, the relay, ``casetrail audit erase`` - has its
own connection to one PostgreSQL key store (``CASETRAIL_KEYSTORE_URL``, keys wrapped with the master
key), as the chart deploys them. Before erasure every sealed copy opens; after ``casetrail audit
erase`` not one record on any topic of the run opens, and none holds the ticket's personal data raw.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from casetrail.codec import AvroCodec
from casetrail.events import ConversationReceived, DeadLetter, IntakeTicket
from casetrail.events.conversation import EncryptedText
from casetrail.events.envelope import AvroRecord
from casetrail.privacy.keystore import KeyErased, KeyStore
from casetrail.settings import kafka_settings
from casetrail.topics import CONVERSATIONS_RECEIVED, DEADLETTER, ERASURES, INTAKE, RECONTACTS, REPLIES_OUTBOUND
from casetrail_tools.benchmarks.relay_service import RELAY_IN, RELAY_OUT
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.signatures import Verifier, WebhookSecret, zendesk_signature
from services.ingest.webhooks import IntakeProducer, create_app
from tests.support.kafka import consume_until_quiet, create_topics, produce_events
from tests.support.processes import REPO, ServiceProcess, free_port, module_process

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[2] / "unit" / "ingest" / "fixtures"
ZENDESK = (FIXTURES / "zendesk_event_comment_added.json").read_bytes()
IBAN = b"2004 1010 0505"  # in the ticket's text: personal data that must never be on a topic raw
TENANT = "acme-shop"
CODEC = AvroCodec()


def _post_through_bridge(topic: str, keystore: KeyStore) -> tuple[int, dict]:
    async def scenario():
        producer = IntakeProducer(kafka_settings().librdkafka_config(), topic, CODEC)
        runner = web.AppRunner(create_app(producer, Verifier([WebhookSecret(TENANT, "zendesk", "zd-secret")]),
                                          keystore=keystore))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {"X-Zendesk-Webhook-Signature": zendesk_signature("zd-secret", stamp, ZENDESK),
                   "X-Zendesk-Webhook-Signature-Timestamp": stamp}
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/webhooks/zendesk", data=ZENDESK, headers=headers) as r:
                    return r.status, await r.json()
        finally:
            await runner.cleanup()
            producer.close()

    return asyncio.run(scenario())


def _sealed_in(value) -> list[EncryptedText]:
    """Every EncryptedText anywhere inside a decoded event."""
    if isinstance(value, EncryptedText):
        return [value]
    if isinstance(value, AvroRecord):
        return [s for name in type(value).model_fields for s in _sealed_in(getattr(value, name))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _sealed_in(item)]
    return []


def test_audit_erase_makes_every_sealed_copy_on_every_topic_unreadable(kafka_bootstrap, topic_prefix, tmp_path,
                                                                      postgres_url):
    kafka_settings.cache_clear()
    topics = [INTAKE, CONVERSATIONS_RECEIVED, RECONTACTS, REPLIES_OUTBOUND, DEADLETTER, ERASURES, RELAY_IN, RELAY_OUT]
    create_topics(topic_prefix, topics)
    names = {spec.name: f"{topic_prefix}{spec.name}" for spec in topics}
    master = os.urandom(32)
    shared = {"CASETRAIL_KEYSTORE_URL": postgres_url, "CASETRAIL_KEYSTORE_MASTER_KEY": base64.b64encode(master).decode(),
              "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    keystore = KeyStore(postgres_url, master_key=master)  # the bridge's connection and the test's
    customer = Normaliser(detect_locale=False).parse(
        IntakeRecord(tenant=TENANT, source="zendesk", payload=ZENDESK)).customer.customer_id

    ingest = ServiceProcess([sys.executable, "-m", "casetrail.cli", "run", "ingest"], prefix=topic_prefix,
                            port=free_port(), log_dir=tmp_path, name="ingest",
                            env={**shared, "CASETRAIL_DATA_DIR": str(tmp_path / "ingest")})
    relay = module_process("casetrail_tools.benchmarks.relay_service", "relay", prefix=topic_prefix, port=free_port(),
                           log_dir=tmp_path, env={**shared, "CASETRAIL_DATA_DIR": str(tmp_path / "relay"),
                                                  "CASETRAIL_CREATE_TOPICS": "false", "CASETRAIL_WORKER_ID": "w0"})
    try:
        ingest.start().wait_ready(timeout=120)
        relay.start().wait_ready()
        status, answer = _post_through_bridge(names[INTAKE.name], keystore)
        assert status == 202, answer
        [received] = [m for m in consume_until_quiet([names[CONVERSATIONS_RECEIVED.name]], quiet=10, timeout=120)]
        conversation = CODEC.decode(received.value(), expected=ConversationReceived)
        # another service's worker dead-letters a conversation of the same customer
        poison = conversation.model_copy(update={
            "event_id": f"{conversation.event_id}-poison",
            "conversation": conversation.conversation.model_copy(update={"subject": "poison"})})
        produce_events(names[RELAY_IN.name], [poison])
        [letter_message] = consume_until_quiet([names[DEADLETTER.name]], quiet=10, timeout=120)
    finally:
        relay.stop()
        ingest.stop()

    letter = CODEC.decode(letter_message.value(), expected=DeadLetter)
    [intake_message] = consume_until_quiet([names[INTAKE.name]], quiet=3, timeout=30)
    intake = CODEC.decode(intake_message.value(), expected=IntakeTicket)
    key_id = keystore.key_id_for(TENANT, customer)
    # before erasure: each copy is sealed with the customer's one key in the shared store, and opens
    assert intake.payload == b"" and intake.sealed_payload.key_id == key_id
    assert keystore.open_bytes(intake.sealed_payload) == ZENDESK
    assert conversation.conversation.original.key_id == key_id and IBAN.decode() in keystore.open(
        conversation.conversation.original)
    assert letter.original_value is None and letter.sealed_original_value.key_id == key_id
    assert CODEC.decode(keystore.open_bytes(letter.sealed_original_value)).event_id == poison.event_id

    def casetrail(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "casetrail.cli", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120, env={**os.environ, **shared, "CASETRAIL_TOPIC_PREFIX": topic_prefix,
                                                "CASETRAIL_DATA_DIR": str(tmp_path / "operator")})
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    # the operator's view of the dead letter: opened through the shared store (size only, never the bytes)
    [listed] = casetrail("deadletter", "list").stdout.splitlines()
    assert letter.event_id in listed and "original: sealed, " in listed and "poison" not in listed

    erased = subprocess.run(
        [sys.executable, "-m", "casetrail.cli", "audit", "erase", "--tenant", TENANT, "--customer", customer,
         "--by", "dpo@acme-shop.example", "--reason", "test", "--db", f"sqlite:///{tmp_path / 'audit.sqlite'}",
         "--prefix", topic_prefix],
        cwd=REPO, env={**os.environ, **shared, "CASETRAIL_DATA_DIR": str(tmp_path / "audit")},
        capture_output=True, text=True, timeout=120)
    assert erased.returncode == 0, erased.stderr[-2000:]
    assert f"key {key_id} destroyed" in erased.stdout

    [listed] = casetrail("deadletter", "list").stdout.splitlines()
    assert letter.event_id in listed and "original: erased at " in listed
    replayed = casetrail("deadletter", "replay", "--dry-run").stdout
    assert "replayed: 0" in replayed and "erased (key destroyed, not replayed): 1" in replayed

    # after: every record of the run, on every topic, read afresh by a new connection to the store
    after = KeyStore(postgres_url, master_key=master)
    messages = consume_until_quiet(list(names.values()), quiet=5, timeout=60)
    sealed_by_topic: dict[str, int] = {}
    for message in messages:
        assert IBAN not in message.value(), f"{message.topic()} holds the ticket's personal data raw"
        for sealed in _sealed_in(CODEC.decode(message.value())):
            sealed_by_topic[message.topic()] = sealed_by_topic.get(message.topic(), 0) + 1
            with pytest.raises(KeyErased):
                after.open_bytes(sealed)
    # the copies the run made: intake, the conversation (and the relay's input), the dead letter
    assert set(sealed_by_topic) >= {names[INTAKE.name], names[CONVERSATIONS_RECEIVED.name], names[RELAY_IN.name], names[DEADLETTER.name]}
