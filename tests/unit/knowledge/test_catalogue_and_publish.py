"""Publishing versions into the catalogue, resolving old versions, the index kept in step."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from kb_testing import SAMPLE_KB, HashingEmbedder

from casetrail.events import ProducerInfo
from casetrail.knowledge import resolve
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clauses import KnowledgeBaseError
from casetrail.knowledge.index import RetrievalIndex, collection_name
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase


@pytest.fixture
def kb_copy(tmp_path):
    target = tmp_path / "acme-shop"
    shutil.copytree(SAMPLE_KB / "en", target / "en")
    return target


def test_publish_versions_and_resolve_old_ones(tmp_path, kb_copy, embedder):
    path = tmp_path / "catalogue.sqlite3"
    catalogue = Catalogue(path)
    [first] = publish(kb_copy, embedder=embedder, catalogue=catalogue)
    assert first.version.kb_version == f"1+{first.version.content_hash}" and not first.unchanged
    # clause texts, then their anchoring questions, then their not_when cues
    assert [c for _, c in embedder.calls] == ["passage", "query", "query"]

    [again] = publish(kb_copy, embedder=embedder, catalogue=catalogue)
    assert again.unchanged and again.version.kb_version == first.version.kb_version

    refunds = kb_copy / "en" / "refunds.md"
    refunds.write_text(refunds.read_text().replace("within 30 days of delivery for a full refund",
                                                   "within 60 days of delivery for a full refund"))
    [second] = publish(kb_copy, embedder=embedder, catalogue=catalogue, human_version="2026.12")
    assert second.version.kb_version.startswith("2026.12+") and second.version.content_hash != first.version.content_hash

    old = resolve("acme-shop", "en", "refunds.window", first.version.kb_version, catalogue_path=path)
    new = resolve("acme-shop", "en", "refunds.window", second.version.kb_version, catalogue_path=path)
    assert "30 days" in old.text and "60 days" in new.text
    assert old.kb_version == first.version.kb_version and old.source_file.endswith("refunds.md") and old.line > 0
    assert resolve("acme-shop", "", "refunds.window", first.version.kb_version, catalogue_path=path).text == old.text
    assert resolve("acme-shop", "en", "refunds.nope", first.version.kb_version, catalogue_path=path) is None
    assert resolve("acme-shop", "en", "refunds.window", "9+000000000000", catalogue_path=path) is None
    assert catalogue.latest("acme-shop", "en").kb_version == second.version.kb_version

    event = second.event(ProducerInfo(service="kb-publish", version="t"))
    assert (event.tenant, event.locale, event.kb_version) == ("acme-shop", "en", second.version.kb_version)
    assert "refunds.window" in event.clause_ids and event.collection == collection_name("acme-shop", "en")


def test_a_refused_kb_writes_nothing(tmp_path, kb_copy, embedder):
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    (kb_copy / "en" / "zz_broken.md").write_text("## Oops {#refunds.window}\nduplicate id\n")
    with pytest.raises(KnowledgeBaseError, match=r"zz_broken\.md:1: duplicate clause id 'refunds.window'"):
        publish(kb_copy, embedder=embedder, catalogue=catalogue)
    assert catalogue.versions() == [] and embedder.calls == []


def test_knowledge_base_follows_the_newest_version(tmp_path, kb_copy, embedder):
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(kb_copy, embedder=embedder, catalogue=catalogue)
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    question = "how long do I have to return something"  # an anchoring question of refunds.window
    vector = embedder.embed([question])[0]
    v1, hits = knowledge.search("acme-shop", "en", vector, query_text=question, limit=3)
    assert hits[0].clause.clause_id == "refunds.window" and hits[0].clause.kb_version == v1.kb_version
    assert hits[0].score == pytest.approx(hits[0].dense + 0.15 * hits[0].lexical)

    refunds = kb_copy / "en" / "refunds.md"
    refunds.write_text(refunds.read_text().replace("30 days of delivery", "45 days of delivery"))
    publish(kb_copy, embedder=embedder, catalogue=catalogue)
    v2, hits = knowledge.search("acme-shop", "en", vector, query_text=question, limit=3)
    assert v2.kb_version != v1.kb_version
    assert all(h.clause.kb_version == v2.kb_version for h in hits)
    assert "45 days" in hits[0].clause.text
    assert knowledge.search("acme-shop", "de", vector)[0] is None  # no KB for that locale
    knowledge.close()


def test_reader_with_another_embedder_reembeds_from_the_catalogue(tmp_path, kb_copy):
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(kb_copy, embedder=HashingEmbedder(name="publisher-embedder"), catalogue=catalogue)
    reader = HashingEmbedder(dimension=128, name="reader-embedder")
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), reader, refresh_seconds=0.0)
    _, hits = knowledge.search("acme-shop", "en", reader.embed(["how do I reset my password"])[0], limit=1)
    assert hits[0].clause.clause_id == "account.password_reset"
    assert ("passage" in [kind for _, kind in reader.calls]) and knowledge.reindex_count == 1
    knowledge.close()


def test_local_qdrant_folder_locked_by_another_client_falls_back_to_memory(tmp_path):
    first = RetrievalIndex.local(tmp_path / "qdrant")
    second = RetrievalIndex.local(tmp_path / "qdrant")
    assert first.mode == "local" and second.mode == "memory"
    first.close()
    second.close()


def test_vectors_round_trip_through_the_catalogue(tmp_path, kb_copy, embedder):
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    [result] = publish(kb_copy, embedder=embedder, catalogue=catalogue)
    clauses, vectors = catalogue.clauses_with_vectors("acme-shop", "en", result.version.kb_version)
    expected = embedder.embed([c.passage for c in clauses], kind="passage")
    assert np.allclose(vectors, expected)
