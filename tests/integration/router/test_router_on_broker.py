"""The router as a real process on the real Kafka broker.

- SLA at-risk and breach fire from a short SLA, from timers that survive a
  router restart, and a conversation answered by an agent stops its timer.
- A decision redelivered after a crash (committed offset rewound to before
  it, and the same record published again) produces exactly one reply.

Each test isolates itself with its own topic prefix (``CASETRAIL_TOPIC_PREFIX``),
which also prefixes the router's consumer group and table changelogs.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

from tests.support.processes import ServiceProcess

from casetrail import topics
from casetrail.codec import AvroCodec
from casetrail.events import (
    AgentFeedback,
    CheckResult,
    Citation,
    Conversation,
    CustomerContext,
    Draft,
    DraftOutcome,
    DraftVerified,
    FeedbackAction,
    Message,
    ProducerInfo,
    ReplyOutbound,
    RoutedDecision,
    SlaEvent,
    TriageResult,
    Verdict,
    Verification,
)
from casetrail.events.conversation import AuthorRole
from casetrail.settings import kafka_settings
from casetrail.topic_admin import apply_topics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 180.0
CODEC = AvroCodec()


def _bootstrap() -> str:
    """The broker ``kafka_bootstrap`` chose (it sets the environment the settings read)."""
    return kafka_settings().bootstrap_servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RouterProcess(ServiceProcess):
    """``casetrail run router`` as a child process with an isolated prefix and tenant directory."""

    def __init__(self, workdir: Path, prefix: str, tenants_dir: Path):
        super().__init__(
            [sys.executable, "-m", "casetrail.cli", "run", "router"], prefix=prefix, port=_free_port(),
            log_dir=workdir, name="router",
            env={"KAFKA_BOOTSTRAP_SERVERS": _bootstrap(), "CASETRAIL_TENANTS_DIR": str(tenants_dir),
                 "CASETRAIL_ROUTER_SLA_TICK_SECONDS": "0.5"},
        )
        self.workdir = workdir

    def start(self) -> "RouterProcess":
        super().start()
        self.wait_ready(STARTUP_TIMEOUT)
        return self


@pytest.fixture
def prefix(kafka_bootstrap) -> str:
    """A fresh prefix, on the broker the session fixture chose (every test here uses one)."""
    return f"it-router-{uuid.uuid4().hex[:8]}."


@pytest.fixture
def tenants_dir(tmp_path) -> Path:
    """The sample tenant with a short-SLA profile: always open, SLA in wall-clock time, at risk at half."""
    raw = yaml.safe_load((REPO / "config" / "tenants" / "acme-shop.yaml").read_text())
    raw["business_hours"] = {"timezone": "UTC", "schedule": {}}
    raw["sla"]["business_hours_only"] = False
    raw["sla"]["at_risk_fraction"] = 0.5
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "acme-shop.yaml").write_text(yaml.safe_dump(raw))
    return folder


@pytest.fixture
def router(tmp_path, prefix, tenants_dir):
    apply_topics(topics.ALL_TOPICS, prefix=prefix, kafka=None)
    process = RouterProcess(tmp_path, prefix, tenants_dir)
    yield process
    process.stop()
    _delete_topics(prefix)


def _delete_topics(prefix: str) -> None:
    """Leave the shared broker as we found it (this test's topics, and changelogs)."""
    admin = AdminClient({"bootstrap.servers": _bootstrap()})
    mine = [name for name in admin.list_topics(timeout=10).topics if name.startswith(prefix)]
    for future in (admin.delete_topics(mine, operation_timeout=30).values() if mine else ()):
        try:
            future.result(timeout=30)
        except Exception:  # already gone
            pass


def now_ms() -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def verified_event(conversation_id: str, *, confidence: float, due_in: dt.timedelta | None) -> DraftVerified:
    received = now_ms()
    return DraftVerified(
        conversation_id=conversation_id, tenant="acme-shop", locale="en",
        producer=ProducerInfo(service="verifier", version="it"),
        conversation=Conversation(
            source="zendesk", external_id=f"T-{conversation_id}", channel="email",
            messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=received,
                              body_text="Where is my parcel [ORDER_1]?")],
            customer=CustomerContext(customer_id="cust-1"), received_at=received,
        ),
        triage=TriageResult(intent="order_status", intent_confidence=confidence, category="order_status",
                            sla_due_at=received + due_in if due_in else None),
        draft=Draft(draft_id=f"draft-{conversation_id}", outcome=DraftOutcome.drafted, locale="en",
                    reply_text="Your order ships within 2 business days.",
                    citations=[Citation(clause_id="shipping-1", kb_version="kb-1", score=0.9, sentence="ships")]),
        verification=Verification(verdict=Verdict.passed, checks=[CheckResult(name="citations", passed=True)]),
    )


