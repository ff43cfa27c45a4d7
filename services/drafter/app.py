"""Drafter service: conversations.triaged -> drafts.proposed (Kafka wiring only).

The decision lives in ``services.drafter.drafting``. This module builds it
once (embedder, clause catalogue, Qdrant index, tenant policies, composer),
runs it off the event loop, and maps faults: Qdrant unavailable or a
transient LLM failure -> ``RetryableError`` (retried with back-off, input not
committed). ``KnowledgeBasePublished`` events make the drafter look at the
catalogue at once instead of at its next periodic check.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Optional

from casetrail import topics
from casetrail.events import ConversationTriaged, KnowledgeBasePublished
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from services.drafter import metrics
from services.drafter.drafting import Drafter

log = logging.getLogger("casetrail.drafter")
svc = Service("drafter")

_drafter: Optional[Drafter] = None
_lock = threading.Lock()


def build_drafter() -> Drafter:
    """Everything the drafter needs, from settings (``CASETRAIL_*``, ``QDRANT_URL``)."""
    from casetrail.embeddings import default_embedder
    from casetrail.knowledge import catalogue
    from casetrail.knowledge.index import RetrievalIndex
    from casetrail.knowledge.store import KnowledgeBase
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings
    from services.drafter.config import DrafterSettings
    from services.drafter.drafting import DrafterConfig

    config = DrafterSettings()
    base = settings()
    if base.qdrant_url:
        index = RetrievalIndex.from_settings("drafter")
    else:
        index = RetrievalIndex.local(Path(config.qdrant_path) if config.qdrant_path else Path(base.data_dir) / "qdrant" / "drafter")
    knowledge = KnowledgeBase(catalogue(), index, default_embedder(), refresh_seconds=config.kb_refresh_seconds)
    composer = None
    if config.llm_url:
        from services.drafter.llm import LlmComposer

        if not config.llm_model:
            raise ValueError("CASETRAIL_DRAFTER_LLM_URL is set but CASETRAIL_DRAFTER_LLM_MODEL is not")
        composer = LlmComposer(config.llm_url, config.llm_model,
                               api_key=config.llm_api_key.get_secret_value() if config.llm_api_key else None,
                               timeout=config.llm_timeout_seconds)
    from services.drafter.answer_confidence import DEFAULT_PATH, AnswerConfidence

    answer_confidence = AnswerConfidence.load(Path(config.answer_confidence_path or DEFAULT_PATH))
    drafter = Drafter(knowledge, load_policies(base.tenants_dir), composer=composer,
                      config=DrafterConfig(min_score=config.min_score), answer_confidence=answer_confidence,
                      producer=svc.producer_info)
    log.info("drafter ready", extra={"index": index.mode, "embedder": knowledge.embedder.name,
                                     "composer": drafter.composer.name})
    return drafter


def drafter() -> Drafter:
    global _drafter
    if _drafter is None:
        with _lock:
            if _drafter is None:
                _drafter = build_drafter()
    return _drafter


@svc.warm_up
def load_knowledge_base() -> None:
    """Build the drafter and index every tenant's published locales before the first ticket."""
    built = drafter()
    pairs = [(tenant, locale) for tenant, policy in built.policies.items() for locale in policy.locales]
    built.knowledge.warm(pairs)
    built.knowledge.embedder.embed(["warm-up"], kind="query")


def draft_or_retry(event: ConversationTriaged) -> list[Output]:
    """Blocking: one triaged conversation -> its DraftProposed (or RetryableError)."""
    from casetrail.knowledge.index import QdrantUnavailable
    from services.drafter.llm import LlmError

    started = time.perf_counter()
    try:
        proposed = drafter().draft(event)
    except QdrantUnavailable as exc:
        metrics.QDRANT_UNAVAILABLE.inc()
        raise RetryableError(str(exc)) from exc
    except LlmError as exc:  # only transient ones reach here
        raise RetryableError(str(exc)) from exc
    metrics.DRAFT_SECONDS.observe(time.perf_counter() - started)
    metrics.observe(proposed)
    return [Output(topics.DRAFTS_PROPOSED, proposed)]


@svc.processor(source=topics.CONVERSATIONS_TRIAGED, input_type=ConversationTriaged)
async def draft_conversation(event: ConversationTriaged, ctx: RecordContext) -> list[Output]:
    # Embedding and Qdrant calls block: keep them off the event loop.
    return await asyncio.to_thread(draft_or_retry, event)


@svc.processor(source=topics.KB_PUBLISHED, input_type=KnowledgeBasePublished)
async def knowledge_base_published(event: KnowledgeBasePublished, ctx: RecordContext) -> list[Output]:
    metrics.KB_REFRESHES.inc()
    if _drafter is not None:
        _drafter.knowledge.invalidate()
    log.info("knowledge base published", extra={"tenant": event.tenant, "locale": event.locale,
                                                 "kb_version": event.kb_version})
    return []
