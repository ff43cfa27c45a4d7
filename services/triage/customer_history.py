"""Per-customer contact history: contact counts, sentiment trend and near-duplicate detection.

The history is a plain JSON-able dict (it lives in the service table
``customer_history``, whose changelog makes it survive restarts):

    {"entries": [{"conversation_id", "at" (ISO UTC), "sentiment", "intent",
                  "content_hash", "embedding" (int8, base64)}, ...]}   # oldest first

Entries older than the retention window are pruned and at most
``MAX_ENTRIES`` are kept. A redelivered conversation (same id) updates its
entry instead of counting twice (at-least-once input).

Near-duplicate: the same customer wrote, within the duplicate window, in
another conversation either the same text (same content hash) or text whose
embedding has cosine similarity >= ``similarity`` — then ``duplicate_of`` names
that conversation so the router can merge instead of answering twice.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Optional

import numpy as np

MAX_ENTRIES = 30


@dataclass(frozen=True)
class HistorySettings:
    contact_window: dt.timedelta = dt.timedelta(days=30)
    duplicate_window: dt.timedelta = dt.timedelta(days=3)
    duplicate_similarity: float = 0.93
    retention: dt.timedelta = dt.timedelta(days=90)


def encode_embedding(vector: Optional[np.ndarray]) -> str:
    if vector is None or len(vector) == 0:
        return ""
    quantised = np.clip(np.round(np.asarray(vector, dtype=np.float32) * 127), -127, 127).astype(np.int8)
    return base64.b64encode(quantised.tobytes()).decode("ascii")


def decode_embedding(text: str) -> Optional[np.ndarray]:
    if not text:
        return None
    vector = np.frombuffer(base64.b64decode(text), dtype=np.int8).astype(np.float32)
    norm = np.linalg.norm(vector)
    return vector / norm if norm else None


def _at(entry: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["at"])


def _utc(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def find_duplicate(
    history: dict, conversation_id: str, content_hash: str, embedding: Optional[np.ndarray], now: dt.datetime,
    settings: HistorySettings = HistorySettings(),
) -> tuple[Optional[str], float]:
    """(id of the earlier conversation this one duplicates, similarity) or (None, best similarity)."""
    now = _utc(now)
    best_id, best = None, 0.0
    for entry in reversed(history.get("entries", [])):
        if entry["conversation_id"] == conversation_id or now - _at(entry) > settings.duplicate_window:
            continue
        if content_hash and entry.get("content_hash") == content_hash:
            return entry["conversation_id"], 1.0
        other = decode_embedding(entry.get("embedding", ""))
        if other is not None and embedding is not None and len(embedding) == len(other):
            similarity = float(np.dot(other, np.asarray(embedding, dtype=np.float32)))
            if similarity > best:
                best_id, best = entry["conversation_id"], similarity
    if best >= settings.duplicate_similarity:
        return best_id, best
    return None, best


def record_contact(
    history: dict, *, conversation_id: str, at: dt.datetime, sentiment: float, intent: str, content_hash: str,
    embedding: Optional[np.ndarray], settings: HistorySettings = HistorySettings(),
) -> dict:
    """A new history with this contact added (or updated, if the conversation was seen) and old ones pruned."""
    at = _utc(at)
    entry = {"conversation_id": conversation_id, "at": at.isoformat(), "sentiment": round(float(sentiment), 4),
             "intent": intent, "content_hash": content_hash, "embedding": encode_embedding(embedding)}
    kept = [e for e in history.get("entries", []) if e["conversation_id"] != conversation_id
            and at - _at(e) <= settings.retention]
    kept.append(entry)
    kept.sort(key=lambda e: e["at"])
    return {"entries": kept[-MAX_ENTRIES:]}


def contacts_in_window(history: dict, now: dt.datetime, settings: HistorySettings = HistorySettings()) -> int:
    """Distinct conversations of this customer within the contact window (the current one included)."""
    now = _utc(now)
    return len({e["conversation_id"] for e in history.get("entries", []) if abs(now - _at(e)) <= settings.contact_window})


def sentiment_trend(history: dict, now: dt.datetime, settings: HistorySettings = HistorySettings()) -> float:
    """Mean sentiment of the latest two contacts minus the mean of the earlier ones in the window ([-2, 2]; 0 if < 3)."""
    now = _utc(now)
    values = [e["sentiment"] for e in history.get("entries", []) if abs(now - _at(e)) <= settings.contact_window]
    if len(values) < 3:
        return 0.0
    return round(float(np.mean(values[-2:]) - np.mean(values[:-2])), 4)
