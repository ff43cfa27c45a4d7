"""Qdrant down: the drafter raises RetryableError (the runtime retries and does not commit)."""

from __future__ import annotations

import socket

import pytest
from drafter_testing import triaged

from casetrail.knowledge.index import QdrantUnavailable, RetrievalIndex
from casetrail.knowledge.store import KnowledgeBase
from casetrail.runtime import RetryableError
from services.drafter import app
from services.drafter.drafting import Drafter


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_unreachable_qdrant_server_is_retryable(knowledge, policy, monkeypatch):
    down = RetrievalIndex.server(f"http://127.0.0.1:{closed_port()}", timeout=2)
    with pytest.raises(QdrantUnavailable):
        down.count("acme-shop", "en", "1+x")
    broken = KnowledgeBase(knowledge.catalogue, down, knowledge.embedder, refresh_seconds=0.0)
    monkeypatch.setattr(app, "_drafter", Drafter(broken, {"acme-shop": policy}))
    with pytest.raises(RetryableError, match="Qdrant"):
        app.draft_or_retry(triaged("where is my parcel?", intent="order_status"))
    # Qdrant back: the same record drafts normally.
    monkeypatch.setattr(app, "_drafter", Drafter(knowledge, {"acme-shop": policy}))
    [output] = app.draft_or_retry(triaged("where is my parcel?", intent="order_status"))
    assert output.event.draft.reply_text
