"""Identities of conversations: functions of what the source says, never random.

A conversation's id is a name-based (version 5) UUID of the tenant, the source
and the source's own ticket id, so every producer — ingest, the webhook bridge,
tools that publish tickets — names the same conversation the same way, and a
replayed intake record keeps its conversation.
"""

from __future__ import annotations

import hashlib
import uuid

from casetrail.events.envelope import uuid_string

CONVERSATION_NAMESPACE = uuid.UUID("6f1c3f7e-2b8a-5d0e-9c4b-0a1e2d3c4b5a")
_NAMESPACE_BYTES = CONVERSATION_NAMESPACE.bytes


def conversation_id(tenant: str, source: str, external_id: str) -> str:
    """``str(uuid.uuid5(CONVERSATION_NAMESPACE, "tenant/source/external id"))``, formatted from the digest."""
    return uuid_string(hashlib.sha1(_NAMESPACE_BYTES + f"{tenant}/{source}/{external_id}".encode()).digest(), 5)
