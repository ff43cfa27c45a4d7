"""Decode and print events from a topic (``casetrail tail``)."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import time
import uuid
from typing import Iterator

from confluent_kafka import Consumer

from casetrail.codec import AvroCodec, DecodeError
from casetrail.settings import kafka_settings, settings
from casetrail.topic_admin import resolved_name
from casetrail.topics import by_name


def _jsonable(value):
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def tail_topic(topic: str, *, from_beginning: bool = False, limit: int = 0, idle_timeout: float = 0.0) -> Iterator[str]:
    spec = by_name(topic)
    name = resolved_name(spec)
    config = settings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    consumer = Consumer({
        **kafka_settings().consumer_config(f"casetrail-tail-{uuid.uuid4().hex[:8]}"),
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([name])
    seen, last = 0, time.monotonic()
    try:
        while not limit or seen < limit:
            message = consumer.poll(0.5)
            if message is None:
                if idle_timeout and time.monotonic() - last > idle_timeout:
                    return
                continue
            if message.error():
                continue
            last = time.monotonic()
            seen += 1
            try:
                event_type, record = codec.decode_record(message.value())
                body = {"type": event_type, "event": _jsonable(record)}
            except DecodeError as exc:
                body = {"type": None, "undecodable": exc.reason_code, "bytes": len(message.value() or b"")}
            yield json.dumps({
                "topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
                "key": (message.key() or b"").decode("utf-8", "replace"), **body,
            }, ensure_ascii=False)
    finally:
        consumer.close()
