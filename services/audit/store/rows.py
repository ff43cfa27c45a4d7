"""Row shaping: a decoded event as the row the store keeps, and a lineage as its summary row (pure).

Pure, so rows can be made in worker processes (the live consumer's decoding,
the rebuild's staging) and sent to the process that writes them.
"""

from __future__ import annotations

import hashlib

import orjson

from services.audit.records import canonical_json, chain_key, reduce_event_raw, related_id, sort_text

# Columns of a staged row (``row_values``), in this order.
STAGED_COLUMNS = ("event_id", "chain_key", "record", "sort_key", "event_type", "stage", "tenant", "occurred_at",
                  "related_id", "content_hash", "customer_id")


def row_values(event_type: str, event: dict) -> tuple:
    """The stored row of one decoded event as a tuple in ``STAGED_COLUMNS`` order (pure)."""
    record = reduce_event_raw(event_type, event)
    record_json = canonical_json(record)
    stage = record["stage"]
    return (
        record["event_id"],
        chain_key(record),
        record_json.decode("utf-8"),
        sort_text(record),
        record["type"],
        stage,
        record.get("tenant"),
        record.get("occurred_at"),
        related_id(record),
        hashlib.sha256(record_json).hexdigest(),
        record.get("customer_id") if stage == "erased" else None,
    )


def row_of(event_type: str, event: dict) -> dict:
    """The stored row of one decoded event (pure; the live consumer makes rows in worker processes)."""
    return row_dict(row_values(event_type, event))


def row_dict(values: tuple) -> dict:
    """A ``row_values`` tuple as the row dict ``ingest_rows`` takes."""
    row = dict(zip(STAGED_COLUMNS, values))
    row["seq"] = row["prev_hash"] = row["hash"] = None
    return row


def summary_row(lineage: dict, event_count: int) -> dict:
    """The ``audit_conversations`` row of a folded lineage (its summary as canonical JSON)."""
    s = lineage["summary"]
    return {
        "conversation_id": lineage["conversation_id"],
        "tenant": lineage["tenant"],
        "locale": lineage["locale"],
        "customer_id": lineage["customer_id"],
        "key_id": lineage["key_id"],
        "source": lineage["source"],
        "external_id": lineage["external_id"],
        "channel": lineage["channel"],
        "started_at": lineage["received_at"] or lineage["started_at"],
        "last_event_at": lineage["last_event_at"],
        "intent": s["intent"],
        "category": s["category"],
        "mode": s["mode"],
        "action": s["action"],
        "verdict": s["verdict"],
        "rule": s["rule"],
        "queue": s["queue"],
        "triage_model": s["triage_model"],
        "draft_model": s["draft_model"],
        "prompt_version": s["prompt_version"],
        "kb_version": s["kb_version"],
        "policy_version": s["policy_version"],
        "sent_by": s["sent_by"],
        "erased": s["erased"] is not None,
        "complete": lineage["complete"],
        "event_count": event_count,
        "summary": canonical_json(s).decode("utf-8"),
    }


def conversation_dict(row) -> dict:
    """An ``audit_conversations`` row as a dict, its summary parsed back from JSON."""
    out = dict(row)
    if isinstance(out.get("summary"), str):
        out["summary"] = orjson.loads(out["summary"])
    return out
