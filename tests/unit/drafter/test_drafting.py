"""The drafter's decision, offline: grounded drafts, citations that resolve, every non-draft outcome."""

from __future__ import annotations

import re
import shutil

import pytest
from drafter_testing import SAMPLE_KB, HashingEmbedder, triaged

from casetrail.events import DraftOutcome
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clause_classifier import WEIGHT
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase
from services.drafter import messages
from services.drafter.drafting import Drafter, DrafterConfig
from services.drafter.entities import order_reference

LOW = DrafterConfig(min_score=0.2)  # thresholds for the hashing test embedder


def assert_citation_trail(proposed, catalogue):
    draft = proposed.draft
    assert draft.outcome == DraftOutcome.drafted
    assert draft.citations, "a drafted reply carries at least one citation"
    for citation in draft.citations:
        clause = catalogue.resolve(proposed.tenant, draft.kb_locale, citation.clause_id, citation.kb_version)
        assert clause is not None, citation.ref
        assert citation.sentence in clause.plain_text  # the cited clause really says it
        assert re.search(re.escape(citation.sentence) + r" \[\d+\]", draft.reply_text)  # marker follows the sentence
    assert proposed.versions.knowledge_base == draft.citations[0].kb_version


def test_refund_question_is_drafted_with_citations_alternatives_and_disclosure(knowledge, policy):
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    event = triaged("Can I return an item within 30 days of delivery for a full refund? Order #A-10234", intent="refund_policy")
    proposed = drafter.draft(event)
    draft = proposed.draft
    assert_citation_trail(proposed, knowledge.catalogue)
    assert draft.citations[0].clause_id == "refunds.window"
    assert set(draft.alternatives_offered) >= {"credit", "exchange"}
    assert messages.ALTERNATIVES_INTRO["en"] in draft.reply_text
    assert draft.disclosure == messages.DISCLOSURE["en"] and draft.disclosure in draft.reply_text
    assert "A-10234" in draft.reply_text
    assert (proposed.causation_id, proposed.conversation_id) == (event.event_id, event.conversation_id)
    assert proposed.versions.policy == policy.fingerprint and proposed.versions.prompt == messages.TEMPLATE_VERSION
    assert 0 < draft.confidence <= 1 and not draft.locale_fallback and draft.kb_locale == "en"
    assert drafter.draft(event).draft.draft_id == draft.draft_id  # redelivery: same draft id


def test_the_draft_records_the_classifier_probability_that_ordered_its_retrieved_clauses(knowledge, policy):
    # an auditor reading the event must be able to see why a lower-scored clause is listed (and cited) first
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    draft = drafter.draft(triaged("has my order shipped yet? order 100234567", intent="order_status")).draft
    ranked = draft.retrieved[: LOW.retrieved_limit]
    assert all(0.0 <= c.classifier_probability <= 1.0 for c in ranked)
    assert sum(c.classifier_probability for c in ranked) > 0.5  # the classifier's mass sits on what retrieval found
    keys = [c.score + WEIGHT * c.classifier_probability for c in ranked]
    assert all(first >= second - 1e-3 for first, second in zip(keys, keys[1:]))  # both are rounded to 4 places


def test_an_alternative_whose_not_when_cue_the_request_matches_is_not_offered(knowledge, policy):
    # refunds.partial_credit (keep a faulty item for part of its price) says it is not for an item that
    # does not fit; store credit and an exchange still are alternatives for that customer
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    proposed = drafter.draft(triaged("it doesn't fit, I want to send it back", intent="return_request"))
    draft = proposed.draft
    assert draft.outcome == DraftOutcome.drafted
    assert draft.citations[0].clause_id.startswith(("returns.", "refunds."))
    assert set(draft.alternatives_offered) == {"credit", "exchange"}
    assert "refunds.partial_credit" not in {c.clause_id for c in draft.citations}


def test_a_customer_waiting_for_a_refund_is_not_offered_alternatives_to_it(knowledge, policy):
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    proposed = drafter.draft(triaged("I returned the jacket two weeks ago, when do I get my money back?",
                                     intent="refund_status"))
    assert proposed.draft.outcome == DraftOutcome.drafted
    assert proposed.draft.alternatives_offered == []
    assert messages.ALTERNATIVES_INTRO["en"] not in proposed.draft.reply_text


