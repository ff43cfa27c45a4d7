"""Kafka wiring of the verifier: DraftProposed in, DraftVerified out.

Start-up loads and validates every tenant policy and builds one verifier per
tenant (an unknown check name, an invalid threshold or a rule that does not
parse stops the service with a message naming the entry), then loads the
language models so the first draft is not slow.
"""

from __future__ import annotations

import logging
import time

from casetrail import topics
from casetrail.events import DraftProposed
from casetrail.policy.tenant import load_policies
from casetrail.runtime import Output, RecordContext, Service
from services.verifier import metrics
from services.verifier.engine import build_verifiers, default_dependencies
from services.verifier.language_identification import warm_up

log = logging.getLogger("casetrail.verifier")

svc = Service("verifier")
_policies = load_policies(svc.config.tenants_dir)  # PolicyError names the file and entry
verifiers = build_verifiers(_policies, default_dependencies())  # VerifierConfigError names tenant and entry
warm_up()


@svc.processor(source=topics.DRAFTS_PROPOSED, input_type=DraftProposed)
def verify(event: DraftProposed, ctx: RecordContext) -> list[Output]:
    started = time.perf_counter()
    report = verifiers.verify(event)
    seconds = time.perf_counter() - started
    metrics.record(event.tenant, event.triage.category, event.locale, report, seconds)
    verification = report.verification
    log.info("draft verified", extra={
        "conversation_id": event.conversation_id, "draft_id": event.draft.draft_id,
        "verdict": verification.verdict.value, "failed_checks": [c.name for c in verification.failed_checks],
        "ms": round(seconds * 1000, 2),
    })
    return [Output(topics.DRAFTS_VERIFIED, verifiers.verified_event(event, report, svc.producer_info))]
