"""The runtime contract on a real broker: Avro in, Avro out, trace context
carried, undecodable bytes dead-lettered with a reason, and nothing lost when
the service is killed with SIGKILL mid-stream and restarted."""

from __future__ import annotations

import time

import pytest

from casetrail_tools.benchmarks.relay_service import RELAY_IN, RELAY_OUT
from casetrail_tools.benchmarks.sample_events import sample_conversation_received
from casetrail.codec import AvroCodec
from casetrail.events import DeadLetter
from casetrail.privacy.keystore import KeyStore
from casetrail.runtime.tracing import trace_id_of
from casetrail.topics import DEADLETTER
from tests.support.kafka import consume, consume_until_quiet, create_topics, produce_events, produce_raw
from tests.support.processes import free_port, module_process

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def relay(kafka_bootstrap, topic_prefix, tmp_path):
    create_topics(topic_prefix, [RELAY_IN, RELAY_OUT, DEADLETTER])
    process = module_process("casetrail_tools.benchmarks.relay_service", "relay", prefix=topic_prefix, port=free_port(),
                             log_dir=tmp_path, env={"CASETRAIL_CREATE_TOPICS": "false", "CASETRAIL_WORKER_ID": "w0",
                                                    "CASETRAIL_DATA_DIR": str(tmp_path / "data")})
    yield process
    process.stop()


def test_relay_carries_trace_context_and_dead_letters_bad_bytes(relay, topic_prefix, tmp_path):
    source, sink, dead = (f"{topic_prefix}{t.name}" for t in (RELAY_IN, RELAY_OUT, DEADLETTER))
    relay.start().wait_ready()
    good = [sample_conversation_received(i) for i in range(5)]
    produce_events(source, good, headers=[("traceparent", TRACEPARENT.encode())])
    produce_raw(source, [b"{\"not\": \"avro\"}"], key=b"bad-1")
    poison = sample_conversation_received(99).model_copy(
        update={"conversation": sample_conversation_received(99).conversation.model_copy(update={"subject": "poison"})}
    )
    produce_events(source, [poison])

    outputs = consume([sink], expected=5, timeout=60)
    assert len(outputs) == 5, relay.log_tail()
    codec = AvroCodec()
    by_cause = {codec.decode(m.value()).causation_id: m for m in outputs}
    assert set(by_cause) == {e.event_id for e in good}
    for message in outputs:
        headers = dict(message.headers())
        assert trace_id_of(headers) == TRACE_ID  # one trace across the hop
        assert headers["casetrail-event-type"] == b"ConversationReceived"

    letters = [codec.decode(m.value(), expected=DeadLetter) for m in consume([dead], expected=2, timeout=30)]
    reasons = {letter.reason_code: letter for letter in letters}
    assert set(reasons) == {"not_avro", "unprocessable"}, relay.log_tail()
    # the original bytes are sealed before they are written: a key of the dead letter's own when nobody's
    # record it was, the customer's key when the decoded event names the customer
    keystore = KeyStore(tmp_path / "data" / "keys.sqlite")
    assert reasons["not_avro"].original_value is None and reasons["not_avro"].tenant == "default"
    assert keystore.open_bytes(reasons["not_avro"].sealed_original_value) == b"{\"not\": \"avro\"}"
    unprocessable = reasons["unprocessable"]
    assert unprocessable.original_value is None
    assert unprocessable.sealed_original_value.key_id == keystore.key_id_for(
        poison.tenant, poison.conversation.customer.customer_id)
    assert codec.decode(keystore.open_bytes(unprocessable.sealed_original_value)).event_id == poison.event_id
    assert reasons["not_avro"].source_topic == source and reasons["not_avro"].source_offset >= 0
    assert reasons["unprocessable"].exception_type == "ValueError"
    # the reason names the exception type and where it was raised, never its message (it may hold ticket text)
    assert reasons["unprocessable"].reason.startswith("ValueError at ")
    assert "poison" not in reasons["unprocessable"].reason


def test_sigkill_mid_stream_then_restart_loses_nothing(relay, topic_prefix):
    source, sink = f"{topic_prefix}{RELAY_IN.name}", f"{topic_prefix}{RELAY_OUT.name}"
    inputs = [sample_conversation_received(i) for i in range(3000)]
    produce_events(source, inputs)
    relay.start().wait_ready()
    # Let it get part-way, then crash it without any chance to commit.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(consume([sink], expected=300, timeout=2)) < 300:
        pass
    relay.kill()
    partial = len(consume_until_quiet([sink], quiet=2, timeout=20))
    assert 0 < partial < len(inputs), "the kill should land mid-stream"

    relay.start().wait_ready()
    outputs = consume([sink], expected=len(inputs), timeout=180)
    codec = AvroCodec()
    causes = [codec.decode(m.value()).causation_id for m in consume_until_quiet([sink], quiet=5, timeout=60)]
    missing = {e.event_id for e in inputs} - set(causes)
    assert not missing, f"{len(missing)} inputs have no output after restart\n{relay.log_tail()}"
    duplicates = len(causes) - len(set(causes))
    # The killed worker's open transaction is aborted when it restarts (same transactional id),
    # so a read_committed consumer sees each output once.
    assert duplicates == 0, f"{duplicates} outputs doubled\n{relay.log_tail()}"
    assert all(codec.decode(m.value()).event_id == f"relay-{codec.decode(m.value()).causation_id}" for m in outputs[:50])
    print(f"\nkilled after {partial} outputs; {duplicates} duplicates after restart")
