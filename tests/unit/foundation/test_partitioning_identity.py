"""One Java-compatible partitioner; identities that are functions of their inputs."""

from casetrail.events.identity import dead_letter_id, derived_event_id, received_event_id, stable_id
from casetrail.partitioning import PRODUCER_PARTITIONER, murmur2, partition_for


def test_murmur2_matches_the_java_clients_reference_values():
    # org.apache.kafka.common.utils.UtilsTest.testMurmur2
    cases = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
             b"a-little-bit-longer-string": -1486304829,
             b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971, b"abc": 479470107}
    assert {key: murmur2(key) for key in cases} == cases


def test_partition_for_is_the_positive_hash_modulo_the_count():
    assert partition_for("foobar", 6) == (-790332482 & 0x7FFFFFFF) % 6
    assert partition_for(b"foobar", 6) == partition_for("foobar", 6)
    assert PRODUCER_PARTITIONER == "murmur2_random"


def test_derived_ids_are_stable_and_distinct_per_step():
    assert derived_event_id("e1", "triage") == derived_event_id("e1", "triage")
    assert derived_event_id("e1", "triage") != derived_event_id("e1", "draft")
    assert derived_event_id("e1", "triage") != derived_event_id("e2", "triage")
    assert stable_id("a", "bc") != stable_id("ab", "c")  # parts are separated, not concatenated
    assert dead_letter_id("t", 0, 5, "r") == dead_letter_id("t", 0, 5, "r") != dead_letter_id("t", 0, 6, "r")
    assert derived_event_id("e1", "triage")[14] == "5"  # a version-5 UUID string


def test_received_id_is_a_function_of_the_intake_records_identity():
    first = received_event_id("acme", "zendesk", "42", "u:2024-01-01T00:00:00Z")
    assert first == received_event_id("acme", "zendesk", "42", "u:2024-01-01T00:00:00Z")
    assert first != received_event_id("acme", "zendesk", "42", "u:2024-01-02T00:00:00Z")  # a new update
    assert first != received_event_id("acme", "zendesk", "43", "u:2024-01-01T00:00:00Z")


def test_derive_makes_the_derived_envelope():
    from casetrail.events import ProducerInfo
    from casetrail_tools.benchmarks.sample_events import sample_conversation_received

    event = sample_conversation_received(7)
    producer = ProducerInfo(service="triage", version="1")
    envelope = event.derive("triage", producer)
    assert envelope == {
        "event_id": derived_event_id(event.event_id, "triage"), "conversation_id": event.conversation_id,
        "causation_id": event.event_id, "tenant": event.tenant, "locale": event.locale, "producer": producer,
    }
    assert event.derive("triage", producer) == envelope  # handling it again derives the same id


def test_deadletter_replay_selects_by_reason_and_time():
    import datetime as dt

    from casetrail.events import DeadLetter, ProducerInfo
    from casetrail.operations.deadletter_replay import select

    at = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.timezone.utc)
    letter = DeadLetter(producer=ProducerInfo(service="s", version="1"), reason_code="retries_exhausted",
                        reason="r", source_topic="t", source_partition=0, source_offset=1, occurred_at=at)
    assert select(letter, "retries_exhausted", None)
    assert select(letter, None, at)
    assert not select(letter, "unprocessable", None)
    assert not select(letter, "retries_exhausted", at + dt.timedelta(seconds=1))
