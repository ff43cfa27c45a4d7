"""Kafka wiring of the verifier: DraftProposed in, DraftVerified out.

Start-up loads and validates every tenant policy and builds one verifier per
tenant (an unknown check name, an invalid threshold or a rule that does not
parse stops the service with a message naming the entry), then loads the
language models so the first draft is not slow.
"""

from __future__ import annotations

import functools
import logging
import time

from casetrail import topics
from casetrail.events import AgentFeedback, DraftProposed, FeedbackAction
from casetrail.policy.tenant import load_policies
from casetrail.runtime import Output, RecordContext, Service
from services.verifier import metrics
from services.verifier.agent_edits import draft_customer, edited_draft_event, remembered
from services.verifier.engine import build_verifiers, default_dependencies
from services.verifier.language_identification import warm_up

log = logging.getLogger("casetrail.verifier")

svc = Service("verifier")
_policies: dict = {}
verifiers = None


@svc.warm_up
def build() -> None:
    """Load and validate every tenant policy, build the verifiers, load the language models.

    Runs before the worker starts: a PolicyError / VerifierConfigError (naming the file,
    tenant and entry) stops the service before it consumes anything."""
    global _policies, verifiers
    _policies = load_policies(svc.config.tenants_dir)
    verifiers = build_verifiers(_policies, default_dependencies())
    warm_up()


# The latest draft of each conversation (without the sealed original and the embedding): what an
# agent's edit is verified against. Grows with the conversations; the changelog is compacted.
drafts = svc.table("drafts", erasable_by=draft_customer)


@svc.processor(source=topics.DRAFTS_PROPOSED, input_type=DraftProposed)
def verify(event: DraftProposed, ctx: RecordContext) -> list[Output]:
    started = time.perf_counter()
    report = verifiers.verify(event)
    seconds = time.perf_counter() - started
    metrics.record_work(report, seconds)
    ctx.after_commit(functools.partial(metrics.record_verdict, event.tenant, event.triage.category, event.locale, report))
    verification = report.verification
    log.info("draft verified", extra={
        "conversation_id": event.conversation_id, "draft_id": event.draft.draft_id,
        "verdict": verification.verdict.value, "failed_checks": [c.name for c in verification.failed_checks],
        "ms": round(seconds * 1000, 2),
    })
    drafts[event.conversation_id] = remembered(event)
    return [Output(topics.DRAFTS_VERIFIED, verifiers.verified_event(event, report, svc.producer_info))]


@svc.processor(source=topics.FEEDBACK_AGENT, input_type=AgentFeedback)
def verify_agent_edit(event: AgentFeedback, ctx: RecordContext) -> list[Output]:
    """An agent's edit is verified like a draft before the router may send it."""
    if event.action != FeedbackAction.edit:
        return []
    raw = drafts.get(event.conversation_id)
    original = DraftProposed.model_validate(raw) if raw else None
    edited = edited_draft_event(original, event, svc.producer_info) if original is not None else None
    if edited is None:
        ctx.dead_letter("edit_of_unknown_draft", f"edit of draft {event.draft_id!r}: not the conversation's latest draft")
        return []
    started = time.perf_counter()
    report = verifiers.verify(edited)
    metrics.record_work(report, time.perf_counter() - started)
    ctx.after_commit(functools.partial(metrics.record_verdict, edited.tenant, edited.triage.category, edited.locale,
                                       report))
    return [Output(topics.DRAFTS_VERIFIED, verifiers.verified_event(edited, report, svc.producer_info))]