@pytest.mark.parametrize("locale,text", [
    ("de", "Ich habe mein Passwort vergessen, wie setze ich es zurück?"),
    ("fr", "J'ai oublié mon mot de passe, comment le réinitialiser ?"),
    ("es", "He olvidado mi contraseña, ¿cómo la restablezco?"),
    ("lt", "Pamiršau slaptažodį, kaip jį atkurti?"),
])
def test_every_locale_is_answered_in_its_own_language(knowledge, policy, locale, text):
    proposed = Drafter(knowledge, {"acme-shop": policy}, config=LOW).draft(triaged(text, locale=locale, intent="account_access"))
    assert_citation_trail(proposed, knowledge.catalogue)
    assert proposed.draft.citations[0].clause_id == "account.password_reset"
    assert proposed.draft.reply_text.startswith(messages.GREETING[locale])
    assert messages.DISCLOSURE[locale] in proposed.draft.reply_text


def test_nothing_above_the_threshold_is_no_grounding_with_a_holding_reply(knowledge, policy):
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=DrafterConfig(min_score=0.99))
    proposed = drafter.draft(triaged("zzz qqq xxyy", intent="place_order"))
    draft = proposed.draft
    assert draft.outcome == DraftOutcome.no_grounding and draft.citations == []
    assert draft.reply_text.strip() and messages.DISCLOSURE["en"] in draft.reply_text
    assert draft.retrieved and "0.99" in draft.reason  # what was found is kept for the audit trail


def test_locale_fallback_only_when_the_tenant_allows_it(tmp_path, policy):
    embedder = HashingEmbedder()
    kb_dir = tmp_path / "acme-shop"
    shutil.copytree(SAMPLE_KB / "en", kb_dir / "en")
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(kb_dir, embedder=embedder, catalogue=catalogue)
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    event = triaged("password reset link expired", locale="lt", intent="account_access")

    allowed = Drafter(knowledge, {"acme-shop": policy}, config=LOW).draft(event)  # acme-shop: kb_locale_fallback [en]
    assert allowed.draft.outcome == DraftOutcome.drafted
    assert allowed.draft.locale_fallback and allowed.draft.kb_locale == "en" and allowed.draft.locale == "lt"
    assert "kb_locale_fallback" in allowed.draft.flags
    assert messages.DISCLOSURE["lt"] in allowed.draft.reply_text  # disclosure in the customer's language
    assert_citation_trail(allowed, catalogue)

    strict = policy.model_copy(update={"kb_locale_fallback": []})
    refused = Drafter(knowledge, {"acme-shop": strict}, config=LOW).draft(event)
    assert refused.draft.outcome == DraftOutcome.no_knowledge_base
    assert refused.draft.reply_text.startswith(messages.HOLDING["lt"]) and "acme-shop/lt" in refused.draft.reason
    knowledge.close()


@pytest.mark.parametrize("fields,reason", [({"spam": True}, "spam"), ({"out_of_scope": True}, "out_of_scope")])
def test_spam_and_out_of_scope_are_not_drafted(knowledge, policy, fields, reason):
    proposed = Drafter(knowledge, {"acme-shop": policy}, config=LOW).draft(
        triaged("buy cheap watches", embedding=[0.5] * 8, embedding_model="any", **fields))
    assert proposed.draft.outcome == DraftOutcome.not_drafted and proposed.draft.reason == reason
    assert proposed.draft.reply_text
    assert proposed.triage.embedding == []  # not drafted is still a drafter output: no vector past it


def test_triage_embedding_is_reused_when_the_model_matches(knowledge, policy):
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    text = "my card keeps getting declined at checkout, payment failed"
    vector = knowledge.embedder.embed([text])[0]
    knowledge.embedder.calls.clear()
    event = triaged(text, intent="payment_issue", embedding=[float(x) for x in vector],
                    embedding_model=knowledge.embedder.name)
    proposed = drafter.draft(event)
    assert "query_embedding_reused" in proposed.draft.flags
    assert all(kind != "query" for _, kind in knowledge.embedder.calls)
    # thin events: the vector stops at the drafter (verifier, router and audit never read it); its model id stays
    assert proposed.triage.embedding == [] and proposed.triage.embedding_model == knowledge.embedder.name
    assert event.triage.embedding  # the input keeps it: the drafter clears a copy
    other = triaged(text, intent="payment_issue", embedding=[float(x) for x in vector], embedding_model="another-model")
    assert "query_embedding_reused" not in drafter.draft(other).draft.flags


@pytest.mark.parametrize("text,expected", [
    ("where is order #A-10234?", "A-10234"), ("Bestellung Nr. 5581203 fehlt", "5581203"),
    ("mi pedido 998877 no llega", "998877"), ("about [ORDER_1], thanks", "[ORDER_1]"), ("no number here", None),
])
def test_order_reference(text, expected):
    assert order_reference(text) == expected
