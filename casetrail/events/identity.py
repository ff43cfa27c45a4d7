"""Identities: every id is a function of what it names, never random.

A conversation's id is a name-based (version 5) UUID of the tenant, the source
and the source's own ticket id, so every producer — ingest, the webhook bridge,
tools that publish tickets — names the same conversation the same way, and a
replayed intake record keeps its conversation.

Every other event id is a function of what the event was derived from
(``derived_event_id``, used by ``EventEnvelope.derive``), and the received
conversation's id a function of the intake record (``received_event_id``): a
replay of any topic from any offset, a redelivery after a crash, a rebalance or
an operator's ``deadletter replay`` produce the same ids, so consumers and the
audit store recognise a repeated event as the same event, and idempotency keys
built from them hold.
"""

from __future__ import annotations

import hashlib
import os
import uuid

CONVERSATION_NAMESPACE = uuid.UUID("6f1c3f7e-2b8a-5d0e-9c4b-0a1e2d3c4b5a")
_NAMESPACE_BYTES = CONVERSATION_NAMESPACE.bytes
EVENT_NAMESPACE = uuid.UUID("3d2f6c1e-8b0a-5e4f-9c7d-1a2b3c4d5e6f")
_EVENT_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes
_SEPARATOR = "\x1f"


def uuid_string(raw: bytes, version: int) -> str:
    """``str(uuid.UUID(bytes=raw[:16], version=version))`` without the ``UUID`` object.

    Ids are made for every event and conversation, so they are formatted
    straight from their 16 bytes.
    """
    octets = bytearray(raw[:16])
    octets[6] = (octets[6] & 0x0F) | (version << 4)
    octets[8] = (octets[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = octets.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_event_id() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())``."""
    return uuid_string(os.urandom(16), 4)


def conversation_id(tenant: str, source: str, external_id: str) -> str:
    """``str(uuid.uuid5(CONVERSATION_NAMESPACE, "tenant/source/external id"))``, formatted from the digest."""
    return uuid_string(hashlib.sha1(_NAMESPACE_BYTES + f"{tenant}/{source}/{external_id}".encode()).digest(), 5)


def stable_id(*parts: str) -> str:
    """The id of the thing named by ``parts`` (same parts, same id; parts are separated, not concatenated)."""
    digest = hashlib.sha1(_EVENT_NAMESPACE_BYTES + _SEPARATOR.join(parts).encode("utf-8")).digest()
    return uuid_string(digest, 5)


def derived_event_id(input_event_id: str, step: str) -> str:
    """The id of the event that deriving ``step`` makes from the event ``input_event_id``."""
    return stable_id("derived", input_event_id, step)


def received_event_id(tenant: str, source: str, external_id: str, delivery_stamp: str) -> str:
    """ConversationReceived's id: the intake record's identity (ticket + the delivery's stamp).

    The same delivery of a ticket — however often it is replayed — is the same event; a new
    update of the ticket (a new stamp) is a new one.
    """
    return stable_id("received", tenant, source, external_id, delivery_stamp)


def dead_letter_id(topic: str, partition: int, offset: int, reason_code: str) -> str:
    """A dead letter names the record it holds: dead-lettering it again yields the same id."""
    return stable_id("deadletter", topic, str(partition), str(offset), reason_code)
