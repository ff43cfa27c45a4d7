import numpy as np

from services.triage.offline.embedding_cache import EmbeddingCache


class CountingEmbedder:
    name, dimension = "counting/embedder", 4

    def __init__(self):
        self.calls = 0

    def embed(self, texts, kind="query"):
        self.calls += len(texts)
        return np.asarray([[len(t), ord(t[0]), 1.0 if kind == "query" else 2.0, 0.0] for t in texts], dtype=np.float32)


def test_cache_embeds_each_text_once_and_merges_concurrent_writers(tmp_path):
    first, second = CountingEmbedder(), CountingEmbedder()
    a, b = EmbeddingCache(first, tmp_path), EmbeddingCache(second, tmp_path)
    out = a.embed(["x", "yy", "x"])
    assert first.calls == 2 and out.shape == (3, 4) and out[0, 0] == out[2, 0] == 1
    b.embed(["zzz"])  # another process writes the same file meanwhile
    assert a.embed(["x", "yy"], kind="passage")[0, 2] == 2.0  # kind is part of the key
    fresh = CountingEmbedder()
    again = EmbeddingCache(fresh, tmp_path).embed(["x", "yy", "zzz"])
    assert fresh.calls == 0 and again[2, 0] == 3  # nothing lost, nothing re-embedded
    assert (tmp_path / "counting_embedder.npz").exists()
