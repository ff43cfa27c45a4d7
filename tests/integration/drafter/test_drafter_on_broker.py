"""The drafter service as a real process on the real broker.

Triaged conversations in, drafts with citations out; publishing a new KB
version changes what is cited while the old version stays resolvable; every
produced draft carries at least one citation that resolves to an existing
clause at the cited version.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import time
import urllib.request
import uuid

import pytest

from casetrail.codec import AvroCodec
from casetrail.embeddings import default_embedder
from casetrail.events import (
    AuthorRole, Conversation, ConversationTriaged, CustomerContext, DraftOutcome, Message, ProducerInfo, TriageResult,
)
from casetrail.knowledge import resolve
from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.publish import publish
from casetrail.partitioning import partition_for
from casetrail.topics import CONVERSATIONS_TRIAGED, DEADLETTER, DRAFTS_PROPOSED, KB_PUBLISHED
from tests.support.kafka import consume, create_topics, produce_events
from tests.support.processes import REPO, service_process

pytestmark = pytest.mark.integration

SAMPLE_KB = REPO / "knowledge" / "acme-shop"
QUESTIONS = [
    ("en", "refund_policy", "Hi, how many days after delivery can I still return a jacket and get a full refund?"),
    ("en", "order_status", "Where is my parcel? It was sent two weeks ago and still has not arrived. Order #A-55120"),
    ("en", "account_access", "I forgot my password and the reset link does not work"),
    ("de", "payment_issue", "Meine Karte wird an der Kasse ständig abgelehnt, was kann ich tun?"),
    ("de", "fraud_report", "In meinem Konto ist eine Bestellung, die ich nie gemacht habe"),
    ("lt", "refund_policy", "Ar galiu grąžinti prekę ir atgauti pinigus?"),  # lt not published: falls back to en
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def triaged(number: int, locale: str, intent: str, text: str) -> ConversationTriaged:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    conversation = Conversation(
        source="email", external_id=f"it-{number}", channel="email",
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=now, body_text=text)],
        customer=CustomerContext(customer_id=f"cust-{number}"), received_at=now,
    )
    return ConversationTriaged(
        conversation_id=f"conv-{uuid.uuid4().hex[:8]}", tenant="acme-shop", locale=locale,
        producer=ProducerInfo(service="triage", version="test"), conversation=conversation,
        triage=TriageResult(intent=intent, intent_confidence=0.92, category=intent, language=locale),
    )


def drafts_for(prefix: str, conversation_ids: set[str], codec: AvroCodec, earlier: int = 0):
    # The topic is read from the beginning: wait for the ``earlier`` drafts already on it and these.
    messages = consume([f"{prefix}{DRAFTS_PROPOSED.name}"], expected=earlier + len(conversation_ids), timeout=180)
    drafts = [codec.decode(m.value()) for m in messages]
    return {d.conversation_id: d for d in drafts if d.conversation_id in conversation_ids}


def test_drafts_cite_resolvable_clauses_and_follow_new_kb_versions(kafka_bootstrap, tmp_path):
    prefix = f"it-drafter-{uuid.uuid4().hex[:8]}."
    create_topics(prefix, [CONVERSATIONS_TRIAGED, DRAFTS_PROPOSED, KB_PUBLISHED, DEADLETTER])
    data_dir = tmp_path / "var"
    catalogue_path = data_dir / "knowledge" / "catalogue.sqlite3"
    kb_dir = tmp_path / "acme-shop"
    for locale in ("en", "de"):
        shutil.copytree(SAMPLE_KB / locale, kb_dir / locale)
    embedder = default_embedder()
    catalogue = Catalogue(catalogue_path)
    v1 = {r.locale: r.version.kb_version for r in publish(kb_dir, embedder=embedder, catalogue=catalogue, human_version="1")}

    service = service_process("drafter", prefix=prefix, port=free_port(), log_dir=tmp_path,
                              env={"CASETRAIL_DATA_DIR": str(data_dir), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    service.start()
    codec = AvroCodec()
    try:
        service.wait_ready(timeout=180)
        first = [triaged(i, *q) for i, q in enumerate(QUESTIONS)]
        produce_events(f"{prefix}{CONVERSATIONS_TRIAGED.name}", first)
        drafts = drafts_for(prefix, {e.conversation_id for e in first}, codec)
        assert len(drafts) == len(first), service.log_tail()

        for event in first:
            proposed = drafts[event.conversation_id]
            draft = proposed.draft
            assert proposed.causation_id == event.event_id
            assert draft.reply_text and draft.disclosure in draft.reply_text
            if draft.outcome != DraftOutcome.drafted:
                continue
            # Every produced draft: >= 1 citation, each resolving to an existing clause at the cited version.
            assert draft.citations
            for citation in draft.citations:
                clause = resolve("acme-shop", draft.kb_locale, citation.clause_id, citation.kb_version,
                                 catalogue_path=catalogue_path)
                assert clause is not None, citation.ref
                assert citation.sentence in clause.plain_text
                assert citation.kb_version == v1[draft.kb_locale]
        drafted = [drafts[e.conversation_id].draft for e in first if drafts[e.conversation_id].draft.outcome == DraftOutcome.drafted]
        assert len(drafted) >= 4, [(d.outcome, d.reason) for d in drafts.values()]
        # The service fitted the clause classifier at warm-up, and each retrieved clause carries its probability
        # through Avro: what the audit lineage shows to explain the order of the clauses.
        for draft in drafted:
            assert sum(c.classifier_probability for c in draft.retrieved) > 0.5, draft.retrieved
        lt = drafts[first[-1].conversation_id].draft
        assert lt.locale == "lt" and lt.kb_locale == "en" and lt.locale_fallback  # acme-shop allows en fallback
        refund = drafts[first[0].conversation_id].draft
        assert refund.outcome == DraftOutcome.drafted
        assert "refunds.window" in {c.clause_id for c in refund.citations}

        # A new KB version: the refund window changes to 60 days.
        refunds = kb_dir / "en" / "refunds.md"
        refunds.write_text(refunds.read_text().replace("within 30 days of delivery", "within 60 days of delivery"))
        [v2] = [r for r in publish(kb_dir, embedder=embedder, catalogue=catalogue, human_version="2", locales=["en"])]
        assert not v2.unchanged and v2.version.kb_version != v1["en"]
        produce_events(f"{prefix}{KB_PUBLISHED.name}", [v2.event(ProducerInfo(service="kb-publish", version="test"))])

        again = triaged(100, *QUESTIONS[0])
        produce_events(f"{prefix}{CONVERSATIONS_TRIAGED.name}", [again])
        new_draft = drafts_for(prefix, {again.conversation_id}, codec, earlier=len(first))[again.conversation_id]
        cited = {c.clause_id: c for c in new_draft.draft.citations}
        assert new_draft.versions.knowledge_base == v2.version.kb_version
        assert cited["refunds.window"].kb_version == v2.version.kb_version
        assert sum(c.classifier_probability for c in new_draft.draft.retrieved) > 0.5  # refitted for the new version
        # the new window is quoted from the new version's clause, and that is what the customer reads
        window_sentences = [c.sentence for c in new_draft.draft.citations if c.clause_id == "refunds.window"]
        assert any("60 days" in sentence for sentence in window_sentences), window_sentences
        assert "60 days" in new_draft.draft.reply_text

        # The old version stays resolvable exactly as it was cited.
        old = resolve("acme-shop", "en", "refunds.window", v1["en"], catalogue_path=catalogue_path)
        assert old is not None and "30 days" in old.text
        assert resolve("acme-shop", "en", "refunds.window", v2.version.kb_version,
                       catalogue_path=catalogue_path).text != old.text

        dead = consume([f"{prefix}{DEADLETTER.name}"], expected=1, timeout=3)
        assert dead == [], "no record may be dead-lettered"
    finally:
        assert service.stop() == 0, service.log_tail()  # SIGTERM is a graceful stop


def _kb_publications_seen(worker) -> float:
    """The worker's ``casetrail_drafter_kb_published_events_total`` (its own /metrics)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("casetrail_drafter_kb_published_events_total "):
                return float(line.split()[1])
    raise AssertionError("the drafter exports no casetrail_drafter_kb_published_events_total")


