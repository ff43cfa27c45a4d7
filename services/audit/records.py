"""From a decoded event to the audit record the store keeps (pure, no Kafka).

Events carry forward what later stages need (a ``DraftVerified`` holds the
whole conversation, triage and draft again). The audit record keeps what
each event *added* and replaces carried state by a small reference, so the
store holds every fact once:

* the carried ``conversation`` becomes ``conversation_ref`` (source,
  external id, channel, customer id, key id, content hash, received time) —
  enough to head a lineage even if the received event is gone from the log;
* the triage ``embedding`` vector is dropped (its model and dimension stay);
* retrieved clause ``text`` is dropped: ``clause_id@kb_version`` is immutable
  and resolvable in the versioned knowledge base;
* raw bytes that may hold personal data in clear (intake payloads,
  dead-letter originals) are replaced by their SHA-256 and size.

Every record is JSON-safe (timestamps as ISO-8601 UTC with milliseconds,
bytes as base64) so its canonical serialisation, and therefore its hash, is
the same in SQLite, PostgreSQL and a rebuild.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any, Iterable, Optional

import orjson

# Stages, in the order a conversation normally goes through them. The rank is
# part of the canonical order of a chain (rank, occurred_at, event_id), so a
# clock skew between services never shows "triaged" before "received".
STAGE_OF_TYPE = {
    "ConversationReceived": "received",
    "ConversationTriaged": "triaged",
    "DraftProposed": "drafted",
    "DraftVerified": "verified",
    "RoutedDecision": "routed",
    "ReplyOutbound": "sent",
    "DeliveryReceipt": "delivered",
    "AgentFeedback": "feedback",
    "SlaEvent": "sla",
    "RecontactDetected": "recontact",
    "IntakeTicket": "intake",
    "DeadLetter": "deadletter",
    "KnowledgeBasePublished": "kb_published",
    "PersonalDataErased": "erased",
    "VersionGateDecided": "gate",
}
STAGE_RANK = {
    "intake": 0,
    "received": 1,
    "recontact": 1,  # on the *new* conversation's chain it sits next to received
    "triaged": 2,
    "drafted": 3,
    "verified": 4,
    "routed": 5,
    # after the decision, in time order
    "sent": 6,
    "delivered": 6,
    "feedback": 6,
    "sla": 6,
    "deadletter": 6,
    "kb_published": 6,
    "gate": 6,
    "erased": 7,
}

# Free text the erasure of a customer removes from the store (the "decision
# skeleton" — ids, stages, versions, scores, citations, verdicts, checks,
# modes, rules, queues, times — stays).
ERASED_TEXT = ""


class RecordError(ValueError):
    """The event cannot become an audit record (e.g. an event type audit does not know)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"not JSON-serialisable in an audit record: {type(value).__name__}")


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def canonical_json(record: dict) -> bytes:
    """Sorted keys, no whitespace, one time format: the bytes a record's hash is computed over.

    Accepts raw decoded values (datetimes, bytes, enums) and plain JSON values
    alike, and gives the same bytes for both forms of one record.
    """
    return orjson.dumps(record, default=_json_default, option=_CANONICAL)


def json_safe(record: dict) -> dict:
    """The record with plain JSON values only (what the store gives back)."""
    return orjson.loads(canonical_json(record))


