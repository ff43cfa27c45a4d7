"""Which published knowledge-base version is served: the promoted one, never a refused or unpromoted newer one."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from kb_testing import SAMPLE_KB

from casetrail.knowledge.catalogue import Catalogue, PublishedVersion
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.selection import (
    FollowNewest, PinnedToPromotion, PromotedVersionMissing, VersionSelection, choose_version, tenant_selection,
)
from casetrail.knowledge.store import KnowledgeBase
from casetrail.promotions import PromotedVersions

T = "acme-shop"


def version(seq: int, name: str, locale: str = "en") -> PublishedVersion:
    return PublishedVersion(seq, T, locale, f"{name}+{seq:012x}", name, f"{seq:012x}", "e", 4,
                            dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))


def verdicts(tmp_path, *outcomes: tuple[str, str]) -> dict:
    """The promotions file after the gate's ``(version, outcome)`` verdicts on knowledge bases, read back."""
    registry = PromotedVersions(tmp_path / "promoted.json")
    for name, outcome in outcomes:
        registry.record(T, "knowledge_base", version=name, source=f"/candidates/{name}", outcome=outcome,
                        error_rate=0.1)
    return registry.read()


# -- the pure choice ----------------------------------------------------------------------------

def test_no_promotion_serves_the_newest_as_today(tmp_path):
    versions = [version(1, "1"), version(2, "2")]
    assert tenant_selection({}, T, versions) == FollowNewest()
    assert choose_version(FollowNewest(), versions) == versions[1]
    assert choose_version(FollowNewest(), []) is None


def test_a_refused_candidate_is_never_served(tmp_path):
    versions = [version(1, "1"), version(2, "kb-bad")]
    refused_only = tenant_selection(verdicts(tmp_path / "a", ("kb-bad", "refused")), T, versions)
    assert refused_only == FollowNewest(frozenset({"kb-bad"}))
    assert choose_version(refused_only, versions) == versions[0]
    promoted_then_refused = tenant_selection(
        verdicts(tmp_path / "b", ("1", "promoted"), ("kb-bad", "refused")), T, versions)
    assert choose_version(promoted_then_refused, versions) == versions[0]
    # refused once, promoted after a second look: served
    refused_then_promoted = tenant_selection(
        verdicts(tmp_path / "c", ("kb-bad", "refused"), ("kb-bad", "promoted")), T, versions)
    assert choose_version(refused_then_promoted, versions) == versions[1]


def test_the_promoted_version_is_served_not_a_newer_unpromoted_one(tmp_path):
    versions = [version(1, "1"), version(2, "kb-fix"), version(3, "kb-next")]
    selection = tenant_selection(verdicts(tmp_path, ("kb-fix", "promoted")), T, versions)
    assert selection == PinnedToPromotion("kb-fix", 2)
    assert choose_version(selection, versions) == versions[1]


def test_a_locale_the_promoted_publication_left_unchanged_serves_the_content_it_carried(tmp_path):
    # `kb publish --version kb-fix` wrote a new en version; fr was unchanged (same content as fr "1")
    en = [version(1, "1", "en"), version(3, "kb-fix", "en"), version(5, "kb-next", "en")]
    fr = [version(2, "1", "fr"), version(6, "kb-next", "fr")]
    selection = tenant_selection(verdicts(tmp_path, ("kb-fix", "promoted")), T, en + fr)
    assert choose_version(selection, en) == en[1]
    assert choose_version(selection, fr) == fr[0]
    assert choose_version(selection, []) is None  # a locale published only later: none (the fallback applies)


def test_a_promoted_name_missing_from_the_catalogue_refuses(tmp_path):
    with pytest.raises(PromotedVersionMissing, match="tenant acme-shop: the promoted knowledge base kb-fix is not "
                                                     "in the catalogue.*--version kb-fix"):
        tenant_selection(verdicts(tmp_path, ("kb-fix", "promoted")), T, [version(1, "1")])


# -- through the catalogue and the knowledge base --------------------------------------------------

@pytest.fixture
def catalogue_with_three_publications(tmp_path, embedder):
    """``1`` (en, fr), ``kb-fix`` (en changed, fr unchanged), ``kb-next`` (en changed again)."""
    source = tmp_path / T
    for locale in ("en", "fr"):
        shutil.copytree(SAMPLE_KB / locale, source / locale)
    catalogue = Catalogue(tmp_path / "catalogue.sqlite3")
    publish(source, embedder=embedder, catalogue=catalogue, human_version="1")
    refunds = source / "en" / "refunds.md"
    for name, days in (("kb-fix", "45"), ("kb-next", "60")):
        refunds.write_text(refunds.read_text().replace("30 days of delivery", f"{days} days of delivery")
                           .replace("45 days of delivery", f"{days} days of delivery"))
        results = publish(source, embedder=embedder, catalogue=catalogue, human_version=name)
        assert {r.locale: r.unchanged for r in results} == {"en": False, "fr": True}
    return catalogue, source


def test_the_knowledge_base_searches_the_promoted_version(tmp_path, embedder, catalogue_with_three_publications):
    catalogue, _ = catalogue_with_three_publications
    promotions = verdicts(tmp_path, ("kb-fix", "promoted"), ("kb-next", "refused"))
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                              selection=VersionSelection.from_promotions(promotions, catalogue, [T]))
    question = "how long do I have to return something"
    served, hits = knowledge.search(T, "en", embedder.embed([question])[0], query_text=question, limit=1)
    assert served.human_version == "kb-fix" and hits[0].clause.kb_version == served.kb_version
    assert "45 days of delivery" in hits[0].clause.text
    assert knowledge.active_version(T, "fr").human_version == "1"
    knowledge.close()


def test_the_pin_does_not_move_while_the_process_runs(tmp_path, embedder, catalogue_with_three_publications):
    catalogue, source = catalogue_with_three_publications
    selection = VersionSelection.from_promotions(verdicts(tmp_path, ("kb-fix", "promoted")), catalogue, [T])
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                              selection=selection)
    before = knowledge.active_version(T, "en")
    refunds = source / "en" / "refunds.md"
    refunds.write_text(refunds.read_text().replace("60 days of delivery", "90 days of delivery"))
    publish(source, embedder=embedder, catalogue=catalogue, human_version="kb-fix")  # the same name, republished
    knowledge.invalidate()
    assert knowledge.active_version(T, "en") == before
    knowledge.close()


def test_without_promotions_the_knowledge_base_follows_the_newest(embedder, catalogue_with_three_publications):
    catalogue, _ = catalogue_with_three_publications
    selection = VersionSelection.from_promotions({}, catalogue, [T])
    assert selection.tenants == {T: FollowNewest()}
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                              selection=selection)
    assert knowledge.active_version(T, "en") == catalogue.latest(T, "en")
    assert knowledge.active_version(T, "en").human_version == "kb-next"
    knowledge.close()
