"""A reply that grants money back, credit or an exception cites a clause stating that kind of grant:
a citation alone is not enough (issue 17, injection)."""

import pytest

from casetrail.events import Citation
from casetrail.grounding.grants import grant_kinds
from services.verifier.checks import NEEDS_HUMAN
from services.verifier.checks.grants import GrantsSupported

from verifier_fixtures import V, make_event, retrieved, review_of


def run(event, policy):
    return GrantsSupported(policy).run(review_of(event, policy))


def test_a_clause_sentence_quoted_as_it_is_passes(policy):
    outcome = run(make_event(), policy)  # "... for a full refund." citing refunds.window
    assert outcome.passed, outcome.detail
    assert "1 sentence(s) granting" in outcome.detail


def test_an_exception_the_cited_clause_does_not_grant_goes_to_a_person(policy):
    body = "As an exception, we will refund your order in full even after 30 days."
    outcome = run(make_event(body), policy)
    assert not outcome.passed
    assert GrantsSupported.severity == NEEDS_HUMAN
    assert "'exception' promised in" in outcome.detail and "refunds.window@" in outcome.detail
    assert "'refund'" not in outcome.detail  # the refund itself is what the clause states


def test_a_voucher_cited_to_the_shipping_clause_goes_to_a_person(policy):
    body = "We will send you a voucher for 9.95 EUR to cover express shipping."
    outcome = run(make_event(body, clause_id="shipping.costs"), policy)
    assert not outcome.passed and "'credit' promised" in outcome.detail


def test_a_grant_stated_by_one_of_two_cited_clauses_passes(policy):
    body = "We will refund you once the return is scanned, and we send a voucher as a goodwill gesture."
    voucher = retrieved("shipping.costs", text="As a goodwill gesture we send a voucher when a parcel is late.")
    citations = [Citation(clause_id="refunds.approval", kb_version=V, score=0.8, sentence=body),
                 Citation(clause_id="shipping.costs", kb_version=V, score=0.8, sentence=body)]
    event = make_event(body, inline=False, citations=citations,
                       retrieved_clauses=[retrieved("refunds.approval"), voucher])
    outcome = run(event, policy)
    assert outcome.passed, outcome.detail


def test_an_uncited_grant_is_left_to_the_statements_check(policy):
    outcome = run(make_event(extra="As an exception you will get a full refund."), policy)
    assert outcome.passed  # statements_supported fails it as an uncited claim (tested there)


@pytest.mark.parametrize("text, kinds", [
    ("As an exception we will refund you in full.", {"exception", "refund"}),
    ("Wir erstatten Ihnen den Betrag ausnahmsweise.", {"exception", "refund"}),
    ("Vous recevrez un avoir de 20 EUR.", {"credit"}),
    ("Vous pouvez avoir votre facture en PDF.", set()),
    ("Vale, te enviamos un vale de compra.", {"credit"}),
    ("Te devolvemos el importe por excepción.", {"exception", "refund"}),
    ("Pinigus grąžinsime per 5 darbo dienas.", {"refund"}),
    ("Išimties tvarka suteiksime kompensaciją.", {"exception", "credit"}),
    ("We accept credit cards and PayPal.", set()),
    ("Your parcel leaves the warehouse within one business day.", set()),
    # refused grants are neither promised nor stated
    ("We cannot make exceptions to the 30-day window.", set()),
    ("No exceptions are made for sale items.", set()),
    ("Refunds are not possible for opened software.", set()),
    ("Sale items are not refunded, but we send you a voucher.", {"credit"}),
    ("If the parcel does not arrive, we refund you in full.", {"refund"}),
    ("We refund you without delay.", {"refund"}),
    ("There is no refund without a receipt.", set()),
    ("Wir erstatten die Versandkosten nicht.", set()),
    ("Gutscheine werden nicht erstattet.", set()),  # the voucher is refused too
    ("Nous ne remboursons pas les articles soldés.", set()),
    ("Remboursement sans frais sous 14 jours.", {"refund"}),
    ("No hacemos excepciones con los artículos rebajados.", set()),
    ("Sin excepciones.", set()),
    ("Išimtys netaikomos.", set()),
    ("Be jokių išimčių.", set()),
])
def test_grant_kinds_in_five_languages(text, kinds):
    assert set(grant_kinds(text)) == kinds


def test_a_clause_refusing_exceptions_does_not_support_a_reply_promising_one(policy):
    body = "As an exception, we will accept your return after 30 days."
    refusing = retrieved("refunds.window", text="Returns are accepted within 30 days. We cannot make exceptions.")
    event = make_event(body, retrieved_clauses=[refusing])
    outcome = run(event, policy)
    assert not outcome.passed and "'exception' promised" in outcome.detail


def test_a_reply_refusing_a_refund_promises_nothing_to_support(policy):
    body = "We cannot refund sale items."
    outcome = run(make_event(body, clause_id="shipping.costs"), policy)
    assert outcome.passed and outcome.detail == "no refund, credit or exception granted"
