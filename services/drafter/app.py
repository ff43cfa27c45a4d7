"""Drafter service: conversations.triaged -> drafts.proposed (Kafka wiring only).

The decision lives in ``services.drafter.drafting``. This module builds it
once (embedder, clause catalogue, Qdrant index, tenant policies, composer),
runs it off the event loop, and maps faults: Qdrant unavailable or a
transient LLM failure -> ``RetryableError`` (retried with back-off, input not
committed). ``KnowledgeBasePublished`` events make the drafter look at the
catalogue at once instead of at its next periodic check: every worker reads them
(``Service.broadcast``, outside the group), so each invalidates its own cache.

Which KB version a tenant serves follows the gate (``casetrail.knowledge.selection``):
the promotions file is read once at start-up; a tenant with a promoted knowledge
base serves that version (a promoted name missing from the catalogue refuses
start-up) and later publications wait for the gate (logged, counted in
``casetrail_drafter_kb_publications_held_back_total``). The reply templates follow the
gate the same way (``services.drafter.templates``): a tenant with promoted templates is
drafted with them, read at start-up; the others with the built-in set.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from casetrail import topics
from casetrail.events import ConversationTriaged, KnowledgeBasePublished
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from services.drafter import metrics
from services.drafter.drafting import Drafter

if TYPE_CHECKING:
    from casetrail.knowledge.catalogue import Catalogue
    from casetrail.knowledge.selection import VersionSelection
    from casetrail.policy.tenant import TenantPolicy
    from services.drafter.settings import DrafterSettings

log = logging.getLogger("casetrail.drafter")
svc = Service("drafter")

_drafter: Optional[Drafter] = None
_lock = threading.Lock()


def build_drafter(config: Optional["DrafterSettings"] = None) -> Drafter:
    """Everything the drafter needs, from its settings (``CASETRAIL_*``, ``QDRANT_URL``; default: read now)."""
    from casetrail.embeddings import default_embedder
    from casetrail.knowledge import catalogue
    from casetrail.knowledge.index import RetrievalIndex
    from casetrail.knowledge.store import KnowledgeBase
    from casetrail.policy.tenant import load_policies
    from services.drafter.settings import DrafterSettings

    config = config or DrafterSettings()
    if config.qdrant_url:
        index = RetrievalIndex.from_settings("drafter")
    else:
        index = RetrievalIndex.local(Path(config.drafter_qdrant_path) if config.drafter_qdrant_path else Path(config.data_dir) / "qdrant" / "drafter")
    policies = load_policies(config.tenants_dir)
    selection = served_versions(catalogue(), policies, config.promotions_path)
    knowledge = KnowledgeBase(catalogue(), index, default_embedder(), refresh_seconds=config.drafter_kb_refresh_seconds,
                              selection=selection)
    drafter = Drafter.from_settings(knowledge, policies, config, producer=svc.producer_info,
                                    templates=served_templates(policies, config.promotions_path))
    log.info("drafter ready", extra={"index": index.mode, "embedder": knowledge.embedder.name,
                                     "composer": drafter.composer.name})
    return drafter


def served_versions(store: "Catalogue", policies: "dict[str, TenantPolicy]",
                    promotions_file: Optional[Path] = None) -> "VersionSelection":
    """Which KB version each tenant serves, from the promotions file read now (start-up; default: the
    settings' ``CASETRAIL_PROMOTIONS_FILE``) and the catalogue; raises ``PromotedVersionMissing`` when a
    promoted name is not published (start-up refused)."""
    from casetrail.knowledge.selection import PinnedToPromotion, VersionSelection
    from casetrail.promotions import PromotedVersions

    selection = VersionSelection.from_promotions(PromotedVersions(promotions_file).read(), store, policies)
    for tenant, state in sorted(selection.tenants.items()):
        if isinstance(state, PinnedToPromotion):
            log.info("knowledge base pinned to its promotion", extra={"tenant": tenant, "kb_version": state.version})
    return selection


def served_templates(policies: "dict[str, TenantPolicy]", promotions_file: Optional[Path] = None) -> dict:
    """Each tenant's promoted reply templates (tenants with none: the built-in set), read now (start-up);
    a promoted file that is missing or no longer valid raises ``TemplateFileError`` (start-up refused)."""
    from casetrail.promotions import PromotedVersions
    from services.drafter.templates import load_templates

    promotions = PromotedVersions(promotions_file)
    served = {}
    for tenant in sorted(policies):
        entry = promotions.promoted(tenant, "template")
        if entry is not None:
            served[tenant] = load_templates(Path(entry["source"]), entry["version"])
            log.info("reply templates pinned to their promotion", extra={"tenant": tenant, "template": entry["version"]})
    return served


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
    from casetrail.knowledge.selection import PinnedToPromotion

    for tenant, locale in pairs:
        state = built.knowledge.selection.tenants.get(tenant)
        if isinstance(state, PinnedToPromotion) and built.knowledge.active_version(tenant, locale) is None:
            log.warning("no knowledge base version for a locale at the promoted version (locale fallback applies)",
                        extra={"tenant": tenant, "locale": locale, "kb_version": state.version})
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
    return [Output(topics.DRAFTS_PROPOSED, proposed)]


@svc.processor(source=topics.CONVERSATIONS_TRIAGED, input_type=ConversationTriaged)
async def draft_conversation(event: ConversationTriaged, ctx: RecordContext) -> list[Output]:
    # Embedding and Qdrant calls block: keep them off the event loop.
    outputs = await asyncio.to_thread(draft_or_retry, event)
    for output in outputs:  # what the draft says counts once it is visible: a batch aborted and drafted again counts once
        ctx.after_commit(functools.partial(metrics.observe, output.event))
    return outputs


@svc.broadcast(source=topics.KB_PUBLISHED, input_type=KnowledgeBasePublished)
async def knowledge_base_published(event: KnowledgeBasePublished, ctx: RecordContext) -> None:
    # A broadcast: every drafter worker hears every publication and invalidates its own cache.
    metrics.KB_REFRESHES.inc()
    if _drafter is not None:
        _drafter.knowledge.invalidate()
        from casetrail.knowledge.selection import PinnedToPromotion

        pinned = _drafter.knowledge.selection.tenants.get(event.tenant)
        if isinstance(pinned, PinnedToPromotion):
            metrics.KB_PUBLICATIONS_HELD_BACK.labels(event.tenant).inc()
            log.warning("knowledge base published for a tenant pinned to its promoted version: not served until "
                        "the gate promotes it", extra={"tenant": event.tenant, "locale": event.locale,
                                                        "kb_version": event.kb_version, "promoted": pinned.version})
    log.info("knowledge base published", extra={"tenant": event.tenant, "locale": event.locale,
                                                 "kb_version": event.kb_version})