def iso_utc(value: dt.datetime | str) -> str:
    """ISO-8601 UTC with milliseconds: the one time format of records (sorts as text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    elif value.utcoffset():
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def content_hash(record: dict) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()


def _sha(data: Optional[bytes]) -> Optional[dict]:
    if data is None:
        return None
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _conversation_ref(conversation: dict) -> dict:
    customer = conversation.get("customer") or {}
    original = conversation.get("original") or {}
    return {
        "source": conversation.get("source"),
        "external_id": conversation.get("external_id"),
        "channel": conversation.get("channel"),
        "customer_id": customer.get("customer_id"),
        "customer_tier": customer.get("tier"),
        "key_id": original.get("key_id"),
        "content_hash": conversation.get("content_hash", ""),
        "received_at": conversation.get("received_at"),
    }


def _triage_body(triage: dict) -> dict:
    body = {k: v for k, v in triage.items() if k != "embedding"}
    body["embedding_dim"] = len(triage.get("embedding") or ())
    return body


def _triage_ref(triage: dict) -> dict:
    return {k: triage.get(k) for k in ("intent", "intent_confidence", "category", "priority", "vip")}


def _draft_body(draft: dict) -> dict:
    body = dict(draft)
    body["retrieved"] = [{k: v for k, v in clause.items() if k != "text"} for clause in draft.get("retrieved") or ()]
    return body


def _draft_ref(draft: dict) -> dict:
    return {
        "draft_id": draft.get("draft_id"),
        "outcome": draft.get("outcome"),
        "confidence": draft.get("confidence"),
        "citations": [f"{c['clause_id']}@{c['kb_version']}" for c in draft.get("citations") or ()],
    }


def _envelope(event: dict, keys: Iterable[str]) -> dict:
    return {k: event.get(k) for k in keys}


_ENVELOPE = ("event_id", "conversation_id", "causation_id", "tenant", "locale", "occurred_at", "producer")


def reduce_event(event_type: str, event: dict) -> dict:
    """The audit record of one decoded event (``dict`` as fastavro or ``model_dump`` gives it), JSON-safe."""
    return json_safe(reduce_event_raw(event_type, event))


def reduce_event_raw(event_type: str, event: dict) -> dict:
    """Like ``reduce_event`` but values stay as decoded (datetimes, bytes): the fast path of the store.

    ``occurred_at`` is always an ISO string, because it is part of the sort key.
    """
    stage = STAGE_OF_TYPE.get(event_type)
    if stage is None:
        raise RecordError(f"audit does not know event type {event_type!r}")
    body: dict[str, Any]
    if event_type == "ConversationReceived":
        head = _envelope(event, _ENVELOPE)
        body = {"conversation": event["conversation"]}
    elif event_type == "ConversationTriaged":
        head = _envelope(event, _ENVELOPE + ("versions",))
        body = {"conversation_ref": _conversation_ref(event["conversation"]), "triage": _triage_body(event["triage"])}
    elif event_type == "DraftProposed":
        head = _envelope(event, _ENVELOPE + ("versions",))
        body = {
            "conversation_ref": _conversation_ref(event["conversation"]),
            "triage_ref": _triage_ref(event["triage"]),
            "draft": _draft_body(event["draft"]),
        }
    elif event_type == "DraftVerified":
        head = _envelope(event, _ENVELOPE + ("versions",))
        body = {
            "conversation_ref": _conversation_ref(event["conversation"]),
            "triage_ref": _triage_ref(event["triage"]),
            "draft_ref": _draft_ref(event["draft"]),
            "verification": event["verification"],
        }
    elif event_type == "RoutedDecision":
        head = _envelope(event, _ENVELOPE + ("versions",))
        body = {k: v for k, v in event.items() if k not in head and k != "triage"}
        body["triage_ref"] = _triage_ref(event["triage"])
    elif event_type in ("ReplyOutbound", "AgentFeedback", "SlaEvent", "RecontactDetected", "DeliveryReceipt"):
        head = _envelope(event, _ENVELOPE)
        body = {k: v for k, v in event.items() if k not in head}
    elif event_type == "IntakeTicket":
        head = {"event_id": event["event_id"], "tenant": event["tenant"], "occurred_at": event["received_at"]}
        body = {k: event.get(k) for k in ("source", "content_type", "external_id", "attributes")}
        body["payload"] = _sha(event.get("payload"))
    elif event_type == "DeadLetter":
        head = {"event_id": event["event_id"], "occurred_at": event["occurred_at"], "producer": event["producer"]}
        body = {
            k: event.get(k)
            for k in ("reason_code", "reason", "exception_type", "source_topic", "source_partition", "source_offset")
        }
        body["original_key"] = _printable_key(event.get("original_key"))
        body["original_value"] = _sha(event.get("original_value"))
        sealed = event.get("sealed_original_value")
        if sealed:  # v2: the original sealed (a customer's key or the dead letter's own); which key, and a hash
            body["sealed_original"] = {"key_id": sealed.get("key_id"), "sha256": _sha(sealed.get("ciphertext"))}
        body["original_headers"] = sorted((event.get("original_headers") or {}).keys())
    elif event_type == "KnowledgeBasePublished":
        head = {k: event.get(k) for k in ("event_id", "occurred_at", "producer", "tenant", "locale")}
        body = {k: event.get(k) for k in ("kb_version", "content_hash", "clause_ids", "collection")}
    elif event_type == "VersionGateDecided":
        head = {k: event.get(k) for k in ("event_id", "occurred_at", "producer", "tenant")}
        body = {k: event.get(k) for k in (
            "kind", "candidate", "production", "outcome", "examples", "agent_examples", "production_error_rate",
            "candidate_error_rate", "baseline_error_rate", "worse", "requested_by", "dev_examples",
            "production_dev_error_rate", "candidate_dev_error_rate", "baseline_window")}
    else:  # PersonalDataErased
        head = {k: event.get(k) for k in ("event_id", "occurred_at", "producer", "tenant")}
        body = {k: event.get(k) for k in ("customer_id", "key_id", "requested_by", "reason")}
    record = {"type": event_type, "stage": stage, **head, **body}
    occurred = record.get("occurred_at")
    if isinstance(occurred, dt.datetime):
        record["occurred_at"] = iso_utc(occurred)
    return record


def _printable_key(key: Optional[bytes]) -> Optional[str]:
    if key is None:
        return None
    try:
        text = bytes(key).decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(bytes(key)).decode("ascii")
    return text if text.isprintable() else "base64:" + base64.b64encode(bytes(key)).decode("ascii")


def chain_key(record: dict) -> str:
    """Which hash chain a record belongs to: its conversation, or its own stream."""
    stage = record["stage"]
    if record.get("conversation_id"):
        return record["conversation_id"]
    if stage == "intake":
        return f"intake:{record['tenant']}:{record.get('source')}:{record.get('external_id') or record['event_id']}"
    if stage == "kb_published":
        return f"kb:{record['tenant']}:{record.get('locale')}"
    if stage == "erased":
        return f"erasure:{record['tenant']}"
    if stage == "gate":
        return f"gate:{record['tenant']}:{record.get('kind')}"
    return f"deadletter:{record.get('source_topic')}"


def related_id(record: dict) -> Optional[str]:
    """Another conversation this record belongs to the lineage of."""
    stage = record["stage"]
    if stage == "recontact":
        return record.get("original_conversation_id")
    if stage == "deadletter":
        return record.get("original_key")
    return None


def sort_key(record: dict) -> tuple[int, str, str]:
    """Canonical order inside a chain: stage rank, then time, then event id (ties never depend on arrival)."""
    return (STAGE_RANK[record["stage"]], record.get("occurred_at") or "", record["event_id"])


def sort_text(record: dict) -> str:
    rank, occurred, event_id = sort_key(record)
    return f"{rank}|{occurred}|{event_id}"


# -- erasure -----------------------------------------------------------------
def conversation_identity(record: dict) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(customer_id, key_id, received_at) named by a conversation record, if any."""
    if "conversation" in record:
        conv = record["conversation"]
        return (
            (conv.get("customer") or {}).get("customer_id"),
            (conv.get("original") or {}).get("key_id"),
            conv.get("received_at"),
        )
    ref = record.get("conversation_ref")
    if ref:
        return ref.get("customer_id"), ref.get("key_id"), ref.get("received_at")
    return None, None, None


