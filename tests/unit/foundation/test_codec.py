import json
import struct

import fastavro
import pytest

from casetrail_tools.benchmarks.sample_events import sample_conversation_received
from casetrail.codec import CONFLUENT_MAGIC, SINGLE_OBJECT_MAGIC, AvroCodec, DecodeError
from casetrail.events import EVENT_TYPES, ConversationReceived, SlaEvent
from casetrail.events.catalog import SCHEMAS_DIR, released_schemas, schema_of, schema_text


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_type_round_trips_through_single_object_encoding(name):
    codec = AvroCodec()
    event = EVENT_TYPES[name].fake()
    data = codec.encode(event)
    assert data[:2] == SINGLE_OBJECT_MAGIC
    assert codec.decode(data) == event


def test_fingerprint_is_crc64_of_the_canonical_form():
    codec = AvroCodec()
    data = codec.encode(sample_conversation_received(1))
    canonical = fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(schema_of("ConversationReceived")))
    expected = int(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"), 16).to_bytes(8, "little")
    assert data[2:10] == expected


def test_confluent_wire_format_with_a_mock_registry_and_both_framings_decode():
    registry_codec = AvroCodec("mock://codec-test")
    event = sample_conversation_received(7)
    framed = registry_codec.encode(event, topic="conversations.received.v1")
    assert framed[:1] == CONFLUENT_MAGIC
    schema_id = struct.unpack(">I", framed[1:5])[0]
    assert schema_id >= 1
    assert registry_codec.decode(framed) == event
    # a registry-configured reader also accepts single-object records
    assert registry_codec.decode(AvroCodec().encode(event)) == event


def test_confluent_record_without_a_registry_is_a_clear_decode_error():
    framed = AvroCodec("mock://codec-test-2").encode(sample_conversation_received(1), topic="x")
    with pytest.raises(DecodeError) as info:
        AvroCodec().decode(framed)
    assert info.value.reason_code == "registry_unavailable"


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"{\"json\": true}", "not_avro"), (b"\xc3\x01\x00", "truncated"),
     (b"\xc3\x01" + b"\x00" * 8 + b"body", "unknown_schema")],
)
def test_undecodable_bytes_give_a_reason_code(data, reason):
    with pytest.raises(DecodeError) as info:
        AvroCodec().decode(data)
    assert info.value.reason_code == reason


def test_corrupt_body_is_reported_not_crashing():
    data = AvroCodec().encode(sample_conversation_received(1))
    with pytest.raises(DecodeError) as info:
        AvroCodec().decode(data[:14])
    assert info.value.reason_code == "corrupt_body"


def test_unexpected_type_is_refused():
    data = AvroCodec().encode(sample_conversation_received(1))
    with pytest.raises(DecodeError) as info:
        AvroCodec().decode(data, expected=SlaEvent)
    assert info.value.reason_code == "unexpected_type"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_committed_schema_matches_the_model(name):
    path = SCHEMAS_DIR / f"{name}.avsc"
    assert path.exists(), f"{path} missing: run `casetrail schemas generate`"
    assert path.read_text() == schema_text(name), f"{path.name} drifted from its model: run `casetrail schemas generate`"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_released_version_is_readable_by_the_current_reader(name):
    versions = released_schemas(name)
    assert versions, f"{name} has no released schema: run `casetrail schemas release`"
    codec = AvroCodec()
    for version, _schema in versions:
        sample = SCHEMAS_DIR / "released" / name / f"{version}.sample.bin"
        assert sample.exists(), f"{sample} missing"
        decoded_name, record = codec.decode_record(sample.read_bytes())
        assert decoded_name == name
        EVENT_TYPES[name].model_validate(record)  # valid under the current model


def test_an_older_writer_schema_resolves_to_the_current_reader(tmp_path, monkeypatch):
    """A field added with a default must not break records written before it existed."""
    current = schema_of("SlaEvent")
    old = json.loads(json.dumps(current))
    old["fields"] = [f for f in old["fields"] if f["name"] != "queue"]
    released = tmp_path / "released" / "SlaEvent"
    released.mkdir(parents=True)
    (released / "v1.avsc").write_text(json.dumps(old))
    import casetrail.codec as codec_module

    monkeypatch.setattr(codec_module, "released_schemas", lambda n: released_schemas(n, tmp_path))
    codec = AvroCodec()
    import io

    body = io.BytesIO()
    record = {k: v for k, v in codec_module.AvroCodec().decode_record(
        AvroCodec().encode(EVENT_TYPES["SlaEvent"].fake()))[1].items() if k != "queue"}
    fastavro.schemaless_writer(body, fastavro.parse_schema(old), record)
    fp = int(fastavro.schema.fingerprint(fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(old)),
                                          "CRC-64-AVRO"), 16).to_bytes(8, "little")
    event = codec.decode(SINGLE_OBJECT_MAGIC + fp + body.getvalue())
    assert event.queue is None and event.kind == record["kind"]


def test_event_model_rejects_unknown_fields():
    with pytest.raises(Exception):
        ConversationReceived.model_validate({**sample_conversation_received(1).model_dump(), "surprise": 1})
