"""The vector cache: a republished or re-evaluated KB embeds only the texts it has not seen."""

from __future__ import annotations

import numpy as np
from kb_testing import SAMPLE_KB, HashingEmbedder

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.publish import publish
from casetrail.knowledge.vector_cache import VectorCache


def test_second_publish_into_a_fresh_catalogue_embeds_nothing(tmp_path, embedder):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    [first] = publish(SAMPLE_KB, embedder=embedder, catalogue=Catalogue(tmp_path / "a.sqlite3"), locales=["en"],
                      vector_cache=cache)
    embedded = sum(n for n, _ in embedder.calls)
    assert embedded == cache.misses > 0 and cache.hits == 0
    embedder.calls.clear()
    fresh = Catalogue(tmp_path / "b.sqlite3")
    [second] = publish(SAMPLE_KB, embedder=embedder, catalogue=fresh, locales=["en"], vector_cache=cache)
    assert embedder.calls == [] and cache.hits == embedded
    clauses, vectors = fresh.clauses_with_vectors("acme-shop", "en", second.version.kb_version)
    assert np.allclose(vectors, embedder.embed([c.passage for c in clauses], kind="passage"))
    questions = fresh.question_vectors("acme-shop", "en", second.version.kb_version)
    assert np.allclose(questions[0], embedder.embed(list(clauses[0].questions), kind="query"))


def test_entries_are_per_embedder_and_kind(tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    one, other = HashingEmbedder(name="one"), HashingEmbedder(dimension=64, name="other")
    cache.embed(one, ["refund please"], "query")
    cache.embed(one, ["refund please"], "passage")
    assert cache.embed(other, ["refund please"], "query").shape == (1, 64)
    assert [kind for _, kind in one.calls] == ["query", "passage"] and cache.misses == 3


def test_an_empty_setting_turns_the_cache_off(monkeypatch, tmp_path):
    from casetrail.settings import CasetrailSettings

    monkeypatch.setenv("CASETRAIL_VECTOR_CACHE", "")
    assert VectorCache.from_settings(CasetrailSettings()) is None
    monkeypatch.setenv("CASETRAIL_VECTOR_CACHE", str(tmp_path / "c.sqlite3"))
    assert VectorCache.from_settings(CasetrailSettings()).path == tmp_path / "c.sqlite3"
