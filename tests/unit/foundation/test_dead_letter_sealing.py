"""Dead letters keep no raw personal data (issue 17): the original bytes are sealed before the dead
letter is written, with the customer's key when the record says whose it is, else with a key of the
dead letter's own under the tenant; the tools that show them open them and say "erased"."""

from __future__ import annotations

import datetime as dt

import pytest

from casetrail.codec import AvroCodec
from casetrail.events import DeadLetter, ProducerInfo
from casetrail.operations.deadletter_originals import OriginalState, open_original
from casetrail.privacy.keystore import KeyStore
from casetrail.runtime import RecordContext
from casetrail.runtime.dead_letters import dead_letter_output, record_owner
from casetrail_tools.benchmarks.sample_events import sample_conversation_received
from tests.support.consumed_message import ConsumedMessage
from tests.support.transaction_fakes import COMMITTED, ScriptedProducer

PRODUCER = ProducerInfo(service="test", version="0")
RAW = b'{"requester": {"email": "jane.doe@example.com"}, "description": "my address is 12 Mill Lane"}'


def _context(value: bytes = RAW, headers=None) -> RecordContext:
    from casetrail.runtime.service import Service

    return RecordContext(service=Service("dead-letter-test"), topic="support.intake.v1", partition=3, offset=41,
                         key=b"zendesk:1", value=value, headers=headers or {}, timestamp=None)


def test_a_dead_letter_of_a_known_customer_is_sealed_with_the_customers_key(tmp_path):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    ctx = _context()
    ctx.owned_by("acme-shop", "customer-7")
    letter = dead_letter_output(ctx, PRODUCER, "invalid_field", "bad", None, keystore).event
    encoded = AvroCodec().encode(letter)
    assert b"jane.doe" not in encoded and b"Mill Lane" not in encoded  # nothing raw on the topic
    assert letter.original_value is None and letter.tenant == "acme-shop"
    assert letter.sealed_original_value.key_id == keystore.key_id_for("acme-shop", "customer-7")
    assert open_original(letter, keystore).value == RAW
    keystore.erase("acme-shop", "customer-7")  # erasing the customer erases the dead letter
    assert open_original(letter, keystore).state is OriginalState.erased


def test_a_dead_letter_of_nobody_known_gets_a_key_of_its_own_that_expires(tmp_path):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    ctx = _context(headers={"casetrail-tenant": b"acme-shop", "casetrail-source": b"zendesk"})
    letter = dead_letter_output(ctx, PRODUCER, "invalid_json", "bad", None, keystore).event
    again = dead_letter_output(_context(headers=ctx.headers), PRODUCER, "invalid_json", "bad", None, keystore).event
    assert letter.tenant == "acme-shop" and letter.original_value is None
    assert again.sealed_original_value.key_id == letter.sealed_original_value.key_id  # the same dead letter, one key
    assert keystore.key_id_for("acme-shop", "customer-7") is None  # no customer key was made up
    assert open_original(letter, keystore).value == RAW
    assert keystore.expire_record_keys(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)) == 1
    opened = open_original(letter, keystore)
    assert opened.state is OriginalState.erased and opened.value is None and opened.erased_at


def test_without_a_tenant_anywhere_the_default_tenant_holds_the_key(tmp_path):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    letter = dead_letter_output(_context(), PRODUCER, "not_avro", "bad", None, keystore, "default").event
    assert letter.tenant == "default" and open_original(letter, keystore).value == RAW


def test_the_owner_is_read_from_a_decoded_conversation_event():
    event = sample_conversation_received(3)
    assert record_owner(event) == (event.tenant, event.conversation.customer.customer_id)
    assert record_owner(b"raw bytes") == (None, None)


def test_v1_dead_letters_still_show_their_raw_bytes(tmp_path):
    letter = DeadLetter(producer=PRODUCER, reason_code="x", reason="y", source_topic="t", source_partition=0,
                        source_offset=0, original_value=b"old")
    assert open_original(letter, KeyStore(tmp_path / "keys.sqlite")).state is OriginalState.raw


def test_dead_letters_are_sealed_with_the_services_key_store(tmp_path):
    """What the worker sends for every dead letter: sealed with its service's key store."""
    from casetrail.runtime.dead_letters import send_dead_letters
    from casetrail.runtime.service import Service

    service = Service("dead-letter-test")
    service.keystore = KeyStore(tmp_path / "keys.sqlite")
    sent = []
    service.send = sent.append
    ctx = _context()
    ctx.dead_letter("invalid_json", "bad")
    send_dead_letters(ctx, service)
    [output] = sent
    assert output.event.original_value is None
    assert service.keystore.open_bytes(output.event.sealed_original_value) == RAW


@pytest.mark.parametrize("text", ["", "x" * 10])
def test_sealing_keeps_the_exact_bytes(tmp_path, text):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    letter = dead_letter_output(_context(text.encode()), PRODUCER, "empty_body", "bad", None, keystore).event
    assert open_original(letter, keystore).value == text.encode()


def test_a_key_store_that_is_away_aborts_the_batch_and_writes_nothing_raw():
    """The batch is fetched again later (no permanent error): never a raw dead letter, never a lost record."""
    import asyncio

    from casetrail.privacy.keystore import KeyStoreBusy
    from casetrail.runtime.service import Service
    from casetrail.runtime.worker import Worker
    from casetrail.topics import TopicSpec

    class Away:
        def seal_record(self, *args):
            raise KeyStoreBusy("away")

        seal_bytes = seal_record

    source = TopicSpec("sealing.in", "k", "raw", "test input")
    service = Service("dead-letter-test")
    service.keystore = Away()

    @service.processor(source, input_type=None)
    def refuse(value, ctx):
        ctx.dead_letter("invalid_json", "bad")
        return []

    worker = Worker(service)
    worker.producer = ScriptedProducer(COMMITTED)
    service._worker = worker
    outcome = asyncio.run(worker._transaction([ConsumedMessage(service.topic_name(source), 5, RAW)]))
    assert not outcome.committed and outcome.permanent_error is None
    assert worker.producer.aborted == ["key_store_unavailable"] and worker.producer.produced == []


def test_a_service_refuses_to_start_when_its_key_store_master_key_does_not_open_the_keys(tmp_path):
    from casetrail.runtime.service import Service

    KeyStore(tmp_path / "keys.sqlite", master_key=bytes(range(32))).seal("acme-shop", "customer-7", "x")
    service = Service("dead-letter-test")
    service.keystore = KeyStore(tmp_path / "keys.sqlite", master_key=bytes(32))
    with pytest.raises(SystemExit, match="dead-letter-test: refusing to start: .*does not open the keys"):
        service._check_keystore()
    service.keystore = KeyStore(tmp_path / "keys.sqlite", master_key=bytes(range(32)))
    service._check_keystore()  # the right key: starts
