from __future__ import annotations

import pytest
from drafter_testing import REPO, SAMPLE_KB, HashingEmbedder

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase
from casetrail.policy.tenant import load_policy


@pytest.fixture
def embedder():
    return HashingEmbedder()


@pytest.fixture
def policy():
    return load_policy(REPO / "config" / "tenants" / "acme-shop.yaml")


@pytest.fixture
def knowledge(tmp_path, embedder):
    catalogue = Catalogue(tmp_path / "catalogue.sqlite3")
    publish(SAMPLE_KB, embedder=embedder, catalogue=catalogue, human_version="1")
    kb = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    yield kb
    kb.close()
    catalogue.close()
