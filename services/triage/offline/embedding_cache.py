"""On-disk cache of text embeddings, so repeated training/evaluation runs embed each text once.

One ``.npz`` per embedder name under the cache directory (``var/triage/embeddings``
by default, git-ignored): ``keys`` (sha256 of kind + text, hex) and ``vectors``.
The cache holds only vectors of data-set texts used for experiments; it is a
speed-up, never a source of truth, and can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from casetrail.embeddings import Embedder, TextKind


def _key(text: str, kind: str) -> str:
    return hashlib.sha256(f"{kind}\x00{text}".encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, embedder: Embedder, directory: Path) -> None:
        self.embedder = embedder
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder.name)
        self.path = Path(directory) / f"{safe_name}.npz"
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                self._vectors = data["vectors"].astype(np.float32)
            self._index = {k: i for i, k in enumerate(keys)}

    def embed(
        self,
        texts: Sequence[str],
        kind: TextKind = "query",
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        keys = [_key(t, kind) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._index}.items())
        if missing:
            new_rows = []
            for start in range(0, len(missing), batch_size):
                chunk = missing[start : start + batch_size]
                new_rows.append(self.embedder.embed([t for _, t in chunk], kind=kind))
                if progress:
                    progress(min(start + batch_size, len(missing)), len(missing))
                if (start // batch_size) % 20 == 19:  # persist progress on long runs
                    self._add([k for k, _ in missing[: start + len(chunk)]], np.vstack(new_rows))
                    new_rows, missing = [], missing[start + len(chunk) :]
                    return self.embed(texts, kind, batch_size, progress)
            self._add([k for k, _ in missing], np.vstack(new_rows))
        return self._vectors[[self._index[k] for k in keys]]

    def _add(self, keys: list[str], rows: np.ndarray) -> None:
        self._append(keys, rows)
        # Another process may have written the file meanwhile: merge its rows instead of losing them.
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                theirs = [str(k) for k in data["keys"]]
                new = [i for i, k in enumerate(theirs) if k not in self._index]
                if new:
                    self._append([theirs[i] for i in new], data["vectors"][new].astype(np.float32))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self._index, key=self._index.__getitem__)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(ordered), vectors=self._vectors)
        tmp.replace(self.path)

    def _append(self, keys: list[str], rows: np.ndarray) -> None:
        base = len(self._index)
        self._vectors = rows if base == 0 else np.vstack([self._vectors, rows])
        for offset, key in enumerate(keys):
            self._index[key] = base + offset


def stderr_progress(label: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        print(f"\r{label}: embedded {done}/{total} ({rate:.0f}/s)", end="\n" if done == total else "", file=sys.stderr, flush=True)

    return report
