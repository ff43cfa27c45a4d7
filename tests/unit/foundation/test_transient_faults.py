"""Faults that can pass are retried (``RetryableError``: back-off, then parked for `deadletter replay`),
not dead-lettered as unprocessable: a locked key store in ingest, an embedding server that is away in
triage. A refusal that cannot pass (HTTP 400) stays a plain error."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest

from casetrail.embeddings.http import EmbeddingServerError, EmbeddingServerUnavailable, HttpEmbedder
from casetrail.privacy.keystore import KeyStore, KeyStoreBusy
from casetrail.runtime import RecordContext, RetryableError


def test_a_key_store_locked_by_another_writer_is_busy_not_broken(tmp_path):
    path = tmp_path / "keys.sqlite3"
    store = KeyStore(path, busy_timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(KeyStoreBusy):
            store.seal("acme-shop", "customer-1", "hello")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.open(store.seal("acme-shop", "customer-1", "hello")) == "hello"  # and it passes


def _embedder(status: int) -> HttpEmbedder:
    return HttpEmbedder("http://embeddings.test", retries=0,
                        transport=httpx.MockTransport(lambda request: httpx.Response(status, text="nope")))


def test_an_embedding_server_answering_503_is_unavailable_and_400_is_a_plain_error():
    with pytest.raises(EmbeddingServerUnavailable):
        _embedder(503).embed(["where is my parcel"])
    with pytest.raises(EmbeddingServerError) as refused:
        _embedder(400).embed(["where is my parcel"])
    assert not isinstance(refused.value, EmbeddingServerUnavailable)


def _context() -> RecordContext:
    from casetrail.runtime.service import Service

    return RecordContext(service=Service("transient-test"), topic="t", partition=0, offset=0, key=b"k",
                         value=b"{}", headers={}, timestamp=None)


def test_ingest_turns_a_busy_key_store_into_a_retry(monkeypatch):
    import services.ingest.app as ingest

    class BusyProcessor:
        def normalise(self, record):  # sealing the original is part of normalising
            raise KeyStoreBusy("locked")

    monkeypatch.setattr(ingest, "processor", lambda: BusyProcessor())
    monkeypatch.setattr(ingest, "intake_record", lambda *args: type("R", (), {"source": "generic", "tenant": "acme-shop"})())
    with pytest.raises(RetryableError):
        asyncio.run(ingest.ingest_intake(b"{}", _context()))


def test_triage_turns_an_unavailable_embedding_server_into_a_retry(monkeypatch):
    import services.triage.app as triage
    from casetrail_tools.benchmarks.sample_events import sample_conversation_received

    class AwayTriager:
        def triage(self, event, history, policy):
            raise EmbeddingServerUnavailable("unreachable")

    monkeypatch.setattr(triage, "triager", lambda: AwayTriager())
    event = sample_conversation_received(1)
    assert event.tenant in triage.policies()
    with pytest.raises(RetryableError):
        asyncio.run(triage.triage_conversation(event, _context()))
