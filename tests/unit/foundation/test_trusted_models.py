"""Models built without re-validation when the writer schema is the current one (issue 21 item 3)."""

import datetime as dt
from unittest import mock

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from casetrail_tools.benchmarks.codec import event_sizes
from casetrail_tools.benchmarks.sample_events import sample_pipeline_events
from casetrail.codec import AvroCodec
from casetrail.events import EVENT_TYPES, ConversationTriaged, DraftProposed, ProducerInfo
from casetrail.events.catalog import SCHEMAS_DIR, released_schemas
from casetrail.events.trusted import trusted_builder


def _shape(value):
    """Value and Python type of everything in a model, nested: enums must be enums, not their strings."""
    if isinstance(value, BaseModel):
        return type(value), {name: _shape(item) for name, item in value.__dict__.items()}, value.model_fields_set
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, dt.datetime):
        return dt.datetime, value, value.tzinfo
    return type(value), value


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_a_trusted_model_is_the_model_pydantic_validation_builds(name):
    assert trusted_builder(EVENT_TYPES[name]) is not None, f"{name} fell back to validation"
    codec = AvroCodec()
    for _ in range(5):  # fake() fills optional fields at random
        data = codec.encode(EVENT_TYPES[name].fake())
        built = codec.decode(data)
        validated = EVENT_TYPES[name].model_validate(codec.decode_record(data)[1])
        assert _shape(built) == _shape(validated)
        assert codec.encode(built) == data


def test_a_trusted_model_stays_a_frozen_model_that_copies_and_dumps():
    codec = AvroCodec()
    event = codec.decode(codec.encode(EVENT_TYPES["SlaEvent"].fake().model_copy(update={"reason": ""})))
    assert event.occurred_at.tzinfo is dt.timezone.utc
    with pytest.raises(ValidationError):
        event.reason = "changed"
    copied = event.model_copy(update={"reason": "answered"})
    assert (event.reason, copied.reason) == ("", "answered")
    assert copied.model_dump() == {**event.model_dump(), "reason": "answered"}
    assert "reason" in copied.model_fields_set


def test_a_record_written_with_an_older_released_schema_is_fully_validated():
    old_sample = SCHEMAS_DIR / "released" / "DraftProposed" / "v1.sample.bin"
    assert [version for version, _ in released_schemas("DraftProposed")][0] == "v1"
    codec = AvroCodec()
    current = codec.encode(DraftProposed.fake())
    with mock.patch.object(DraftProposed, "model_validate", wraps=DraftProposed.model_validate) as validate:
        codec.decode(current)
        assert validate.call_count == 0  # the current schema typed it: built directly
        event = codec.decode(old_sample.read_bytes())
        assert validate.call_count == 1
    assert isinstance(event, DraftProposed)


def test_a_model_with_its_own_validator_is_never_built_without_validation():
    class Checked(ProducerInfo):
        @field_validator("service")
        @classmethod
        def _known(cls, value):
            return value

    class Holder(ConversationTriaged):
        producer: Checked

    assert trusted_builder(Checked) is None
    assert trusted_builder(Holder) is None  # a nested model that needs validation taints its parent


def test_the_sample_pipeline_carries_the_embedding_to_the_drafter_and_no_further():
    codec = AvroCodec()
    events = sample_pipeline_events(3)
    assert [codec.decode(codec.encode(event)) for _, event in events] == [event for _, event in events]
    carrying = [topic for topic, event in events if getattr(getattr(event, "triage", None), "embedding", None)]
    assert carrying == ["conversations.triaged.v1"]
    sizes = event_sizes(codec, 3)
    assert sizes["decisions.routed.v1"][0] - sizes["decisions.routed.v1"][1] > 384 * 8  # 384 doubles and the array block header
    assert sizes["conversations.triaged.v1"][0] == sizes["conversations.triaged.v1"][1]


def test_a_registry_framed_record_of_the_current_schema_takes_the_same_path():
    codec = AvroCodec("mock://trusted-models")
    sent = DraftProposed.fake()
    data = codec.encode(sent, topic="drafts.proposed.v1")
    with mock.patch.object(DraftProposed, "model_validate", wraps=DraftProposed.model_validate) as validate:
        received = codec.decode(data)  # the writer schema is fetched from the registry by its id
    assert validate.call_count == 0
    assert _shape(received) == _shape(sent)
