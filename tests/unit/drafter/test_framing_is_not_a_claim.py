"""What the drafter says around its cited clauses is framing by the verifier's own definition.

Framing carries no quantity and no policy term (casetrail.grounding.claims); an order
number the customer wrote may be repeated back as a customer-provided fact. If a
template line ever makes a claim, the verifier would refuse every draft using it.
"""

from __future__ import annotations

import pytest

from casetrail.grounding.claims import customer_fact, is_factual
from casetrail.grounding.sentences import split_sentences
from services.drafter import messages

LOCALES = ["en", "de", "fr", "es", "lt"]


def _framing_lines(locale: str) -> list[str]:
    openers = messages.OPENERS[locale]
    lines = [messages.GREETING[locale], messages.CLOSING[locale], messages.ALTERNATIVES_INTRO[locale],
             messages.HOLDING[locale], messages.DISCLOSURE[locale]]
    lines += [template.format(about="") for template in openers.values()]
    return lines


@pytest.mark.parametrize("locale", LOCALES)
def test_no_framing_line_is_a_claim(locale):
    claims = [sentence.plain for line in _framing_lines(locale) for sentence in split_sentences(line)
              if is_factual(sentence, locale)]
    assert claims == []


@pytest.mark.parametrize("locale", LOCALES)
def test_an_opener_repeating_the_customers_order_number_is_a_customer_fact(locale):
    about = messages.ABOUT_ORDER[locale].format(order="48213")
    customer_wrote = "order 48213 ???"
    with_order = {intent: t for intent, t in messages.OPENERS[locale].items() if "{about}" in t}
    assert with_order
    for intent, template in with_order.items():
        (sentence,) = split_sentences(template.format(about=about))
        assert customer_fact(sentence, locale, customer_wrote) is True, (intent, sentence.plain)
        # the same sentence with a number the customer never wrote is not supported
        assert customer_fact(sentence, locale, "order 99999") is False, (intent, sentence.plain)


def test_a_policy_statement_with_the_customers_number_is_not_a_customer_fact():
    (sentence,) = split_sentences("We will refund 48 EUR for order 48213.")
    assert customer_fact(sentence, "en", "I paid 48 EUR for order 48213") is False


def test_a_reference_the_customer_wrote_with_a_hash_is_their_fact():
    (sentence,) = split_sentences("Thank you for your message (order 55120).")
    assert customer_fact(sentence, "en", "Re: Your request #55120") is True
    assert customer_fact(sentence, "en", "Re: Your request #551201") is False
