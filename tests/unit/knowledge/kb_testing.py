"""A tiny deterministic embedder for tests: hashed word and character-trigram counts.

Not a language model: it only makes texts that share words similar, which is
enough to test the knowledge base's plumbing without loading a model.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from casetrail.knowledge.clauses import KnowledgeBaseError, load_locale


class HashingEmbedder:
    def __init__(self, dimension: int = 256, name: str = "test-hashing-256"):
        self.dimension = dimension
        self.name = name
        self.calls: list[tuple[int, str]] = []

    def _bucket(self, token: str) -> int:
        return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little") % self.dimension

    def embed(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        self.calls.append((len(texts), kind))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, self._bucket("w:" + word)] += 1.0
                padded = f" {word} "
                for i in range(len(padded) - 2):
                    out[row, self._bucket("c:" + padded[i:i + 3])] += 0.3
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SAMPLE_KB = REPO / "knowledge" / "acme-shop"


def write(folder: Path, name: str, text: str) -> None:
    """A knowledge-base source file ``folder/name`` (folders made as needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def problems_of(folder: Path) -> str:
    """The problems loading ``folder`` as tenant "t", locale "en" raises, one per line."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_locale(folder, "t", "en")
    return "\n".join(str(p) for p in caught.value.problems)
