import pytest

from casetrail.events import Citation
from casetrail.grounding.claims import is_factual
from services.verifier.checks.statements import StatementsSupported
from casetrail.grounding.sentences import Sentence

from verifier_fixtures import V, make_event, retrieved, review_of


def run(event, policy):
    return StatementsSupported(policy).run(review_of(event, policy))


def test_quoted_clause_passes(policy):
    outcome = run(make_event(), policy)
    assert outcome.passed, outcome.detail


def test_sixty_days_against_a_thirty_day_clause_fails(policy):
    outcome = run(make_event("You can return any item within 60 days of delivery for a full refund."), policy)
    assert not outcome.passed
    assert "'60 days' is not in refunds.window@" in outcome.detail


@pytest.mark.parametrize("body", [
    "You can return any item within thirty days of delivery for a full refund.",
    "You have 30 days from delivery to return an item.",
])
def test_same_number_in_other_words_passes(policy, body):
    assert run(make_event(body), policy).passed


def test_amount_follows_from_an_upper_bound_but_a_larger_one_does_not(policy):
    ok = make_event("We approve refunds of €45 automatically.", clause_id="refunds.approval")
    assert run(ok, policy).passed
    too_much = make_event("We approve refunds of €120 automatically.", clause_id="refunds.approval")
    outcome = run(too_much, policy)
    assert not outcome.passed and "'€120'" in outcome.detail


def test_amount_formats(policy):
    event = make_event("Express shipping costs €9.95.", clause_id="shipping.costs")
    assert run(event, policy).passed
    wrong = make_event("Express shipping costs €5.95.", clause_id="shipping.costs")
    assert not run(wrong, policy).passed


def test_uncited_factual_sentence_fails_but_courtesy_does_not(policy):
    outcome = run(make_event(extra="We will also give you a 20% discount on your next order."), policy)
    assert not outcome.passed and "uncited claim" in outcome.detail
    assert not run(make_event(extra="You will of course receive a full refund."), policy).passed
    assert run(make_event(extra="We are sorry your refund took so long."), policy).passed


@pytest.mark.parametrize("text,locale,factual", [
    ("Thank you for your message about your refund.", "en", False),
    ("Vielen Dank für Ihre Nachricht.", "de", False),
    ("Sie erhalten eine volle Erstattung.", "de", True),
    ("Vous recevrez un remboursement complet.", "fr", True),
    ("Recibirá un reembolso completo.", "es", True),
    ("Atgausite visus pinigus.", "lt", True),
    ("Dėkojame už jūsų žinutę.", "lt", False),
    ("Can you send us a photo?", "en", False),
    ("Hello [NAME_1],", "en", False),
])
def test_factual_sentences_in_five_languages(text, locale, factual):
    assert is_factual(Sentence(text), locale) is factual


def test_citation_whose_sentence_is_not_in_the_reply_fails(policy):
    citation = Citation(clause_id="refunds.window", kb_version=V, score=0.8, sentence="Returns are free forever.")
    outcome = run(make_event(inline=True, citations=[citation]), policy)
    assert not outcome.passed and "its sentence is not in the reply" in outcome.detail


def test_citations_without_inline_markers_still_count(policy):
    assert run(make_event(inline=False), policy).passed


def test_sentence_citing_an_unretrieved_clause_has_no_support(policy):
    event = make_event(retrieved_clauses=[retrieved("shipping.costs")])
    outcome = run(event, policy)
    assert not outcome.passed and "no retrieved clause behind" in outcome.detail
