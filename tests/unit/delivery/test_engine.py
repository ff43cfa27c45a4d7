"""The delivery engine end to end without Kafka: decisions routed by the real router logic,
delivered to the fake platforms; redelivery, crash windows, parking and dead letters."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Optional

import pytest

from casetrail.events import ConversationReceived, ProducerInfo
from casetrail.events.delivery import DeliveryOutcome
from services.delivery.deliverer import Policy
from services.delivery.engine import ATTEMPT_HEADER, MAYBE_ATTEMPTED_HEADER, DeliveryEngine, RetryState
from services.delivery.ledger import AttemptWindow
from services.router.decide import route
from tests.unit.router.factories import CLOSED_NOW, OPEN_NOW, PRODUCER, acme, verified

PRODUCER_D = ProducerInfo(service="delivery", version="test")


class MemoryJournal:
    def __init__(self, marks: Optional[dict[str, int]] = None):
        self.marks = dict(marks or {})
        self.writes: list[tuple[str, int]] = []

    async def amark(self, key):
        return self.marks.get(key)

    async def awrite(self, key, mark):
        self.writes.append((key, mark))
        self.marks[key] = mark


def _engine(tenant_config, journal=None, effects=None, policy=Policy()):
    return DeliveryEngine({"acme-shop": tenant_config}, {}, {} if effects is None else effects,
                          journal or MemoryJournal(), PRODUCER_D, policy=policy, window=AttemptWindow(reserve=10))


def _zendesk_case(ticket: str, **kwargs):
    event = verified(**kwargs)
    conversation = event.conversation.model_copy(update={"source": "zendesk", "external_id": ticket})
    return event.model_copy(update={"conversation": conversation})


def _received(event) -> ConversationReceived:
    return ConversationReceived(conversation_id=event.conversation_id, tenant=event.tenant, locale=event.locale,
                                producer=PRODUCER, conversation=event.conversation)


def _tickets(fakes, ticket):
    return next((t for t in fakes.state.snapshot()["tickets"]
                 if t["platform"] == "zendesk" and t["external_id"] == ticket), None)


def test_an_autonomous_answer_is_posted_once_even_when_redelivered(fakes, tenant_config):
    case = _zendesk_case("700001")
    outcome = route(case, acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action.value == "send"
    reply = outcome.replies[0]
    engine = _engine(tenant_config)

    async def scenario():
        engine.remember(_received(case))
        first = await engine.on_event(reply, partition_key="replies:0", offset=0)
        again = await engine.on_event(reply, partition_key="replies:0", offset=0)  # redelivered after a rebalance
        decision = await engine.on_event(outcome.decision, partition_key="decisions:0", offset=0)
        await engine.close()
        return first, again, decision

    first, again, decision = asyncio.run(scenario())
    assert [r.outcome for r in first.receipts] == [DeliveryOutcome.delivered]
    assert first.receipts[0].delivered_at is not None and first.receipts[0].latency_ms is not None
    assert again.receipts == []  # already delivered: nothing posted, nothing receipted twice
    ticket = _tickets(fakes, "700001")
    assert [m["public"] for m in ticket["messages"]] == [True]
    assert "casetrail:answered" in ticket["tags"]
    assert [r.effect.value for r in decision.receipts] == ["ticket_update"]


def test_a_record_a_crashed_worker_may_have_posted_is_looked_up_not_posted_again(fakes, tenant_config):
    case = _zendesk_case("700002")
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    crashed = _engine(tenant_config)
    asyncio.run(crashed.on_event(reply, partition_key="replies:1", offset=5))
    # The worker crashed after the platform's 2xx, before its ledger entry and receipt were committed:
    # a new worker has an empty ledger but finds the crashed worker's attempt mark.
    restarted = _engine(tenant_config, journal=MemoryJournal({"replies:1": 14}))
    work = asyncio.run(restarted.on_event(reply, partition_key="replies:1", offset=5))
    assert [(r.outcome, r.recovered) for r in work.receipts] == [(DeliveryOutcome.delivered, True)]
    assert len(_tickets(fakes, "700002")["messages"]) == 1


def test_records_past_the_mark_reserve_before_posting(fakes, tenant_config):
    journal = MemoryJournal()
    engine = _engine(tenant_config, journal=journal)
    case = _zendesk_case("700003")
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    asyncio.run(engine.on_event(reply, partition_key="replies:2", offset=30))
    assert journal.writes == [("replies:2", 39)]


def test_an_escalation_becomes_a_private_note_and_an_assignment(fakes, tenant_config):
    case = _zendesk_case("700004", category="fraud_report", confidence=0.97)
    decision = route(case, acme(), OPEN_NOW, PRODUCER).decision
    assert decision.action.value == "escalate"
    engine = _engine(tenant_config)
    engine.remember(_received(case))
    work = asyncio.run(engine.on_event(decision, partition_key="decisions:0", offset=1))
    assert sorted(r.effect.value for r in work.receipts) == ["internal_note", "ticket_update"]
    ticket = _tickets(fakes, "700004")
    note = ticket["messages"][0]
    assert note["public"] is False
    assert "Hand-off brief:" in note["body"] and decision.reason in note["body"]
    assert ticket["group"] == "360002" and ticket["priority"] == "urgent"
    assert {"casetrail:escalated", f"casetrail:category:{decision.triage.category}", "casetrail:locale:en"} <= set(ticket["tags"])


def test_out_of_hours_acknowledgement_is_public_and_the_note_says_so(fakes, tenant_config):
    case = _zendesk_case("700005", verdict=__import__("casetrail.events", fromlist=["Verdict"]).Verdict.failed,
                         received_at=CLOSED_NOW)
    outcome = route(case, acme(), CLOSED_NOW, PRODUCER)
    assert outcome.decision.action.value == "acknowledge"
    engine = _engine(tenant_config)
    engine.remember(_received(case))

    async def scenario():
        await engine.on_event(outcome.replies[0], partition_key="r:0", offset=0)
        await engine.on_event(outcome.decision, partition_key="d:0", offset=0)

    asyncio.run(scenario())
    ticket = _tickets(fakes, "700005")
    public = [m for m in ticket["messages"] if m["public"]]
    private = [m for m in ticket["messages"] if not m["public"]]
    assert len(public) == 1 and "automated" in public[0]["body"].lower()
    assert len(private) == 1 and "Outside the queue's hours" in private[0]["body"]
    assert "casetrail:acknowledged" in ticket["tags"]


def test_a_decision_for_an_unknown_conversation_is_parked(fakes, tenant_config):
    case = _zendesk_case("700006", category="fraud_report")
    decision = route(case, acme(), OPEN_NOW, PRODUCER).decision
    work = asyncio.run(_engine(tenant_config).on_event(decision, partition_key="d:1", offset=0))
    assert work.park is not None and work.park[1][ATTEMPT_HEADER] == b"1"


def test_rate_limited_delivery_is_parked_with_its_attempts(fakes, tenant_config):
    case = _zendesk_case("700007")
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    fakes.fault("zendesk", 429, count=1, retry_after=60)
    work = asyncio.run(_engine(tenant_config).on_event(reply, partition_key="r:3", offset=0))
    assert work.receipts == [] and work.park is not None
    assert work.park[1][ATTEMPT_HEADER] == b"1" and work.park[1][MAYBE_ATTEMPTED_HEADER] == b"0"
    assert _tickets(fakes, "700007") is None or _tickets(fakes, "700007")["messages"] == []


def test_a_ticket_that_does_not_exist_is_dead_lettered_with_the_platforms_answer(fakes, tenant_config):
    case = _zendesk_case("700008")
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    fakes.fault("zendesk", 404, count=1)
    work = asyncio.run(_engine(tenant_config).on_event(reply, partition_key="r:4", offset=0))
    assert [r.outcome for r in work.receipts] == [DeliveryOutcome.failed]
    assert work.receipts[0].status == 404
    (code, reason), = work.dead_letters
    assert code == "delivery_failed" and "status 404" in reason and "fake zendesk answered 404" in reason


def test_a_platform_the_tenant_has_not_configured_is_suppressed_with_the_reason(tenant_config):
    case = verified()
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    engine = DeliveryEngine({}, {}, {}, MemoryJournal(), PRODUCER_D)  # a tenant with no delivery configured
    work = asyncio.run(engine.on_event(reply, partition_key="r:5", offset=0, retry=RetryState()))
    assert [r.outcome for r in work.receipts] == [DeliveryOutcome.suppressed]
    assert work.receipts[0].reason == "no 'zendesk' platform configured for tenant 'acme-shop'"


@pytest.mark.parametrize("offset,expected", [(0, True), (9, True), (10, False)])
def test_attempt_window_marks(offset, expected):
    window = AttemptWindow(reserve=10)
    window.reloaded("t:0", 9)
    assert window.maybe_attempted("t:0", offset) is expected


def test_a_reply_to_an_automated_conversation_is_never_written(fakes, tenant_config):
    from casetrail.events.conversation import AutomatedKind

    case = _zendesk_case("700009")
    reply = route(case, acme(), OPEN_NOW, PRODUCER).replies[0]
    engine = _engine(tenant_config)
    # Ingest flagged the conversation (an out-of-office notice): the flag rides on ConversationReceived.
    flagged = case.conversation.model_copy(update={"automated": AutomatedKind.auto_reply,
                                                   "automated_signal": "Auto-Submitted: auto-replied"})
    engine.remember(_received(case.model_copy(update={"conversation": flagged})))
    work = asyncio.run(engine.on_event(reply, partition_key="r:9", offset=0))
    assert [(r.outcome, r.reason) for r in work.receipts] == [
        (DeliveryOutcome.suppressed, "the conversation is automated (auto_reply): never answered")]
    assert _tickets(fakes, "700009") is None


def test_the_automated_flag_survives_the_threads_table():
    from casetrail.events.conversation import AutomatedKind
    from services.delivery.thread import Thread, thread_of

    case = _zendesk_case("700010")
    flagged = case.conversation.model_copy(update={"automated": AutomatedKind.bounce})
    thread = thread_of(_received(case.model_copy(update={"conversation": flagged})))
    stored = json.loads(json.dumps(thread.to_dict()))
    assert stored["automated"] == "bounce"
    assert Thread.from_dict(stored).automated is AutomatedKind.bounce
    assert thread_of(_received(case)).automated is None


def test_a_stored_thread_names_its_customer_for_erasure():
    from casetrail.privacy.customer_key import customer_key
    from services.delivery.thread import thread_customer, thread_of

    case = _zendesk_case("700011")
    stored = json.loads(json.dumps(thread_of(_received(case)).to_dict()))
    assert thread_customer(case.conversation_id, stored) == customer_key(
        case.tenant, case.conversation.customer.customer_id)
