from casetrail.events import Citation
from services.verifier.checks.citations import CitationsResolve

from verifier_fixtures import V, FakeResolver, make_event, retrieved, review_of, with_policy


def run(event, policy, resolver):
    return CitationsResolve(policy, resolver=resolver).run(review_of(event, policy))


def test_cited_clause_that_was_retrieved_and_exists_passes(policy, resolver):
    outcome = run(make_event(), policy, resolver)
    assert outcome.passed, outcome.detail
    assert resolver.calls == [("acme-shop", "en", "refunds.window", V)]


def test_fabricated_clause_id_fails(policy, resolver):
    citation = Citation(clause_id="refunds.lifetime", kb_version=V, score=0.8, sentence="x")
    outcome = run(make_event(clause_id="refunds.window", citations=[citation]), policy, resolver)
    assert not outcome.passed
    assert "refunds.lifetime" in outcome.detail and "not among the clauses retrieved" in outcome.detail
    assert "does not exist" in outcome.detail


def test_clause_from_another_version_fails(policy, resolver):
    citation = Citation(clause_id="refunds.window", kb_version="0+old", score=0.8, sentence="x")
    outcome = run(make_event(citations=[citation]), policy, resolver)
    assert not outcome.passed
    assert f"retrieved at version {V}, not 0+old" in outcome.detail


def test_clause_from_another_locale_fails(policy):
    resolver = FakeResolver({("acme-shop", "de", "refunds.window", V): object()})
    event = make_event(retrieved_clauses=[retrieved("refunds.window", locale="de")])
    outcome = run(event, policy, resolver)
    assert not outcome.passed
    assert "locale 'de'" in outcome.detail


def test_fallback_locale_is_accepted_only_when_the_tenant_allows_it(policy):
    resolver = FakeResolver({("acme-shop", "en", "refunds.window", V): object()})
    event = make_event(locale="lt", retrieved_clauses=[retrieved("refunds.window", locale="en")])
    event = event.model_copy(update={"draft": event.draft.model_copy(update={"locale_fallback": True, "kb_locale": "en"})})
    assert run(event, policy, resolver).passed  # sample tenant: kb_locale_fallback [en]
    strict = with_policy(policy, kb_locale_fallback=[])
    assert not run(event, strict, resolver).passed


def test_clause_missing_from_the_knowledge_base_fails_even_if_retrieved(policy):
    outcome = run(make_event(), policy, FakeResolver({}))
    assert not outcome.passed and "does not exist in the en knowledge base" in outcome.detail


def test_tampered_clause_text_fails(policy, resolver):
    event = make_event(retrieved_clauses=[retrieved("refunds.window", text="You can return any item within 90 days.")])
    outcome = run(event, policy, resolver)
    assert not outcome.passed and "differs from the published clause" in outcome.detail


def test_no_citation_at_all_fails(policy, resolver):
    outcome = run(make_event(cite=False), policy, resolver)
    assert not outcome.passed and outcome.detail == "the draft cites no clause"


def test_inline_marker_without_citation_fails(policy, resolver):
    event = make_event(extra="Shipping is free. [shipping.free@9+zzz]")
    outcome = run(event, policy, resolver)
    assert not outcome.passed and "shipping.free@9+zzz: cited inline" in outcome.detail