def test_a_publication_reaches_every_drafter_worker(kafka_bootstrap, tmp_path):
    # kb.published.v1 has one partition. Consumed in the group, only the worker holding it heard a
    # publication; the others served the old version until their periodic catalogue check, which is
    # an hour here, so only the publication event can move them.
    prefix = f"it-drafter-{uuid.uuid4().hex[:8]}."
    create_topics(prefix, [CONVERSATIONS_TRIAGED, DRAFTS_PROPOSED, KB_PUBLISHED, DEADLETTER])
    data_dir = tmp_path / "var"
    catalogue = Catalogue(data_dir / "knowledge" / "catalogue.sqlite3")
    kb_dir = tmp_path / "acme-shop"
    shutil.copytree(SAMPLE_KB / "en", kb_dir / "en")
    embedder = default_embedder()
    publish(kb_dir, embedder=embedder, catalogue=catalogue, human_version="1", locales=["en"])
    for name in ("w1", "w2"):
        (tmp_path / name).mkdir()
    workers = [service_process("drafter", prefix=prefix, port=free_port(), log_dir=tmp_path / name, env={
        "CASETRAIL_DATA_DIR": str(data_dir), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CASETRAIL_WORKER_ID": name,
        "CASETRAIL_DRAFTER_QDRANT_PATH": str(tmp_path / name / "qdrant"), "CASETRAIL_DRAFTER_KB_REFRESH_SECONDS": "3600",
    }) for name in ("w1", "w2")]
    codec = AvroCodec()
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready(timeout=240)  # ready = holds partitions of conversations.triaged.v1
        assert [_kb_publications_seen(w) for w in workers] == [0.0, 0.0]

        refunds = kb_dir / "en" / "refunds.md"
        refunds.write_text(refunds.read_text().replace("within 30 days of delivery", "within 60 days of delivery"))
        [v2] = publish(kb_dir, embedder=embedder, catalogue=catalogue, human_version="2", locales=["en"])
        produce_events(f"{prefix}{KB_PUBLISHED.name}", [v2.event(ProducerInfo(service="kb-publish", version="test"))])
        deadline = time.monotonic() + 60
        while [_kb_publications_seen(w) for w in workers] != [1.0, 1.0] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [_kb_publications_seen(w) for w in workers] == [1.0, 1.0], [w.log_tail() for w in workers]

        # One refund question on each partition of conversations.triaged.v1: every worker drafts one.
        questions, covered = [], set()
        for number in range(200, 400):
            event = triaged(number, *QUESTIONS[0])
            partition = partition_for(event.conversation_id, CONVERSATIONS_TRIAGED.partitions)
            if partition not in covered:
                covered.add(partition)
                questions.append(event)
        assert len(covered) == CONVERSATIONS_TRIAGED.partitions
        produce_events(f"{prefix}{CONVERSATIONS_TRIAGED.name}", questions)
        drafts = drafts_for(prefix, {e.conversation_id for e in questions}, codec)
        assert {cid: d.versions.knowledge_base for cid, d in drafts.items()} == {
            e.conversation_id: v2.version.kb_version for e in questions}
    finally:
        for worker in workers:
            assert worker.stop() == 0, worker.log_tail()
