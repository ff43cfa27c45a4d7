"""The projection store: events in (as Avro bytes), cases and sealed evaluation examples out."""

import json

import pytest

from casetrail.codec import AvroCodec
from casetrail.events import FeedbackAction, PersonalDataErased, ProducerInfo
from casetrail.privacy.keystore import KeyStore

from services.review.projection import Projector
from services.review.store import ReviewStore
from tests.unit.review.factories import decision, feedback, reply, verified


@pytest.fixture
def codec():
    return AvroCodec()


@pytest.fixture
def keystore(tmp_path):
    return KeyStore(tmp_path / "keys.sqlite")


@pytest.fixture
def projector(tmp_path, codec, keystore):
    return Projector(ReviewStore(tmp_path / "review.sqlite3"), codec, keystore)


def encode(codec, *events):
    return [codec.encode(event) for event in events]


def test_cases_are_isolated_by_tenant(projector, codec):
    projector.apply(encode(codec, verified(), decision(),
                           verified("conv-2", tenant="other-shop"), decision("conv-2", tenant="other-shop")))
    store = projector.store
    cases, total = store.queue("acme-shop")
    assert [c.conversation_id for c in cases] == ["conv-1"] and total == 1
    assert store.case("other-shop", "conv-1") is None
    assert store.case("acme-shop", "conv-1").conversation_id == "conv-1"


def test_queue_is_ordered_by_sla_due_time(projector, codec):
    from tests.unit.review.factories import at

    projector.apply(encode(codec, verified("late"), decision("late", due=at(500)),
                           verified("soon"), decision("soon", due=at(30))))
    cases, _ = projector.store.queue("acme-shop")
    assert [c.conversation_id for c in cases] == ["soon", "late"]


def test_redelivery_and_rebuild_give_the_same_case(tmp_path, projector, codec, keystore):
    values = encode(codec, verified(), decision(), feedback(FeedbackAction.approve), reply())
    projector.apply(values)
    projector.apply(values)  # redelivered
    first = projector.store.case("acme-shop", "conv-1")
    rebuilt = Projector(ReviewStore(tmp_path / "rebuilt.sqlite3"), codec, keystore)
    rebuilt.apply(list(reversed(values)))
    assert rebuilt.store.case("acme-shop", "conv-1") == first
    assert projector.store.counts()["events"] == 4


def test_a_reject_becomes_one_sealed_deduplicated_example(projector, codec, keystore):
    projector.apply(encode(codec, verified(), decision(), feedback(FeedbackAction.reject, reason="wrong_clause")))
    # the same request again in another conversation, approved this time: still one example, the latest verdict
    projector.apply(encode(codec, verified("conv-2"), decision("conv-2"),
                           feedback(FeedbackAction.approve, "conv-2", minutes=9)))
    examples = projector.store.examples("acme-shop")
    assert len(examples) == 1
    example = examples[0]
    assert example["label"] == "approve"
    assert example["body"]["predicted_clauses"] == ["shipping-1@kb-7"]
    assert "ORDER" not in json.dumps(example["body"])  # labels carry no free text
    from services.review.cases import sealed_from_view

    text = json.loads(keystore.open(sealed_from_view(json.loads(example["sealed_text"]))))
    assert text["ticket"] == "Hello, when will my order [ORDER_1] arrive?"


def test_erasing_the_customer_removes_their_examples_and_a_replay_does_not_bring_them_back(
        projector, codec, keystore):
    original = keystore.seal("acme-shop", "cust-9", "the original text")
    event = verified()
    event = event.model_copy(update={"conversation": event.conversation.model_copy(update={"original": original})})
    values = encode(codec, event, decision(), feedback(FeedbackAction.reject, reason="tone"))
    projector.apply(values)
    assert len(projector.store.examples("acme-shop")) == 1
    key_id = keystore.erase("acme-shop", "cust-9")
    erased = PersonalDataErased(producer=ProducerInfo(service="audit", version="t"), tenant="acme-shop",
                                customer_id="cust-9", key_id=key_id, requested_by="dpo")
    projector.apply([codec.encode(erased)])
    assert projector.store.examples("acme-shop") == []
    projector.store.connection.execute("DELETE FROM events")
    projector.apply(values)  # a rebuild from the log after the erasure
    assert projector.store.examples("acme-shop") == []


def test_a_delivery_receipt_from_the_log_marks_the_approved_case_delivered(projector, codec):
    from tests.unit.review.factories import receipt

    projector.apply(encode(codec, verified(), decision(), feedback(FeedbackAction.approve), reply()))
    assert not projector.store.case("acme-shop", "conv-1").delivered
    projector.apply(encode(codec, receipt()))
    case = projector.store.case("acme-shop", "conv-1")
    assert case.delivered and case.history[-1].kind == "delivery:delivered"
