"""The whole triage of one conversation with the shipped models (no broker)."""

import datetime as dt

import pytest

from casetrail.events import AuthorRole, Conversation, ConversationReceived, CustomerContext, Message, ProducerInfo
from casetrail.events.conversation import LocaleStatus
from casetrail.events.triage import TriageResult
from casetrail.policy.tenant import load_policy
from casetrail.settings import REPO_ROOT
from services.triage.text_input import MAX_TEXT_CHARS
from services.triage.triager import Triager

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def triager():
    return Triager.default()


@pytest.fixture(scope="module")
def policy():
    return load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml")


def _event(text, *, cid="c1", locale="en", status=LocaleStatus.detected, customer=None, subject=None, minutes=0):
    at = T0 + dt.timedelta(minutes=minutes)
    return ConversationReceived(
        conversation_id=cid, tenant="acme-shop", locale=locale, producer=ProducerInfo(service="t", version="0"),
        conversation=Conversation(
            source="generic", external_id=cid, channel="email", subject=subject, received_at=at, locale_status=status,
            messages=[Message(message_id="m", author_role=AuthorRole.customer, sent_at=at, body_text=text)],
            customer=customer or CustomerContext(customer_id="cust"),
        ),
    )


@pytest.mark.parametrize("text,locale,intent", [
    ("Where is my parcel? Has it been shipped yet?", "en", "order_status"),
    ("Ich möchte die Schuhe zurückgeben, wie bekomme ich ein Rücksendeetikett?", "de", "return_request"),
    ("Je n'arrive plus à me connecter, mot de passe refusé", "fr", "account_access"),
    ("Alguien ha usado mi tarjeta sin permiso en su tienda", "es", "fraud_report"),
    ("Noriu atšaukti savo užsakymą, persigalvojau", "lt", "order_cancellation"),
])
def test_intent_in_every_language(triager, policy, text, locale, intent):
    outcome = triager.triage(_event(text, locale=locale), None, policy)
    result = outcome.result
    assert result.intent == intent and result.category == intent and not result.out_of_scope
    assert result.language == locale and result.flags == []
    assert 0 < result.intent_confidence <= 1 and result.alternatives[0].intent == intent
    assert len(result.embedding) == triager.embedder.dimension
    assert outcome.model_version.startswith("default-intents@")


def test_signals_and_sla_for_an_angry_platinum_customer(triager, policy):
    customer = CustomerContext(customer_id="vip", tier="platinum", lifetime_value=25000.0)
    text = "This is the third time I write and nobody answers! Sort this out immediately, your service is a disgrace!!"
    result = triager.triage(_event(text, customer=customer), None, policy).result
    assert result.intent == "complaint"
    assert result.vip and result.urgency == "urgent" and result.priority == "urgent"
    assert result.sentiment < -0.2 and result.frustration > 0.4 and result.churn_risk > 0.5
    assert result.sla_policy == "platinum/urgent"
    assert result.sla_due_at == T0 + dt.timedelta(minutes=30)  # Monday 11:00 Vilnius, open


def test_out_of_scope_text(triager, policy):
    result = triager.triage(_event("What's the capital of Australia and who won the football yesterday?"), None, policy).result
    assert result.out_of_scope and result.intent == "out_of_scope" and "out_of_scope" in result.flags


@pytest.mark.parametrize("text,flag", [("", "empty_text"), ("   \n\t ", "empty_text"), ("😡😡👎", "no_words")])
def test_empty_and_emoji_only_never_crash(triager, policy, text, flag):
    result = triager.triage(_event(text), None, policy).result
    assert isinstance(result, TriageResult) and flag in result.flags
    assert result.out_of_scope and result.intent_confidence == 0.0 and result.embedding == []
    assert result.sla_due_at is not None
    if flag == "no_words":
        assert result.sentiment < 0


def test_very_long_text_is_truncated_and_flagged(triager, policy):
    text = ("Where is my order? Please send me the tracking number. " * 2000)[:100_000]
    result = triager.triage(_event(text), None, policy).result
    assert result.truncated and "truncated" in result.flags and result.intent == "order_status"
    assert MAX_TEXT_CHARS < len(text)


def test_unknown_language_goes_to_a_human(triager, policy):
    result = triager.triage(_event("Kur yra mano siunta?", locale="und", status=LocaleStatus.unknown), None, policy).result
    assert result.language == "unknown" and "unknown_language" in result.flags
    pl = triager.triage(_event("Gdzie jest moja paczka?", locale="pl"), None, policy).result
    assert pl.language == "unknown" and "unknown_language" in pl.flags


def test_history_counts_contacts_and_finds_duplicates(triager, policy):
    first = triager.triage(_event("My parcel has not arrived yet, where is it?", cid="a"), None, policy)
    second = triager.triage(_event("Where is my parcel? It still has not arrived.", cid="b", minutes=10), first.history, policy)
    assert second.result.contacts_in_window == 2
    assert second.result.duplicate_of == "a" and "duplicate" in second.result.flags
    other = triager.triage(_event("How do I download my invoices?", cid="c", minutes=20), second.history, policy)
    assert other.result.duplicate_of is None and other.result.contacts_in_window == 3
    redelivered = triager.triage(_event("How do I download my invoices?", cid="c", minutes=20), other.history, policy)
    assert redelivered.result.contacts_in_window == 3 and redelivered.result.duplicate_of is None


def test_model_trained_on_another_embedder_is_refused(triager):
    class Other:
        name, dimension = "other-embedder", 384

        def embed(self, texts, kind="query"):
            raise AssertionError("not called")

    with pytest.raises(ValueError, match="retrain"):
        Triager(Other(), triager.intent_model, triager.sentiment_model)


def test_long_text_embedding_reads_a_bounded_head(triager, policy):
    # the whole kept text still feeds the lexical signals; the embedding reads the first tokens only
    text = "Where is my order? Please send me the tracking number. " * 60
    result = triager.triage(_event(text), None, policy).result
    assert "embedding_truncated" in result.flags and not result.truncated
    assert result.intent == "order_status" and len(result.embedding) == 384
    head = triager.triage(_event("Where is my order? Please send me the tracking number."), None, policy).result
    assert "embedding_truncated" not in head.flags


def test_embedding_bound_can_be_switched_off(policy):
    base = Triager.default()
    unbounded = Triager(base.embedder, base.intent_model, base.sentiment_model, max_embed_tokens=0)
    text = "Where is my order? Please send me the tracking number. " * 60
    assert "embedding_truncated" not in unbounded.triage(_event(text), None, policy).result.flags


def test_a_history_key_names_its_customer_for_erasure_even_with_colons_in_the_id():
    from casetrail.privacy.customer_key import customer_key
    from services.triage.triager import customer_history_key, history_customer

    event = _event("Where is my parcel?", customer=CustomerContext(customer_id="zendesk:user:42"))
    assert history_customer(customer_history_key(event), {"entries": []}) == customer_key(
        "acme-shop", "zendesk:user:42")