def scrub(record: dict) -> dict:
    """The record with every free text removed: what stays after a customer's erasure.

    The sealed original (``conversation.original``) is kept as it is: without
    its key it is unreadable, which is the point of crypto-shredding, and it
    shows that the text existed.
    """
    out = dict(record)
    if "conversation" in out:
        conv = dict(out["conversation"])
        conv["subject"] = None if conv.get("subject") is None else ERASED_TEXT
        conv["messages"] = [
            {**m, "body_text": ERASED_TEXT, "author_id": None, "attachments": []} for m in conv.get("messages") or ()
        ]
        conv["customer"] = {**(conv.get("customer") or {}), "attributes": {}}
        out["conversation"] = conv
    if "draft" in out:
        draft = dict(out["draft"])
        draft["reply_text"] = ERASED_TEXT
        draft["citations"] = [{**c, "sentence": ERASED_TEXT} for c in draft.get("citations") or ()]
        out["draft"] = draft
    for key in ("reply_text", "body", "edited_text"):
        if out.get(key):
            out[key] = ERASED_TEXT
    if out.get("brief"):
        out["brief"] = {**out["brief"], "summary": ERASED_TEXT, "draft_text": ERASED_TEXT, "signals": {}}
    if out.get("inputs"):
        out["inputs"] = {}
    out["erased"] = True
    return out


def loads(text: str | bytes) -> dict:
    return orjson.loads(text)
