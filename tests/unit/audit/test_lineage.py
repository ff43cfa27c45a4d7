"""Lineage folding: order and duplicates never change the result; gaps are named."""

import datetime as dt
import random

from casetrail.events import EVENT_TYPES
from services.audit.offline import synthetic
from services.audit.lineage import fold, render_text
from services.audit.records import reduce_event

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def _conversation(seed: int = 1, **kwargs):
    return synthetic.conversation_events(random.Random(seed), "acme-shop", START, **kwargs)


def test_generated_events_are_valid_events():
    for name, record in list(synthetic.event_log(300)):
        EVENT_TYPES[name].model_validate(record)


def test_complete_lineage_has_every_stage_and_decision():
    events = _conversation()
    cid = events[1][1]["conversation_id"]
    lineage = fold(cid, [reduce_event(n, e) for n, e in events])
    stages = [s["stage"] for s in lineage["steps"]]
    assert stages[:6] == ["intake", "received", "triaged", "drafted", "verified", "routed"]
    assert "sla" in stages
    assert lineage["complete"], lineage["gaps"]
    s = lineage["summary"]
    assert s["triage_model"] == "triage-logreg-2026.11"
    assert s["kb_version"] == synthetic.KB_VERSION and s["prompt_version"] == "reply-v3"
    assert s["citations"] and all("@" in c for c in s["citations"])
    assert len(s["checks"]) == len(synthetic.CHECKS)
    routed = next(record for name, record in events if name == "RoutedDecision")
    assert (s["mode"], s["action"], s["rule"], s["queue"]) == (routed["mode"], routed["action"], routed["rule"],
                                                             routed["queue"])
    by_stage = {st["stage"]: st for st in lineage["steps"]}
    assert by_stage["triaged"]["caused_by_stage"] == "received"
    assert by_stage["routed"]["caused_by_stage"] == "verified"
    assert [c["classifier_probability"] for c in s["retrieved"]] == [0.8, 0.1]  # why the first is first
    assert "received" in render_text(lineage) and "classifier=0.800" in render_text(lineage)


def test_out_of_order_and_duplicated_events_give_the_same_lineage():
    events = _conversation(seed=3)
    cid = events[1][1]["conversation_id"]
    records = [reduce_event(n, e) for n, e in events]
    expected = fold(cid, records)
    rng = random.Random(5)
    for _ in range(20):
        shuffled = records + rng.sample(records, k=4)  # redeliveries
        rng.shuffle(shuffled)
        assert fold(cid, shuffled) == expected


def test_missing_stage_and_unknown_cause_are_gaps():
    events = _conversation(seed=4)
    cid = events[1][1]["conversation_id"]
    records = [reduce_event(n, e) for n, e in events if n != "DraftVerified"]
    lineage = fold(cid, records)
    assert not lineage["complete"]
    assert "missing stage: verified" in lineage["gaps"]
    assert any("routed" in g and "not in the log" in g for g in lineage["gaps"])


def test_recontact_shows_on_both_conversations():
    first = _conversation(seed=6)
    first_id = first[1][1]["conversation_id"]
    second = _conversation(seed=7, recontact_of=first_id)
    second_id = second[1][1]["conversation_id"]
    records = [reduce_event(n, e) for n, e in first + second]
    assert fold(first_id, records)["summary"]["recontacted"][0]["conversation_id"] == second_id
    assert fold(second_id, [r for r in records if r.get("conversation_id") == second_id])["summary"]["recontact_of"] == first_id


def test_received_missing_still_heads_the_lineage_from_carried_state():
    events = _conversation(seed=8)
    cid = events[1][1]["conversation_id"]
    lineage = fold(cid, [reduce_event(n, e) for n, e in events if n != "ConversationReceived"])
    assert lineage["customer_id"] is not None and lineage["source"] == "zendesk"
    assert "missing stage: received" in lineage["gaps"]


def test_delivery_receipts_set_first_response_and_only_answers_count_as_answered():
    from casetrail.events import ProducerInfo, ReplyOutbound
    from casetrail.events.decision import ReplyKind
    from casetrail.events.delivery import DeliveryEffect, DeliveryOutcome, DeliveryReceipt

    events = _conversation()
    cid = events[1][1]["conversation_id"]
    records = [reduce_event(n, e) for n, e in events if n != "ReplyOutbound"]
    producer = ProducerInfo(service="router", version="t")
    common = dict(conversation_id=cid, tenant="acme-shop", locale="en", producer=producer, channel="email",
                  source="email", external_id="x", body="...", draft_id="d1", sent_by="bot")
    ack = ReplyOutbound(idempotency_key=f"{cid}:d1:acknowledgement", kind=ReplyKind.acknowledgement, **common)
    seen_at = START + dt.timedelta(minutes=3)
    receipt = DeliveryReceipt(
        conversation_id=cid, causation_id=ack.event_id, tenant="acme-shop", locale="en",
        producer=ProducerInfo(service="delivery", version="t"), effect_key=ack.idempotency_key,
        effect=DeliveryEffect.public_reply, outcome=DeliveryOutcome.delivered, platform="zendesk", external_id="x",
        reply_kind=ReplyKind.acknowledgement, sent_by="bot", delivered_at=seen_at, attempts=1)
    records += [reduce_event("ReplyOutbound", ack.model_dump()), reduce_event("DeliveryReceipt", receipt.model_dump())]
    lineage = fold(cid, records)
    s = lineage["summary"]
    assert s["acknowledged"] and not s["sent"]  # an acknowledgement is not an answer
    assert s["first_response_at"] == "2026-11-02T09:03:00.000Z"  # when the customer could see it
    assert not s["answer_delivered"]
    assert "delivered public_reply on zendesk" in render_text(lineage)
