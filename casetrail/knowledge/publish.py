"""Publishing a knowledge base: validate, chunk by clause, embed, store, index, announce.

Each clause's text is embedded as a passage and each of its questions as a
query; the catalogue keeps both, so readers index them without embedding.
With a ``VectorCache``, texts embedded before by the same embedder are not
embedded again (``casetrail.knowledge.vector_cache``).

All locales are validated before anything is written, so a refused knowledge
base leaves the catalogue untouched. A locale whose content is unchanged
since its latest version is not republished (``force`` overrides). The
version stamped on every clause is ``<human version>+<content hash>``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable, Iterable, Optional

from casetrail.embeddings import Embedder
from casetrail.events import KnowledgeBasePublished, ProducerInfo
from casetrail.knowledge.catalogue import Catalogue, PublishedVersion
from casetrail.knowledge.clauses import LocaleKnowledgeBase, load_tenant
from casetrail.knowledge.index import RetrievalIndex, collection_name
from casetrail.knowledge.questions import embed_questions
from casetrail.knowledge.vector_cache import VectorCache

HUMAN_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class PublishResult:
    tenant: str
    locale: str
    version: PublishedVersion
    clause_ids: tuple[str, ...]
    collection: str
    unchanged: bool  # True: same content as the latest version, nothing written
    indexed: bool  # True: upserted into a shared Qdrant server now

    def event(self, producer: ProducerInfo) -> KnowledgeBasePublished:
        return KnowledgeBasePublished(
            producer=producer,
            tenant=self.tenant,
            locale=self.locale,
            kb_version=self.version.kb_version,
            content_hash=self.version.content_hash,
            clause_ids=list(self.clause_ids),
            collection=self.collection,
        )


def missing_across_locales(kbs: Iterable[LocaleKnowledgeBase]) -> dict[str, list[str]]:
    """Clause ids some locale has and another lacks: ``{locale: [missing ids]}``."""
    kbs = list(kbs)
    every = set().union(*(set(kb.by_id()) for kb in kbs)) if kbs else set()
    return {kb.locale: sorted(every - set(kb.by_id())) for kb in kbs if every - set(kb.by_id())}


def next_human_version(catalogue: Catalogue, tenant: str) -> str:
    """``1``, ``2``, ... : one more than the highest numeric human version of the tenant."""
    numbers = [int(v.human_version) for v in catalogue.versions(tenant) if v.human_version.isdigit()]
    return str(max(numbers, default=0) + 1)


def publish(
    directory: Path,
    *,
    embedder: Embedder,
    catalogue: Catalogue,
    tenant: Optional[str] = None,
    human_version: Optional[str] = None,
    locales: Optional[Iterable[str]] = None,
    index: Optional[RetrievalIndex] = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _message: None,
    vector_cache: Optional[VectorCache] = None,
) -> list[PublishResult]:
    """Publish every locale folder of ``directory``; raises ``KnowledgeBaseError`` when refused.

    ``index`` is given when a shared Qdrant server is configured: the new
    version is upserted there now. In embedded mode the index belongs to the
    drafter process, which indexes new versions from the catalogue itself.
    """
    kbs = load_tenant(directory, tenant=tenant, locales=locales)
    tenant = kbs[0].tenant
    embedding = vector_cache.wrap(embedder) if vector_cache is not None else embedder
    if human_version is None:
        human_version = next_human_version(catalogue, tenant)
    elif not HUMAN_VERSION.match(human_version) or "+" in human_version:
        raise ValueError(f"version {human_version!r}: use letters, digits, '.', '_' or '-' (the '+hash' is added)")
    results: list[PublishResult] = []
    for kb in kbs:
        latest = catalogue.latest(tenant, kb.locale)
        content_hash = kb.content_hash
        if latest is not None and latest.content_hash == content_hash and not force:
            progress(f"{tenant}/{kb.locale}: unchanged since {latest.kb_version}")
            results.append(PublishResult(tenant, kb.locale, latest, tuple(c.clause_id for c in kb.clauses),
                                         collection_name(tenant, kb.locale), unchanged=True, indexed=False))
            continue
        if catalogue.version(tenant, kb.locale, f"{human_version}+{content_hash}") is not None:
            raise ValueError(f"{tenant}/{kb.locale}: version {human_version}+{content_hash} is already published")
        questions = sum(len(c.questions) for c in kb.clauses)
        progress(f"{tenant}/{kb.locale}: embedding {len(kb.clauses)} clauses and {questions} questions with {embedder.name}")
        vectors = embedding.embed([c.passage for c in kb.clauses], kind="passage")
        question_vectors = embed_questions(embedding, kb.clauses)
        cue_vectors = embed_questions(embedding, kb.clauses, field="not_when")
        version = catalogue.add_version(
            tenant=tenant, locale=kb.locale, human_version=human_version, content_hash=content_hash,
            embedder=embedder.name, clauses=kb.clauses, vectors=vectors, question_vectors=question_vectors,
            not_when_vectors=cue_vectors, source=str(directory),
        )
        indexed = False
        if index is not None:
            stamped = [dataclasses.replace(c, kb_version=version.kb_version) for c in kb.clauses]
            index.upsert_version(tenant, kb.locale, stamped, vectors, embedder.name, question_vectors)
            indexed = True
        progress(f"{tenant}/{kb.locale}: published {version.kb_version} ({len(kb.clauses)} clauses)")
        results.append(PublishResult(tenant, kb.locale, version, tuple(c.clause_id for c in kb.clauses),
                                     collection_name(tenant, kb.locale), unchanged=False, indexed=indexed))
    return results


def emit_published(events: list[KnowledgeBasePublished], timeout: float = 30.0) -> int:
    """Produce KnowledgeBasePublished events (key ``tenant:locale``) and wait for the acks."""
    from confluent_kafka import Producer

    from casetrail.codec import AvroCodec
    from casetrail.settings import kafka_settings, settings
    from casetrail.topic_admin import resolved_name
    from casetrail.topics import KB_PUBLISHED

    if not events:
        return 0
    config = settings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    topic = resolved_name(KB_PUBLISHED, config.topic_prefix)
    producer = Producer({**kafka_settings().producer_config(), "acks": "all", "enable.idempotence": True,
                         "client.id": f"{kafka_settings().client_id_prefix}-kb-publish"})
    failures: list[str] = []

    def delivered(err, _msg) -> None:
        if err is not None:
            failures.append(str(err))

    for event in events:
        producer.produce(
            topic, key=f"{event.tenant}:{event.locale}".encode(), value=codec.encode(event, topic=topic),
            headers=[("casetrail-event-type", b"KnowledgeBasePublished")], on_delivery=delivered,
        )
    remaining = producer.flush(timeout)
    if remaining or failures:
        raise RuntimeError(f"KnowledgeBasePublished not acknowledged by the broker ({remaining} pending, errors: {failures})")
    return len(events)
