"""The envelope every casetrail event carries.

``conversation_id`` is the Kafka record key, so one conversation stays ordered
on one partition; ``causation_id`` names the event this one was derived from,
which is what lets the audit service fold events into a lineage.
"""

from __future__ import annotations

import datetime as dt
import functools
import types
import typing
from typing import Optional

from dataclasses_avroschema.pydantic import AvroBaseModel
from pydantic import ConfigDict, Field, model_validator

from casetrail.events.identity import derived_event_id, new_event_id

NAMESPACE = "io.casetrail.events"


def utc_now() -> dt.datetime:
    # Avro timestamp-millis: keep millisecond precision so a decoded event
    # compares equal to the one that was encoded.
    return to_avro_timestamp(dt.datetime.now(dt.timezone.utc))


_UTC = dt.timezone.utc


def to_avro_timestamp(value: dt.datetime) -> dt.datetime:
    """UTC, millisecond precision: what Avro ``timestamp-millis`` can carry.

    Naive datetimes are taken as UTC. Normalising on construction means an
    event equals itself after an encode/decode round trip.
    """
    if value.tzinfo is _UTC and not value.microsecond % 1000:
        return value  # already normalised (most values: pydantic re-runs this on nested records)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    else:
        value = value.astimezone(dt.timezone.utc)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


class AvroRecord(AvroBaseModel):
    """Base for every record type; frozen so an event cannot change after it is made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="after")
    def _avro_timestamps(self):
        # One pass over the datetime fields per model, not a Python call per field of
        # every (nested) record: this runs on every event each service decodes or builds.
        for name in _datetime_fields(type(self)):
            value = getattr(self, name)
            if value is not None:
                normalised = to_avro_timestamp(value)
                if normalised is not value:
                    object.__setattr__(self, name, normalised)  # frozen: set once, here
        return self


@functools.lru_cache(maxsize=None)
def _datetime_fields(model: type[AvroBaseModel]) -> tuple[str, ...]:
    """Fields annotated ``datetime`` or ``Optional[datetime]`` (the ones that hold a timestamp)."""
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is dt.datetime or (
            typing.get_origin(annotation) in (typing.Union, types.UnionType)
            and dt.datetime in typing.get_args(annotation)
        ):
            names.append(name)
    return tuple(names)


class ProducerInfo(AvroRecord):
    """Which service (and which release of it) produced the event."""

    service: str
    version: str


class DecisionVersions(AvroRecord):
    """The versions that made a decision; carried by every decision event."""

    model: Optional[str] = None
    prompt: Optional[str] = None
    knowledge_base: Optional[str] = None
    policy: Optional[str] = None


class EventEnvelope(AvroRecord):
    """Fields shared by every conversation event (flattened into each schema)."""

    event_id: str = Field(default_factory=new_event_id)
    conversation_id: str
    causation_id: Optional[str] = None
    tenant: str
    locale: str
    occurred_at: dt.datetime = Field(default_factory=utc_now)
    producer: ProducerInfo

    def derive(self, step: str, producer: ProducerInfo) -> dict:
        """The envelope of the event that ``step`` derives from this one, as constructor fields.

        The event id is a function of this event's id and the step (``identity.derived_event_id``),
        so handling this event again — a redelivery, a replay from any offset — derives the same
        id; conversation, tenant and locale carry over; the causation id names this event.
        ``occurred_at`` is left to the new event (when the step happened).
        """
        return {
            "event_id": derived_event_id(self.event_id, step),
            "conversation_id": self.conversation_id,
            "causation_id": self.event_id,
            "tenant": self.tenant,
            "locale": self.locale,
            "producer": producer,
        }


class DecisionEnvelope(EventEnvelope):
    """Envelope of events that record a decision: adds the versions behind it."""

    versions: DecisionVersions = Field(default_factory=DecisionVersions)
