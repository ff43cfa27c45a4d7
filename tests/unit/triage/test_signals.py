"""Rule-based signals: urgency/priority, spam/abuse, VIP, churn risk, bad input."""

import pytest

from casetrail.events.conversation import CustomerContext
from casetrail.policy.tenant import SlaPolicy, TenantPolicy, VipPolicy
from services.triage.churn import churn_risk
from services.triage.spam_abuse import detect_spam_abuse
from services.triage.text_input import MAX_TEXT_CHARS, prepare_text
from services.triage.urgency import assess_urgency
from services.triage.vip import is_vip


@pytest.mark.parametrize("text", [
    "This is urgent, our shop is down!", "Bitte dringend antworten", "C'est urgent, répondez immédiatement",
    "Necesito ayuda urgente", "Prašau skubiai atsakyti", "Atsakykite nedelsiant",
])
def test_urgent_words_in_every_language(text):
    assert assess_urgency(text, "place_order").urgency == "urgent"


def test_no_rush_is_low_and_plain_text_is_normal():
    assert assess_urgency("No rush, just curious how exports work", "place_order").urgency == "low"
    assert assess_urgency("Kaip pakeisti slaptažodį?", "account_access").urgency == "normal"


def test_category_source_vip_and_frustration_raise_priority_with_reasons():
    fraud = assess_urgency("someone used my card", "fraud_report")
    assert fraud.urgency == "urgent" and "category:fraud_report" in fraud.reasons
    vip = assess_urgency("How do I export?", "place_order", vip=True, vip_priority="high")
    assert (vip.urgency, vip.priority, vip.reasons) == ("normal", "high", ["vip"])
    assert assess_urgency("hi", "place_order", source_priority="P1").priority == "urgent"
    assert assess_urgency("hi", "place_order", frustration=0.9).priority == "high"
    assert assess_urgency("hi", "place_order", source_priority="whatever").priority == "normal"


@pytest.mark.parametrize("text", [
    "You have won a prize! Click here http://bit.ly/xyz to claim your prize",
    "Best SEO services and backlinks http://a.example http://b.example http://c.example",
    "Sie haben gewonnen! Jetzt klicken: https://tinyurl.com/abc",
    "Laimėjote prizą! Spauskite čia https://bit.ly/laimek",
])
def test_spam(text):
    result = detect_spam_abuse(text)
    assert result.spam and result.spam_score >= 0.6 and result.reasons


@pytest.mark.parametrize("text", ["You are a bunch of idiots", "Ihr seid Arschlöcher, Arschloch!", "Vous êtes des connards",
                                  "Sois unos gilipollas", "Jūs esate kvailys ir durnius"])
def test_abuse_in_every_language(text):
    assert detect_spam_abuse(text).abuse


def test_ordinary_ticket_with_a_link_is_neither():
    result = detect_spam_abuse("My order [ORDER_1] is late, see https://shop.example/orders/1 — can you check?")
    assert not result.spam and not result.abuse
    # "Scunthorpe": an insult stem inside another word does not count
    assert not detect_spam_abuse("My shitake mushrooms order from Scunthorpe is missing").abuse


def _policy(criteria):
    return TenantPolicy(tenant="t", policy_version="1", categories={},
                        sla=SlaPolicy(targets={"default": {"normal": "1h"}}), vip=VipPolicy(criteria=criteria))


def test_vip_from_cel_criteria():
    policy = _policy(["customer.lifetime_value > 10000.0", "customer.tier == 'platinum'", "customer.segment == 'press'"])
    assert is_vip(policy, CustomerContext(customer_id="a", lifetime_value=12000.0))[0]
    assert is_vip(policy, CustomerContext(customer_id="a", tier="platinum"))[0]
    assert is_vip(policy, CustomerContext(customer_id="a", attributes={"segment": "press"}))[0]
    vip, matched = is_vip(policy, CustomerContext(customer_id="a", tier="gold", lifetime_value=500.0))
    assert not vip and matched == []
    assert not is_vip(_policy([]), CustomerContext(customer_id="a", tier="platinum"))[0]


def test_churn_risk_grows_with_signals():
    calm = churn_risk(intent="place_order", sentiment=0.3, frustration=0.0, sentiment_trend=0.0, contacts_in_window=1,
                      lifetime_value=100.0)
    leaving = churn_risk(intent="complaint", sentiment=-0.9, frustration=0.8, sentiment_trend=-0.6,
                         contacts_in_window=5, lifetime_value=50000.0)
    assert calm.score < 0.2 < 0.8 < leaving.score <= 1.0
    assert {"cancellation_or_complaint_intent", "negative_sentiment", "worsening_sentiment", "repeated_contacts",
            "high_account_value"} <= set(leaving.reasons)


def test_bad_input_is_flagged_not_raised():
    assert prepare_text("").flags == ["empty_text"] and not prepare_text("   \n").classifiable
    emoji = prepare_text("😡😡👎")
    assert emoji.flags == ["no_words"] and emoji.text == "😡😡👎"
    long = prepare_text("word " * 20000)
    assert long.truncated and "truncated" in long.flags and len(long.text) <= MAX_TEXT_CHARS
    assert long.original_chars == 100000 and long.classifiable
    assert prepare_text("a\x00b\x07c").text == "a b c"


# -- the embedding's token bound -------------------------------------------------------------
from services.triage.text_input import head_within_tokens  # noqa: E402


def _words(text):  # a stand-in tokenizer: one token per word, plus 2 specials
    return len(text.split()) + 2


def test_head_within_tokens_keeps_short_text_whole():
    assert head_within_tokens("where is my parcel", _words, 10) == ("where is my parcel", False)


def test_head_within_tokens_cuts_at_the_last_word_that_fits():
    text = " ".join(f"w{i}" for i in range(100))
    head, cut = head_within_tokens(text, _words, 12)
    assert cut and head == " ".join(f"w{i}" for i in range(10)) and _words(head) == 12


def test_head_within_tokens_without_spaces_cuts_by_characters():
    head, cut = head_within_tokens("a" * 1000, lambda t: len(t), 100)
    assert cut and 0 < len(head) <= 100


def test_head_within_tokens_zero_means_no_bound():
    assert head_within_tokens("a b c", _words, 0) == ("a b c", False)
