"""The drafter reads the promotions file at start-up: a promoted knowledge base that is not published stops it."""

from __future__ import annotations

import pytest

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.selection import FollowNewest, PromotedVersionMissing
from casetrail.promotions import PromotedVersions
from services.drafter.app import served_versions


def test_a_promoted_knowledge_base_missing_from_the_catalogue_refuses_start_up(tmp_path, monkeypatch):
    promotions = tmp_path / "promoted.json"
    monkeypatch.setenv("CASETRAIL_PROMOTIONS_FILE", str(promotions))
    catalogue = Catalogue(tmp_path / "catalogue.sqlite3")
    assert served_versions(catalogue, {"acme-shop": None}).tenants == {"acme-shop": FollowNewest()}
    PromotedVersions(promotions).record("acme-shop", "knowledge_base", version="kb-fix", source="/candidates/kb-fix",
                                        outcome="promoted", error_rate=0.1)
    with pytest.raises(PromotedVersionMissing, match="tenant acme-shop: the promoted knowledge base kb-fix"):
        served_versions(catalogue, {"acme-shop": None})
