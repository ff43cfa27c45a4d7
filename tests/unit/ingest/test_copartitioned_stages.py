"""Ingest's decisions with its state split over partitions, as several workers hold it: every table
key is written only on the partition its own key hashes to, and redeliveries, reopens and returns
on the same topic come out exactly as with one partition (one worker)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import pytest

from casetrail.events import ConversationObserved, CustomerActivity, ProducerInfo, ReplyOutbound
from casetrail.partitioning import partition_for
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.processing import IngestProcessor
from services.ingest.stages import ConversationStage, CustomerStage, observed

TENANT = "acme"
DAY0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def ticket(external_id: str, customer: str, subject: str, text: str, at: dt.datetime, *,
           author: str = "customer", updated: str = "") -> IntakeRecord:
    messages = [{"id": f"{external_id}-1", "author": "customer", "sent_at": (at - dt.timedelta(hours=1)).isoformat(),
                 "text": text}]
    if author != "customer":
        messages.append({"id": f"{external_id}-2", "author": author, "sent_at": at.isoformat(),
                         "text": "We have sent a replacement."})
    else:
        messages[0]["sent_at"] = at.isoformat()
    payload = {"external_id": external_id, "subject": subject, "customer": {"id": customer}, "locale": "en",
               "updated_at": updated or at.isoformat(), "messages": messages}
    return IntakeRecord(TENANT, "generic", json.dumps(payload).encode())


def reply_to(conversation_id: str, at: dt.datetime, sent_by: str = "bot") -> ReplyOutbound:
    return ReplyOutbound(conversation_id=conversation_id, tenant=TENANT, locale="en",
                         producer=ProducerInfo(service="router", version="1"), idempotency_key=f"{conversation_id}:d",
                         channel="web", source="generic", external_id="x", body="…", draft_id="d", sent_by=sent_by,
                         occurred_at=at)


@dataclass
class Partitioned:
    """Each partition's own tables and stages, records routed by their key like the producer's partitioner."""

    partitions: int
    deliveries: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.deliveries = [{} for _ in range(self.partitions)]
        self.answers = [{} for _ in range(self.partitions)]
        self.customers = [{} for _ in range(self.partitions)]
        self.conversation_stages = [ConversationStage(d, a) for d, a in zip(self.deliveries, self.answers)]
        self.customer_stages = [CustomerStage(c) for c in self.customers]

    def _to_customer(self, activity: CustomerActivity | None):
        if activity is None:
            return None
        # what the topic carries, read back
        activity = CustomerActivity.model_validate(activity.model_dump())
        return self.customer_stages[partition_for(activity.customer_key, self.partitions)].apply(activity)

    def observe(self, seen: ConversationObserved):
        stage = self.conversation_stages[partition_for(seen.received.conversation_id, self.partitions)]
        decided = stage.observe(seen)
        return decided, self._to_customer(decided.customer_activity)

    def reply(self, reply: ReplyOutbound):
        _, activity = self.conversation_stages[partition_for(reply.conversation_id, self.partitions)].reply(reply)
        self._to_customer(activity)


def scenario():
    """Intake records and replies in arrival order: a redelivery, a reopen after a bot answer, the same
    customer writing twice (a return on the same topic and an unrelated question), an answer reported
    by the source (an agent) followed by a return, and other customers."""
    t = DAY0
    parcel = "Where is my parcel"
    steps = [
        ("intake", ticket("T1", "cust-a", parcel, "My parcel 1234 has not arrived yet, where is it?", t)),
        ("intake", ticket("T1", "cust-a", parcel, "My parcel 1234 has not arrived yet, where is it?", t)),  # redelivery
        ("reply", ("T1", t + dt.timedelta(hours=1))),
        ("intake", ticket("T1", "cust-a", parcel, "It still has not arrived, please check again.", t + dt.timedelta(days=1))),
        ("intake", ticket("T2", "cust-a", parcel, "Another question about my parcel, still nothing.", t + dt.timedelta(days=2))),
        ("intake", ticket("T3", "cust-a", "Invoice address", "Please change the invoice address on my account.",
                          t + dt.timedelta(days=2, hours=1))),
        ("intake", ticket("T4", "cust-b", "Refund", "I would like a refund for the broken kettle.", t)),
        ("intake", ticket("T5", "cust-c", "Broken lamp", "The lamp arrived broken, what now?", t, author="agent")),
        ("intake", ticket("T6", "cust-c", "Broken lamp", "The replacement lamp is broken too.", t + dt.timedelta(days=3))),
        ("intake", ticket("T7", "cust-d", "Where is my parcel", "Where is my parcel?", t + dt.timedelta(days=1))),
    ]
    return steps


def _conversation_id(external_id: str) -> str:
    from casetrail.events.identity import conversation_id

    return conversation_id(TENANT, "generic", external_id)


def _signals(run) -> list[tuple]:
    """(ticket, emitted for triage, duplicate, answer recorded, re-contact original + kind + answerer) per intake record."""
    return [(name, *values) for name, values in run]


def _run_one_process():
    processor = IngestProcessor(Normaliser(detect_locale=False), {}, {}, {})
    out = []
    for position, (kind, item) in enumerate(scenario()):
        if kind == "reply":
            processor.record_reply(reply_to(_conversation_id(item[0]), item[1]))
            continue
        outcome = processor.process(item, position=f"intake:0:{position}", now=DAY0.timestamp() + position)
        recontact = outcome.recontact
        out.append((outcome.normalised.event.conversation.external_id, (
            outcome.conversation is not None, outcome.duplicate, outcome.answer_recorded,
            None if recontact is None else (recontact.original_conversation_id, recontact.answered_by,
                                            recontact.event_id, recontact.causation_id))))
    return out


def _run_partitioned(partitions: int):
    normaliser = Normaliser(detect_locale=False)
    split = Partitioned(partitions)
    out = []
    for position, (kind, item) in enumerate(scenario()):
        if kind == "reply":
            split.reply(reply_to(_conversation_id(item[0]), item[1]))
            continue
        result = normaliser.normalise(item)
        seen = observed(result, f"intake:0:{position}", DAY0.timestamp() + position)
        seen = ConversationObserved.model_validate(seen.model_dump())  # what the repartition topic carries
        decided, returned = split.observe(seen)
        recontact = decided.recontact or returned
        out.append((result.event.conversation.external_id, (
            decided.conversation is not None, decided.duplicate, decided.answer_recorded,
            None if recontact is None else (recontact.original_conversation_id, recontact.answered_by,
                                            recontact.event_id, recontact.causation_id))))
    return out, split


def test_the_scenario_exercises_every_signal():
    signals = dict(enumerate(_run_one_process()))
    t1, redelivered, reopened, t2, t3, t4, t5, t6, t7 = (signals[i] for i in range(9))
    assert t1[1][:3] == (True, False, None) and t1[1][3] is None
    assert redelivered[1][1] is True and redelivered[1][0] is False
    assert reopened[1][3][:2] == (_conversation_id("T1"), "bot")  # reopen after the bot's answer
    assert t2[1][3][:2] == (_conversation_id("T1"), "bot")  # same customer, same topic, new conversation
    assert t3[1][3] is None and t4[1][3] is None and t7[1][3] is None  # other topic, other customers
    assert t5[1][:3] == (False, False, "agent")  # the source reports an agent's answer: nothing for triage
    assert t6[1][3][:2] == (_conversation_id("T5"), "agent")


@pytest.mark.parametrize("partitions", [1, 3, 6])
def test_split_over_partitions_decides_as_one_process(partitions):
    decided, _ = _run_partitioned(partitions)
    assert decided == _run_one_process()


@pytest.mark.parametrize("partitions", [3, 6])
def test_every_key_lives_on_the_partition_its_key_hashes_to(partitions):
    _, split = _run_partitioned(partitions)
    for p in range(partitions):
        for key in split.answers[p]:
            assert partition_for(key, partitions) == p
        for delivery_key in split.deliveries[p]:
            tenant, source, external_id = delivery_key.split("/", 2)
            assert partition_for(_conversation_id(external_id), partitions) == p
        for customer_key in split.customers[p]:
            assert partition_for(customer_key, partitions) == p
    assert sum(len(c) for c in split.customers) == 2  # cust-a and cust-c were answered


def test_erasure_finds_every_answer_entry_of_the_customer_and_none_of_the_others():
    from casetrail.privacy.customer_key import customer_key
    from casetrail.runtime.erasure import keys_of_customers
    from services.ingest.stages import answers_customer, customer_answers_customer

    _, split = _run_partitioned(1)
    answers, customers = split.answers[0], split.customers[0]
    erased = {customer_key(TENANT, "cust-a")}
    assert sorted(keys_of_customers(answers.items(), answers_customer, erased)) == sorted(
        _conversation_id(t) for t in ("T1", "T2", "T3"))
    assert keys_of_customers(customers.items(), customer_answers_customer, erased) == [customer_key(TENANT, "cust-a")]
    others = {customer_key(TENANT, c) for c in ("cust-b", "cust-c", "cust-d")}
    assert len(keys_of_customers(answers.items(), answers_customer, others)) == len(answers) - 3
