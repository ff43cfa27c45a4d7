"""Vectors already computed for a text, so republishing unchanged clauses and questions costs no embedding.

Publishing embeds every clause and every anchoring question (about 3,400
texts for the sample tenant, 3-4 minutes on two cores with the offline
embedder), and the demo, the fault runs and the evaluations publish into a
fresh catalogue each time. The vectors of a text depend only on the
embedder and the kind of text, so they are kept in a small SQLite file
keyed by ``(embedder name, kind, sha256(text))``.

The embedder's ``name`` must change whenever its model does (the offline
backend's name carries its version; an HTTP backend's carries the model
name): a cache is only as right as that name. ``CASETRAIL_VECTOR_CACHE``
sets the file (default ``~/.cache/casetrail/kb-vectors.sqlite3``); an empty
value turns the cache off.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

if TYPE_CHECKING:
    from casetrail.settings import CasetrailSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL,
    kind     TEXT NOT NULL,
    digest   TEXT NOT NULL,
    vector   BLOB NOT NULL,
    PRIMARY KEY (embedder, kind, digest)
);
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
        with self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_settings(cls, config: Optional["CasetrailSettings"] = None) -> Optional["VectorCache"]:
        """The cache ``config.vector_cache`` names (``CASETRAIL_VECTOR_CACHE``, default under ``~/.cache``), or
        None when it is set empty or the folder cannot be written (a cache is an optimisation, never a reason to fail)."""
        if config is None:
            from casetrail.settings import settings

            config = settings()
        if config.vector_cache is None:
            return None
        try:
            return cls(config.vector_cache)
        except (OSError, sqlite3.Error):
            return None

    def embed(self, embedder, texts: Sequence[str], kind: str) -> np.ndarray:
        """``embedder.embed(texts, kind)``, embedding only the texts this cache has not seen with this embedder."""
        digests = [_digest(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(digests), 500):  # SQLite caps the number of bound parameters
                chunk = digests[start:start + 500]
                rows = self._db.execute(
                    f"SELECT digest, vector FROM vectors WHERE embedder=? AND kind=? AND digest IN ({','.join('?' * len(chunk))})",
                    (embedder.name, kind, *chunk),
                )
                found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        missing = [i for i, d in enumerate(digests) if d not in found]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = np.asarray(embedder.embed([texts[i] for i in missing], kind=kind), dtype=np.float32)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (embedder, kind, digest, vector) VALUES (?,?,?,?)",
                    [(embedder.name, kind, digests[i], fresh[row].tobytes()) for row, i in enumerate(missing)],
                )
            for row, i in enumerate(missing):
                found[digests[i]] = fresh[row]
        if not texts:
            return np.zeros((0, getattr(embedder, "dimension", 0)), np.float32)
        return np.vstack([found[d] for d in digests])

    def close(self) -> None:
        self._db.close()

    def wrap(self, embedder) -> "CachedEmbedder":
        """``embedder`` with this cache in front of its ``embed``."""
        return CachedEmbedder(embedder, self)


class CachedEmbedder:
    """An ``Embedder`` (same name and dimension) that asks the cache first."""

    def __init__(self, embedder, cache: VectorCache):
        self.inner = embedder
        self.cache = cache
        self.name = embedder.name
        self.dimension = embedder.dimension

    def embed(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        return self.cache.embed(self.inner, list(texts), kind)
