"""`casetrail review rebuild` on the real broker: the console's store is folded again from everything
the case topics hold — committed records only, up to their end, without a consumer group of its own."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from casetrail import topics
from casetrail.codec import AvroCodec
from casetrail.settings import kafka_settings
from services.review.app import rebuild_from_topics
from services.review.projection import Projector
from services.review.store import ReviewStore
from tests.support.kafka import create_topics
from tests.unit.review.factories import decision, verified

pytestmark = pytest.mark.integration


def test_a_rebuild_folds_every_committed_case_and_no_aborted_one(kafka_bootstrap, topic_prefix, tmp_path):
    codec = AvroCodec()
    create_topics(topic_prefix, topics.EVENT_TOPICS)  # as a deployment has them
    drafts, decisions = (f"{topic_prefix}{spec.name}" for spec in (topics.DRAFTS_VERIFIED, topics.DECISIONS_ROUTED))
    plain = Producer(kafka_settings().producer_config())
    for n in range(1, 4):  # three committed cases, as the services' transactions leave them
        conversation = f"conv-{n}"
        plain.produce(drafts, codec.encode(verified(conversation, f"draft-{n}")), conversation.encode())
        plain.produce(decisions, codec.encode(decision(conversation, f"draft-{n}")), conversation.encode())
    assert plain.flush(30) == 0
    aborted = Producer(kafka_settings().producer_config(**{"transactional.id": f"{topic_prefix}aborting"}))
    aborted.init_transactions(30)
    aborted.begin_transaction()  # a router's batch that never committed: the console must not show it
    aborted.produce(drafts, codec.encode(verified("conv-aborted", "draft-x")), b"conv-aborted")
    aborted.produce(decisions, codec.encode(decision("conv-aborted", "draft-x")), b"conv-aborted")
    aborted.flush(30)
    aborted.abort_transaction(30)

    projector = Projector(ReviewStore(tmp_path / "review.sqlite3"), codec, None)
    read = rebuild_from_topics(projector, prefix=topic_prefix)

    assert read == 6
    assert [projector.store.case("acme-shop", f"conv-{n}") is not None for n in range(1, 4)] == [True] * 3
    assert projector.store.case("acme-shop", "conv-aborted") is None
    assert projector.store.counts()["events"] == 6


def test_a_rebuild_over_missing_topics_says_which(kafka_bootstrap, topic_prefix, tmp_path):
    projector = Projector(ReviewStore(tmp_path / "review.sqlite3"), AvroCodec(), None)
    with pytest.raises(RuntimeError, match=rf"cannot read {topic_prefix}"):
        rebuild_from_topics(projector, prefix=topic_prefix)
