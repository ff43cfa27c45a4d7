"""The verifier service on the real broker: DraftProposed in, DraftVerified out; an agent's edit
(AgentFeedback on feedback.agent) verified against the draft the verifier kept in its table.

Runs ``casetrail run verifier`` as a process (the way it is deployed) against
a knowledge base published into a temporary data directory, with a unique
topic prefix so nothing collides on the shared broker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from confluent_kafka import Consumer, Producer

from casetrail.codec import AvroCodec
from casetrail.events import (
    AgentFeedback, AuthorRole, Citation, Conversation, CustomerContext, DeadLetter, Draft, DraftOutcome,
    DraftProposed, DraftVerified, FeedbackAction, Message, ProducerInfo, RetrievedClause, TriageResult, Verdict,
    utc_now,
)
from casetrail.knowledge import Catalogue, load_tenant
from casetrail.topic_admin import apply_topics
from casetrail.topics import DEADLETTER, DRAFTS_PROPOSED, DRAFTS_VERIFIED, FEEDBACK_AGENT, changelog

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
DISCLOSURE = "This reply was drafted by an AI assistant and checked against our policies."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _publish_english_kb(data_dir: Path) -> dict:
    """Publish the sample tenant's English KB into ``data_dir``'s catalogue; returns clauses by id."""
    kb = next(k for k in load_tenant(REPO / "knowledge" / "acme-shop", "acme-shop", ["en"]))
    catalogue = Catalogue(data_dir / "knowledge" / "catalogue.sqlite3")
    version = catalogue.add_version(tenant="acme-shop", locale="en", human_version="1", content_hash=kb.content_hash,
                                    embedder="test-zero", clauses=kb.clauses,
                                    vectors=np.zeros((len(kb.clauses), 4), dtype=np.float32))
    return {c.clause_id: (c, version.kb_version) for c in kb.clauses}


def _event(name: str, clauses: dict, *, body: str | None = None, outcome=DraftOutcome.drafted) -> DraftProposed:
    clause, kb_version = clauses["refunds.window"]
    quoted = body or "You can return any item within 30 days of delivery for a full refund."
    reply = (f"Hello [NAME_1],\nThank you for your message.\n{quoted} [refunds.window@{kb_version}]\n"
             f"Kind regards,\nAcme Shop\n{DISCLOSURE}")
    now = utc_now()
    return DraftProposed(
        conversation_id=f"conv-{name}-{uuid.uuid4().hex[:6]}", tenant="acme-shop", locale="en",
        producer=ProducerInfo(service="drafter", version="test"),
        conversation=Conversation(
            source="email", external_id=name, channel="email",
            messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=now,
                              body_text="Can I still return my shoes? Order [ORDER_1].")],
            customer=CustomerContext(customer_id="cust-1"), received_at=now),
        triage=TriageResult(intent="refund_policy", intent_confidence=0.95, category="refund_policy", language="en"),
        draft=Draft(
            draft_id=f"d-{name}", outcome=outcome, reply_text=reply if outcome == DraftOutcome.drafted else "",
            locale="en", kb_locale="en", reason=None if outcome == DraftOutcome.drafted else "nothing retrieved",
            retrieved=[RetrievedClause(clause_id="refunds.window", kb_version=kb_version, locale="en", score=0.8,
                                       title=clause.title, text=clause.plain_text)],
            citations=[Citation(clause_id="refunds.window", kb_version=kb_version, score=0.8, sentence=quoted)],
            confidence=0.92, disclosure=DISCLOSURE),
    )


def test_draft_proposed_in_draft_verified_out(kafka_bootstrap, topic_prefix, tmp_path):
    clauses = _publish_english_kb(tmp_path)
    apply_topics([DRAFTS_PROPOSED, DRAFTS_VERIFIED, FEEDBACK_AGENT, DEADLETTER, changelog("casetrail-verifier", "drafts")],
                 prefix=topic_prefix)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CASETRAIL_TOPIC_PREFIX": topic_prefix,
           "CASETRAIL_HTTP_PORT": str(_free_port()), "CASETRAIL_DATA_DIR": str(tmp_path),
           "CASETRAIL_CREATE_TOPICS": "false", "CASETRAIL_QDRANT_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", "casetrail.cli", "run", "verifier"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        codec = AvroCodec()
        good = _event("good", clauses)
        wrong = _event("wrong", clauses, body="You can return any item within 60 days of delivery for a full refund.")
        undrafted = _event("none", clauses, outcome=DraftOutcome.no_grounding)
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        source = f"{topic_prefix}{DRAFTS_PROPOSED.name}"
        for event in (good, wrong, undrafted):
            producer.produce(source, key=event.conversation_id.encode(), value=codec.encode(event))
        producer.produce(source, key=b"garbage", value=b"\x00not avro at all")
        assert producer.flush(30) == 0

        consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"verifier-test-{uuid.uuid4().hex}",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe([f"{topic_prefix}{DRAFTS_VERIFIED.name}", f"{topic_prefix}{DEADLETTER.name}"])
        verified: dict[str, DraftVerified] = {}
        edits: list[DraftVerified] = []
        dead: list[DeadLetter] = []

        def collect(done) -> None:
            deadline = time.monotonic() + 120
            while not done() and time.monotonic() < deadline:
                assert process.poll() is None, process.stdout.read().decode(errors="replace")[-3000:]
                message = consumer.poll(1.0)
                if message is None or message.error():
                    continue
                decoded = codec.decode(message.value())
                if isinstance(decoded, DraftVerified):
                    if decoded.draft.composer.startswith("agent:"):
                        edits.append(decoded)
                    else:
                        verified[decoded.conversation_id] = decoded
                elif isinstance(decoded, DeadLetter):
                    dead.append(decoded)

        collect(lambda: len(verified) == 3 and len(dead) == 1)
        # The agent edits the good draft with a number its clause does not hold.
        edit = AgentFeedback(
            conversation_id=good.conversation_id, tenant="acme-shop", locale="en",
            producer=ProducerInfo(service="review", version="test"), draft_id=good.draft.draft_id, agent_id="ana",
            action=FeedbackAction.edit, edited_text=good.draft.reply_text.replace("30 days", "45 days"))
        producer.produce(f"{topic_prefix}{FEEDBACK_AGENT.name}", key=edit.conversation_id.encode(),
                         value=codec.encode(edit))
        assert producer.flush(30) == 0
        collect(lambda: len(edits) == 1)
        consumer.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

    assert set(verified) == {good.conversation_id, wrong.conversation_id, undrafted.conversation_id}
    ok = verified[good.conversation_id]
    assert ok.verification.verdict == Verdict.passed, ok.verification.failed_checks
    assert ok.causation_id == good.event_id and ok.producer.service == "verifier"
    assert ok.versions.policy and ok.versions.policy.startswith("2026.11.1+")
    assert next(c for c in ok.verification.checks if c.name == "citations_resolve").detail.startswith(
        "1 citation(s) resolved in the knowledge base")
    bad = verified[wrong.conversation_id].verification
    assert bad.verdict == Verdict.failed
    assert "'60 days' is not in refunds.window@" in next(c for c in bad.checks if c.name == "statements_supported").detail
    passthrough = verified[undrafted.conversation_id].verification
    assert passthrough.verdict == Verdict.needs_human and passthrough.checks[0].name == "draft_outcome"
    assert len(dead) == 1 and dead[0].reason_code != ""
    [edited] = edits
    # the edited draft's envelope is derived from the feedback, the verdict's from the edited draft
    assert edited.conversation_id == good.conversation_id
    assert edited.causation_id == edit.derive("agent-edit", edit.producer)["event_id"]
    assert edited.draft.composer == "agent:ana" and edited.draft.draft_id.startswith(f"{good.draft.draft_id}+edit-")
    assert edited.verification.verdict == Verdict.failed
    assert "'45 days' is not in refunds.window@" in next(
        c for c in edited.verification.checks if c.name == "statements_supported").detail
