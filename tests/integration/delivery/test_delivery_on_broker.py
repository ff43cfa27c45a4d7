"""The delivery service as a real process on the real broker, writing to the fake platforms.

* SIGKILL mid-stream (after some platform writes, before others), restart: every
  decision's effects reach the platform exactly once (lost 0, twice 0), and every
  effect has a delivered receipt.
* A platform that answers 429 (with Retry-After) and 503 for a while: the same, and the
  other platform's tenant keeps being served meanwhile.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter

import pytest

from casetrail import topics
from casetrail.codec import AvroCodec
from casetrail.events import ConversationReceived, ProducerInfo
from casetrail.events.delivery import DeliveryOutcome
from casetrail.topic_admin import apply_topics, resolved_name
from casetrail.topics import ALL_TOPICS
from casetrail_tools.chaos import replay_topic
from casetrail_tools.fake_platforms import FakePlatforms, delivery_config_yaml, delivery_secrets_env
from services.router.decide import route
from tests.support.kafka import consume_until_quiet, produce_events
from tests.support.processes import service_process
from tests.unit.router.factories import OPEN_NOW, PRODUCER, acme, verified

pytestmark = pytest.mark.integration
TENANT = "acme-shop"


def _cases(run: str, n: int, platform: str):
    """n conversations on ``platform``: even ones answered autonomously, odd ones escalated (fraud)."""
    policy = acme()
    out = []
    for i in range(n):
        kwargs = {"category": "fraud_report", "confidence": 0.97} if i % 2 else {}
        event = verified(conversation_id=f"{run}-{platform}-{i}", draft_id=f"draft-{run}-{i}", **kwargs)
        ticket = f"{abs(hash((run, platform, i))) % 10**8}"
        conversation = event.conversation.model_copy(update={"source": platform, "external_id": ticket})
        event = event.model_copy(update={"conversation": conversation})
        outcome = route(event, policy, OPEN_NOW, PRODUCER)
        received = ConversationReceived(conversation_id=event.conversation_id, tenant=TENANT, locale="en",
                                        producer=PRODUCER, conversation=conversation)
        out.append((ticket, received, outcome))
    return out


def _expected_effects(cases) -> Counter:
    """(ticket, public?) -> number of messages each ticket must end with."""
    expected = Counter()
    for ticket, _, outcome in cases:
        if outcome.replies:
            expected[(ticket, True)] += len(outcome.replies)
        if outcome.decision.action.value in ("escalate", "review", "shadow"):
            expected[(ticket, False)] += 1
    return expected


def _platform_messages(fakes, platform) -> Counter:
    found = Counter()
    for ticket in fakes.state.snapshot()["tickets"]:
        if ticket["platform"] == platform:
            for message in ticket["messages"]:
                found[(ticket["external_id"], message["public"])] += 1
    return found


@pytest.fixture
def delivery_env(kafka_bootstrap, topic_prefix, tmp_path):
    apply_topics(ALL_TOPICS, prefix=topic_prefix)
    fakes = FakePlatforms().start()
    config_dir = tmp_path / "delivery"
    config_dir.mkdir()
    (config_dir / f"{TENANT}.yaml").write_text(delivery_config_yaml(TENANT, fakes.http_url, fakes.smtp_port))
    env = {"CASETRAIL_DELIVERY_CONFIG_DIR": str(config_dir), "CASETRAIL_DATA_DIR": str(tmp_path / "data"),
           "CASETRAIL_CREATE_TOPICS": "false", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CASETRAIL_DELIVERY_SECRETS_DIR": str(tmp_path / "no-secrets"), **delivery_secrets_env(TENANT)}
    port = 8190 + int(uuid.uuid4().int % 700)
    yield fakes, env, port, tmp_path
    fakes.stop()


def _start(topic_prefix, port, tmp_path, env):
    process = service_process("delivery", prefix=topic_prefix, port=port, log_dir=tmp_path, env=env).start()
    process.wait_ready(120)
    return process


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def _publish(prefix, cases, codec):
    produce_events(resolved_name(topics.CONVERSATIONS_RECEIVED, prefix), [c[1] for c in cases], codec=codec)
    produce_events(resolved_name(topics.DECISIONS_ROUTED, prefix), [c[2].decision for c in cases], codec=codec)
    produce_events(resolved_name(topics.REPLIES_OUTBOUND, prefix), [r for c in cases for r in c[2].replies],
                   codec=codec)


def _receipts(prefix, codec):
    records = consume_until_quiet([resolved_name(topics.DELIVERY_RECEIPTS, prefix)], quiet=3.0, timeout=60)
    return [codec.decode(m.value()) for m in records]


def test_sigkill_mid_stream_delivers_every_effect_exactly_once(delivery_env, topic_prefix):
    fakes, env, port, tmp_path = delivery_env
    fakes.state.latency = 0.03  # writes take time, so the kill lands between some of them
    codec = AvroCodec()
    run = uuid.uuid4().hex[:6]
    cases = _cases(run, 60, "zendesk")
    expected = _expected_effects(cases)
    process = _start(topic_prefix, port, tmp_path, env)
    try:
        _publish(topic_prefix, cases, codec)
        assert _wait_for(lambda: sum(_platform_messages(fakes, "zendesk").values()) >= 20, 60), process.log_tail()
        process.kill()  # SIGKILL: no graceful shutdown, no final commit
        written_before_kill = sum(_platform_messages(fakes, "zendesk").values())
        assert written_before_kill < sum(expected.values()), "the kill came too late to test anything"
        process = _start(topic_prefix, port, tmp_path, env)
        assert _wait_for(lambda: _platform_messages(fakes, "zendesk") == expected, 120), (
            f"platform has {_platform_messages(fakes, 'zendesk')}, expected {expected}\n{process.log_tail()}")
        time.sleep(3)  # anything posted twice would show now
        assert _platform_messages(fakes, "zendesk") == expected
    finally:
        process.stop()
    receipts = _receipts(topic_prefix, codec)
    delivered = {r.effect_key for r in receipts if r.outcome == DeliveryOutcome.delivered}
    expected_keys = {r.idempotency_key for c in cases for r in c[2].replies}
    expected_keys |= {f"{c[2].decision.event_id}:update" for c in cases}
    expected_keys |= {f"{c[2].decision.event_id}:note" for c in cases if c[2].decision.action.value == "escalate"}
    assert delivered == expected_keys
    assert not [r for r in receipts if r.outcome == DeliveryOutcome.failed]

    # An operator replays both decision topics from offset 0 through a running delivery: the effects
    # table (restored from its changelog) knows every outcome, so nothing is posted and nothing receipted again.
    process = _start(topic_prefix, port, tmp_path, env)
    try:
        replayed = [resolved_name(spec, topic_prefix) for spec in (topics.DECISIONS_ROUTED, topics.REPLIES_OUTBOUND)]
        assert sum(replay_topic(name) for name in replayed) == len(cases) + sum(len(c[2].replies) for c in cases)
        assert _wait_for(lambda: _consumed_to_end(topic_prefix, replayed), 120), process.log_tail()
        time.sleep(2)
        assert _platform_messages(fakes, "zendesk") == expected
    finally:
        process.stop()
    assert len(_receipts(topic_prefix, codec)) == len(receipts)


def _consumed_to_end(prefix: str, names: list[str]) -> bool:
    """delivery's group has committed every record of ``names`` (so it has handled the replay)."""
    from confluent_kafka import Consumer, TopicPartition

    from casetrail.settings import kafka_settings

    consumer = Consumer(kafka_settings().consumer_config(f"{prefix}casetrail-delivery"))
    try:
        partitions = [TopicPartition(name, p) for name in names
                      for p in consumer.list_topics(name, timeout=10).topics[name].partitions]
        committed = consumer.committed(partitions, timeout=10)
        return all(tp.offset == consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in committed)
    finally:
        consumer.close()