def publish(prefix: str, spec, event) -> None:
    producer = Producer({"bootstrap.servers": _bootstrap(), "enable.idempotence": True})
    name = prefix + spec.name
    producer.produce(name, key=event.conversation_id.encode(), value=CODEC.encode(event, topic=name))
    assert producer.flush(30) == 0


def read_all(prefix: str, spec, expected=None) -> list:
    """Every record on the topic up to its current end (decoded when ``expected`` is given)."""
    name = prefix + spec.name
    consumer = Consumer({"bootstrap.servers": _bootstrap(), "group.id": f"it-reader-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        partitions = consumer.list_topics(name, timeout=10).topics[name].partitions
        ends = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)
            if high > low:
                ends[p] = high
        if not ends:
            return []
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in ends])
        out, deadline = [], time.monotonic() + 30
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                out.append(CODEC.decode(message.value(), expected=expected) if expected else message)
            # The services write in transactions: a partition's last offset is a commit marker, never
            # delivered as a message, so the end is reached when the position passes the watermark.
            for position in consumer.position([TopicPartition(name, p) for p in list(ends)]):
                if position.offset >= ends[position.partition]:
                    ends.pop(position.partition)
        return out
    finally:
        consumer.close()


def wait_for(description: str, probe, timeout: float = 150.0, router: RouterProcess | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {description}" + (f"\n{router.log_tail()}" if router else ""))


def sla_events(prefix: str, conversation_id: str) -> list[SlaEvent]:
    return [e for e in read_all(prefix, topics.SLA_EVENTS, SlaEvent) if e.conversation_id == conversation_id]


def kinds(events) -> list[str]:
    return [e.kind.value for e in events]


def test_sla_timers_fire_survive_restart_and_stop_when_answered(router, prefix):
    router.start()
    late, answered = f"late-{uuid.uuid4().hex[:6]}", f"answered-{uuid.uuid4().hex[:6]}"
    sla = dt.timedelta(seconds=90)  # at risk after 45 s (fraction 0.5), breached after 90 s
    late_event = verified_event(late, confidence=0.5, due_in=sla)  # below threshold: an agent must review
    publish(prefix, topics.DRAFTS_VERIFIED, late_event)
    publish(prefix, topics.DRAFTS_VERIFIED, verified_event(answered, confidence=0.5, due_in=sla))

    started = wait_for("both SLA timers to start", lambda: all(
        kinds(sla_events(prefix, c)) == ["started"] for c in (late, answered)), router=router)
    assert started
    [late_started] = sla_events(prefix, late)
    assert late_started.due_at == late_event.triage.sla_due_at
    assert late_started.at_risk_at == late_event.triage.sla_due_at - sla / 2

    # The agent approves the draft of one conversation: the reply goes out and its timer stops.
    publish(prefix, topics.FEEDBACK_AGENT, AgentFeedback(
        conversation_id=answered, tenant="acme-shop", locale="en", producer=ProducerInfo(service="agent-ui", version="it"),
        draft_id=f"draft-{answered}", agent_id="agent-1", action=FeedbackAction.approve))
    wait_for("the answered conversation's timer to stop",
             lambda: kinds(sla_events(prefix, answered)) == ["started", "stopped"], router=router)
    replies = [r for r in read_all(prefix, topics.REPLIES_OUTBOUND, ReplyOutbound) if r.conversation_id == answered]
    assert [(r.sent_by, r.body) for r in replies] == [("agent:agent-1", "Your order ships within 2 business days.")]

    # Restart: the timers live only in the changelog-backed table now.
    router.stop()
    restarted_at = dt.datetime.now(dt.timezone.utc)
    router.start()
    assert dt.datetime.now(dt.timezone.utc) < late_started.at_risk_at, "restart took longer than half the SLA"

    wait_for("at-risk and breach of the late conversation",
             lambda: kinds(sla_events(prefix, late)) == ["started", "at_risk", "breached"], timeout=240, router=router)
    _, at_risk, breached = sla_events(prefix, late)
    assert at_risk.occurred_at >= late_started.at_risk_at and at_risk.occurred_at < late_started.due_at
    assert at_risk.occurred_at > restarted_at  # fired by the restarted process, from restored state
    assert breached.occurred_at >= late_started.due_at

    # Escalations before (and at) the breach, with the original brief.
    escalations = [d for d in read_all(prefix, topics.DECISIONS_ROUTED, RoutedDecision)
                   if d.conversation_id == late and d.rule and d.rule.startswith("sla-")]
    assert [(d.rule, d.priority) for d in escalations] == [("sla-at-risk", "high"), ("sla-breached", "urgent")]
    assert escalations[0].brief.not_sent_because[0].startswith("SLA at risk")

    # The answered conversation never went at risk, though its due time has passed too.
    assert kinds(sla_events(prefix, answered)) == ["started", "stopped"]

    # The approval is exported as a labelled example, joined to the decision it judged.
    export = router.workdir / "feedback.jsonl"
    subprocess.run([sys.executable, "-m", "casetrail.cli", "router", "export-feedback", "-o", str(export)],
                   env=router.env, cwd=router.workdir, check=True, capture_output=True, timeout=120)
    [row] = [json.loads(line) for line in export.read_text().splitlines()]
    assert (row["conversation_id"], row["label"], row["router_action"]) == (answered, "approve", "review")
    assert row["final_text"] == "Your order ships within 2 business days." and row["citations"] == ["shipping-1@kb-1"]


def test_redelivered_decision_sends_exactly_once(router, prefix):
    router.start()
    conversation = f"auto-{uuid.uuid4().hex[:6]}"
    event = verified_event(conversation, confidence=0.97, due_in=dt.timedelta(hours=1))  # autonomous send
    publish(prefix, topics.DRAFTS_VERIFIED, event)
    key = f"{conversation}:draft-{conversation}"

    def replies():
        return [r for r in read_all(prefix, topics.REPLIES_OUTBOUND, ReplyOutbound) if r.conversation_id == conversation]

    first = wait_for("the autonomous reply", replies, router=router)
    assert [(r.idempotency_key, r.sent_by) for r in first] == [(key, "bot")]
    changelog = topics.changelog("casetrail-router", "sent_replies")
    wait_for("the send to reach the sent_replies changelog",
             lambda: any(key in (m.key() or b"").decode() for m in read_all(prefix, changelog)), router=router)

    # Crash between producing and committing: the committed offset is rewound to before the decision,
    # and the upstream delivers the same record once more.
    router.stop()
    admin = AdminClient({"bootstrap.servers": _bootstrap()})
    source = prefix + topics.DRAFTS_VERIFIED.name
    partitions = Consumer({"bootstrap.servers": _bootstrap(), "group.id": "it-meta"}).list_topics(source, timeout=10)
    rewind = [TopicPartition(source, p, 0) for p in partitions.topics[source].partitions]
    futures = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(f"{prefix}casetrail-router", rewind)])
    for future in futures.values():
        future.result(timeout=30)
    publish(prefix, topics.DRAFTS_VERIFIED, event)
    router.start()

    def decisions():
        found = [d for d in read_all(prefix, topics.DECISIONS_ROUTED, RoutedDecision) if d.conversation_id == conversation]
        return found if len(found) >= 3 else None  # original, replay after the rewind, redelivered copy

    made = wait_for("the router to decide the redelivered records again", decisions, router=router)
    assert {d.event_id for d in made} == {made[0].event_id}  # the same decision, recognisably
    assert {d.action.value for d in made} == {"send"}
    time.sleep(2)  # let any (wrong) duplicate reply land before counting
    assert [(r.idempotency_key, r.event_id) for r in replies()] == [(key, first[0].event_id)]
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{router.port}/metrics", timeout=5).read().decode()
    suppressed = [line for line in metrics.splitlines()
                  if line.startswith("casetrail_router_duplicate_sends_suppressed_total{")]
    assert suppressed and float(suppressed[0].rsplit(" ", 1)[1]) == 2.0
