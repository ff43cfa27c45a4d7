"""Avro framing for Kafka record values.

Two framings, and readers accept both:

* **Single-object encoding** (the default, no registry needed): ``C3 01`` +
  the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
  Parsing Canonical Form + the Avro body. The writer schema is resolved from
  the schemas shipped with the code: the current ones and every released one.
* **Confluent wire format** (when a Schema Registry URL is configured):
  ``00`` + 4-byte big-endian schema id + the Avro body, with schemas
  registered and fetched through confluent-kafka's Schema Registry client.

Decoding always resolves the writer schema against the current reader schema
of the event type, so data written with an older released schema stays
readable. Models are validated by pydantic only when the writer schema is not
the current one: a record the current schema decoded is already typed as the
model declares it (``casetrail.events.trusted``).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from casetrail.events.catalog import EVENT_TYPES, full_name, released_schemas, schema_of
from casetrail.events.envelope import AvroRecord
from casetrail.events.trusted import Build, trusted_builder

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"

T = TypeVar("T", bound=AvroRecord)


class DecodeError(ValueError):
    """The bytes are not a casetrail Avro event; ``reason_code`` goes to the dead letter."""

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class _WriterSchema:
    event_name: str
    parsed: Any
    fingerprint: bytes
    current: bool  # the current (reader) schema of its event type: no resolution, no re-validation


def _fingerprint(schema: dict) -> bytes:
    canonical = to_parsing_canonical_form(fastavro.parse_schema(schema))
    return int(fingerprint(canonical, "CRC-64-AVRO"), 16).to_bytes(8, "little")


class AvroCodec:
    """Encodes casetrail events to Avro and decodes them back into their models."""

    def __init__(self, schema_registry_url: Optional[str] = None, registry_config: Optional[dict] = None):
        self._readers: dict[str, Any] = {}
        self._by_fingerprint: dict[bytes, _WriterSchema] = {}
        self._current: dict[str, _WriterSchema] = {}
        self._builders: dict[str, Optional[Build]] = {}
        for name in EVENT_TYPES:
            current = schema_of(name)
            self._readers[name] = fastavro.parse_schema(current)
            writer = _WriterSchema(name, self._readers[name], _fingerprint(current), current=True)
            self._current[name] = writer
            self._by_fingerprint[writer.fingerprint] = writer
            self._builders[name] = trusted_builder(EVENT_TYPES[name])
            for _, old in released_schemas(name):
                fp = _fingerprint(old)
                self._by_fingerprint.setdefault(fp, _WriterSchema(name, fastavro.parse_schema(old), fp, current=False))
        self._registry = None
        self._registry_ids: dict[str, int] = {}
        self._registry_schemas: dict[int, _WriterSchema] = {}
        if schema_registry_url:
            from confluent_kafka.schema_registry import SchemaRegistryClient

            # new_client() returns the in-memory mock for ``mock://`` URLs (tests).
            self._registry = SchemaRegistryClient.new_client({"url": schema_registry_url, **(registry_config or {})})

    @property
    def uses_registry(self) -> bool:
        return self._registry is not None

    # -- encoding ---------------------------------------------------------
    def encode(self, event: AvroRecord, topic: Optional[str] = None) -> bytes:
        name = type(event).__name__
        return self.encode_record(name, event.model_dump(), topic=topic)

    def encode_record(self, name: str, record: dict, topic: Optional[str] = None) -> bytes:
        writer = self._current[name]
        buffer = io.BytesIO()
        if self._registry is not None:
            buffer.write(CONFLUENT_MAGIC + struct.pack(">I", self._registry_id(name, topic)))
        else:
            buffer.write(SINGLE_OBJECT_MAGIC + writer.fingerprint)
        fastavro.schemaless_writer(buffer, writer.parsed, record)
        return buffer.getvalue()

    def _registry_id(self, name: str, topic: Optional[str]) -> int:
        # TopicNameStrategy when the topic is known (the Confluent default),
        # RecordNameStrategy otherwise.
        subject = f"{topic}-value" if topic else full_name(name)
        if subject not in self._registry_ids:
            from confluent_kafka.schema_registry import Schema

            schema = Schema(json.dumps(schema_of(name)), "AVRO")
            self._registry_ids[subject] = self._registry.register_schema(subject, schema)
        return self._registry_ids[subject]

    # -- decoding ---------------------------------------------------------
    def decode_record(self, data: bytes) -> tuple[str, dict]:
        """Decode to ``(event type name, dict in the current reader schema)``."""
        writer, record = self._decode(data)
        return writer.event_name, record

    def _decode(self, data: bytes) -> tuple[_WriterSchema, dict]:
        if not data:
            raise DecodeError("empty", "record value is empty")
        if data[:2] == SINGLE_OBJECT_MAGIC:
            if len(data) < 10:
                raise DecodeError("truncated", "single-object header shorter than 10 bytes")
            writer = self._by_fingerprint.get(data[2:10])
            if writer is None:
                raise DecodeError("unknown_schema", f"no shipped schema has fingerprint {data[2:10].hex()}")
            body = io.BytesIO(data[10:])
        elif data[:1] == CONFLUENT_MAGIC:
            if len(data) < 5:
                raise DecodeError("truncated", "Confluent header shorter than 5 bytes")
            writer = self._registry_writer(struct.unpack(">I", data[1:5])[0])
            body = io.BytesIO(data[5:])
        else:
            raise DecodeError("not_avro", f"unknown framing byte 0x{data[0]:02x}")
        try:
            # Same schema on both sides: skip schema resolution (the common, fast path).
            reader = None if writer.current else self._readers[writer.event_name]
            record = fastavro.schemaless_reader(body, writer.parsed, reader)
        except Exception as exc:  # fastavro raises several types for corrupt bodies
            raise DecodeError("corrupt_body", f"Avro body does not decode as {writer.event_name}: {type(exc).__name__}") from exc
        return writer, record

    def _registry_writer(self, schema_id: int) -> _WriterSchema:
        if self._registry is None:
            raise DecodeError("registry_unavailable", f"Confluent-framed record (schema id {schema_id}) but no schema registry is configured")
        if schema_id not in self._registry_schemas:
            try:
                schema = json.loads(self._registry.get_schema(schema_id).schema_str)
            except Exception as exc:
                raise DecodeError("unknown_schema", f"schema id {schema_id} not found in registry: {type(exc).__name__}") from exc
            name = schema.get("name", "").rsplit(".", 1)[-1]
            if name not in EVENT_TYPES:
                raise DecodeError("unknown_schema", f"registry schema {schema_id} is not a casetrail event ({name!r})")
            fp = _fingerprint(schema)
            self._registry_schemas[schema_id] = self._by_fingerprint.get(fp) or _WriterSchema(
                name, fastavro.parse_schema(schema), fp, current=False)
        return self._registry_schemas[schema_id]

    def decode(self, data: bytes, expected: Optional[type[T]] = None) -> AvroRecord:
        writer, record = self._decode(data)
        name = writer.event_name
        if expected is not None and name != expected.__name__:
            raise DecodeError("unexpected_type", f"expected {expected.__name__}, got {name}")
        build = self._builders[name] if writer.current else None
        try:
            if build is not None:
                return build(record)
            return EVENT_TYPES[name].model_validate(record)
        except Exception as exc:
            raise DecodeError("invalid_event", f"{name} fails validation: {type(exc).__name__}") from exc