def test_429_and_503_for_a_while_lose_nothing_and_post_nothing_twice(delivery_env, topic_prefix):
    fakes, env, port, tmp_path = delivery_env
    codec = AvroCodec()
    run = uuid.uuid4().hex[:6]
    zendesk = _cases(run, 30, "zendesk")
    freshdesk = _cases(run, 10, "freshdesk")
    process = _start(topic_prefix, port, tmp_path, env)
    try:
        # Faults are served in this order: the first three writes land but their answer is lost (502:
        # they must be found, not posted again), then 429 with Retry-After for 6 s, then 503 until 12 s.
        fakes.fault("zendesk", 502, count=3, after_write=True)
        fakes.fault("zendesk", 429, seconds=6, retry_after=2)
        fakes.fault("zendesk", 503, seconds=12)
        _publish(topic_prefix, zendesk + freshdesk, codec)
        # The other platform is served while Zendesk refuses.
        assert _wait_for(lambda: _platform_messages(fakes, "freshdesk") == _expected_effects(freshdesk), 60), \
            process.log_tail()
        assert _wait_for(lambda: _platform_messages(fakes, "zendesk") == _expected_effects(zendesk), 180), (
            f"{_platform_messages(fakes, 'zendesk')}\n{process.log_tail()}")
        time.sleep(3)
        assert _platform_messages(fakes, "zendesk") == _expected_effects(zendesk)
    finally:
        process.stop()
    served = fakes.state.snapshot()["faults_served"]
    # The faults really happened (the lanes cooled down instead of hammering the platform, so few calls met them).
    assert served.get("zendesk:502") == 3 and served.get("zendesk:429", 0) >= 1 and served.get("zendesk:503", 0) >= 1
    receipts = _receipts(topic_prefix, codec)
    assert not [r for r in receipts if r.outcome == DeliveryOutcome.failed]
    # Every comment written whose answer was lost was found on the platform, not posted again.
    lost_answers = [r for r in fakes.state.requests if r.get("after_write") and (r["body"] or {}).get("ticket", {}).get("comment")]
    assert len([r for r in receipts if r.recovered]) == len(lost_answers)
