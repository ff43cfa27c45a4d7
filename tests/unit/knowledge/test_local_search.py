"""Embedded mode ranks in-process; it must agree with Qdrant's own grouped search and survive a restart."""

from __future__ import annotations

import pytest
from kb_testing import SAMPLE_KB

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.index import RetrievalIndex, collection_name
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase

QUESTIONS = ["where is my parcel", "can I pay with paypal", "my card was charged twice", "delete my account please",
             "the vase arrived broken", "how long until my refund arrives"]


@pytest.fixture
def published(tmp_path, embedder):
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    [result] = publish(SAMPLE_KB, embedder=embedder, catalogue=catalogue, locales=["en"])
    return catalogue, result.version.kb_version


@pytest.mark.parametrize("questions", [True, False])
def test_in_process_ranking_equals_qdrant_grouped_search(published, embedder, questions):
    catalogue, kb_version = published
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=60)
    knowledge.active_version("acme-shop", "en")  # index it
    index = knowledge.index
    for question in QUESTIONS:
        vector = embedder.embed([question])[0]
        local = index.search("acme-shop", "en", kb_version, vector, limit=10, questions=questions)
        index.mode = "server"  # the same embedded client, searched the way a server is
        served = index.search("acme-shop", "en", kb_version, vector, limit=10, questions=questions)
        index.mode = "memory"
        assert [h.clause.clause_id for h in local] == [h.clause.clause_id for h in served], question
        assert [h.score for h in local] == pytest.approx([h.score for h in served], abs=1e-5)
        assert [h.question for h in local] == [h.question for h in served]
        assert len({h.clause.clause_id for h in local}) == len(local)  # one hit per clause
        assert questions or all(h.question is None for h in local)
    knowledge.close()


def test_a_restarted_process_searches_the_points_its_folder_kept(tmp_path, published, embedder):
    catalogue, kb_version = published
    first = KnowledgeBase(catalogue, RetrievalIndex.local(tmp_path / "qdrant"), embedder, refresh_seconds=60)
    vector = embedder.embed(["how do I reset my password"])[0]
    _, before = first.search("acme-shop", "en", vector, limit=3)
    first.close()
    again = KnowledgeBase(catalogue, RetrievalIndex.local(tmp_path / "qdrant"), embedder, refresh_seconds=60)
    _, after = again.search("acme-shop", "en", vector, limit=3)
    assert again.reindex_count == 0  # nothing re-upserted: the points came back from the folder
    assert [(h.clause.clause_id, h.question) for h in after] == [(h.clause.clause_id, h.question) for h in before]
    assert after[0].clause.questions and after[0].clause.kb_version == kb_version
    again.close()


def test_warming_builds_what_the_first_search_would_have(published, embedder):
    # The drafter warms its knowledge base before it says ready; the first ticket of each locale used
    # to build the embedded index's in-memory points itself (70-300 ms).
    catalogue, kb_version = published
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=60)
    assert knowledge.warm([("acme-shop", "en"), ("acme-shop", "xx")]) == 1  # no version in "xx": nothing to warm
    assert list(knowledge.index._local_points) == [(collection_name("acme-shop", "en"), kb_version)]
    knowledge.close()
