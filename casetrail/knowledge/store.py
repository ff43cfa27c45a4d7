"""The knowledge base as its readers see it: the catalogue plus a retrieval index kept in step.

``KnowledgeBase.search`` answers from the version its ``VersionSelection``
chooses for a tenant's locale (``casetrail.knowledge.selection``: the newest
published one, or the one the gate promoted): before searching it checks
(cheaply, at most every ``refresh_seconds``, or at once after
``invalidate()``) whether the catalogue changed, and indexes the chosen
version if the index lacks it. Vectors come
from the catalogue when they were made by the same embedder, otherwise the
clauses are re-embedded (``kind="passage"``) and their questions
(``kind="query"``) with the reader's embedder.

A clause scores its best match over its text and its anchoring questions
(``casetrail.knowledge.index``), plus the lexical term, less a penalty when
the request matches one of its ``::: not_when`` cues
(``casetrail.knowledge.not_when``). The hits are then ordered with the tenant's
clause classifier (``casetrail.knowledge.clause_classifier``), fitted on the
questions of the versions served in all its locales.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Optional

import numpy as np

from casetrail.embeddings import Embedder
from casetrail.knowledge.catalogue import Catalogue, PublishedVersion
from casetrail.knowledge.clause_classifier import ClauseClassifier
from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.index import RetrievalIndex, ScoredClause
from casetrail.knowledge.lexical import LEXICAL_WEIGHT, LexicalScorer
from casetrail.knowledge.not_when import demote
from casetrail.knowledge.questions import embed_questions
from casetrail.knowledge.selection import VersionSelection

log = logging.getLogger(__name__)


class KnowledgeBase:
    def __init__(self, catalogue: Catalogue, index: RetrievalIndex, embedder: Embedder, refresh_seconds: float = 2.0,
                 anchor_questions: bool = True, selection: Optional[VersionSelection] = None):
        self.catalogue = catalogue
        #: which version each tenant's locale serves (default: the newest published)
        self.selection = selection or VersionSelection({})
        #: rank by text and questions (False: by the clause text alone, the baseline `kb eval --no-anchors` measures)
        self.anchor_questions = anchor_questions
        self.index = index
        self.embedder = embedder
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._seen_seq = -1
        self._checked_at = 0.0
        self._active: dict[tuple[str, str], Optional[PublishedVersion]] = {}
        self._indexed: set[tuple[str, str, str]] = set()
        self._alternatives: dict[tuple[str, str, str], list[Clause]] = {}
        self._lexical: dict[tuple[str, str, str], LexicalScorer] = {}
        self._cues: dict[tuple[str, str, str], dict[str, np.ndarray]] = {}
        #: per tenant, the classifier of the versions it serves: cleared with ``_active`` when the catalogue changes
        self._tenant_classifier: dict[str, Optional[ClauseClassifier]] = {}
        #: the fits, by tenant and served versions: a catalogue change that leaves them alone does not refit
        self._classifiers: dict[tuple[str, tuple[str, ...]], Optional[ClauseClassifier]] = {}
        self.reindex_count = 0

    def invalidate(self) -> None:
        """Look at the catalogue again on the next call (e.g. on a KnowledgeBasePublished event)."""
        self._checked_at = 0.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.refresh_seconds:
            return
        seq = self.catalogue.max_seq()
        self._checked_at = now
        if seq != self._seen_seq:
            self._seen_seq = seq
            self._active.clear()
            self._tenant_classifier.clear()

    def active_version(self, tenant: str, locale: str) -> Optional[PublishedVersion]:
        """The version served for a tenant's locale (see ``selection``), indexed and ready to search."""
        with self._lock:
            self._refresh()
            key = (tenant, locale)
            if key not in self._active:
                self._active[key] = self.selection.choose(self.catalogue, tenant, locale)
            version = self._active[key]
            if version is not None:
                self._ensure_indexed(version)
            return version

    def warm(self, tenant_locales: list[tuple[str, str]]) -> int:
        """Index the served version of each (tenant, locale) and search it once now rather than on the first
        ticket: a search builds what only searching builds (the embedded index's in-memory points, ~70-300 ms
        a locale, which the first ticket of each locale used to wait for after the drafter said ready)."""
        warmed = 0
        probe = None
        for tenant, locale in tenant_locales:
            version = self.active_version(tenant, locale)
            if version is not None:
                self._lexical_scorer(version)
                self._cue_vectors(version)
                if probe is None:
                    probe = self.embedder.embed(["warm up"], kind="query")[0]
                self.search(tenant, locale, probe, "warm up")
                warmed += 1
        return warmed

    def _ensure_indexed(self, version: PublishedVersion) -> None:
        key = (version.tenant, version.locale, version.kb_version)
        if key in self._indexed:
            return
        clauses, vectors = self.catalogue.clauses_with_vectors(*key)
        points = len(clauses) + sum(len(c.questions) for c in clauses)
        same_embedder = version.embedder == self.embedder.name
        if self.index.count(*key) != points or not same_embedder:
            if not same_embedder or vectors.shape[0] != len(clauses):
                log.info("re-embedding %s/%s@%s: published with %s, searching with %s",
                         *key, version.embedder, self.embedder.name)
                vectors = self.embedder.embed([c.passage for c in clauses], kind="passage")
            self.index.upsert_version(version.tenant, version.locale, clauses, vectors, self.embedder.name,
                                      self._question_vectors(version, clauses))
            self.reindex_count += 1
        self._indexed.add(key)

    def _question_vectors(self, version: PublishedVersion, clauses: list[Clause]) -> list[np.ndarray]:
        """Per clause, its anchoring questions' vectors: the catalogue's when the version was published with this
        reader's embedder, else embedded here."""
        stored = self.catalogue.question_vectors(version.tenant, version.locale, version.kb_version)
        if version.embedder != self.embedder.name or any(q is None for q in stored):
            return embed_questions(self.embedder, clauses)
        return stored

    def _lexical_scorer(self, version: PublishedVersion) -> LexicalScorer:
        key = (version.tenant, version.locale, version.kb_version)
        if key not in self._lexical:
            self._lexical[key] = LexicalScorer(self.catalogue.clauses(*key), questions=self.anchor_questions)
        return self._lexical[key]

    def _cue_vectors(self, version: PublishedVersion) -> dict[str, np.ndarray]:
        """Per clause with ``::: not_when`` cues, their vectors: the catalogue's when the version was
        published with this reader's embedder, else embedded here as queries (once per version)."""
        key = (version.tenant, version.locale, version.kb_version)
        if key not in self._cues:
            clauses = self.catalogue.clauses(*key)
            stored = self.catalogue.not_when_vectors(*key)
            if version.embedder != self.embedder.name or any(v is None for v in stored):
                stored = embed_questions(self.embedder, clauses, field="not_when")
            self._cues[key] = {c.clause_id: v for c, v in zip(clauses, stored) if c.not_when}
        return self._cues[key]

    def search(
        self,
        tenant: str,
        locale: str,
        query_vector: np.ndarray,
        query_text: str = "",
        limit: int = 5,
        on: Optional[dt.date] = None,
        candidates: int = 20,
    ) -> tuple[Optional[PublishedVersion], list[ScoredClause]]:
        """Top clauses in effect ``on`` (default today) of the active version, best first.

        Qdrant returns the ``candidates`` nearest clauses by embedding (each by
        its best match over text and questions); they are re-ranked by
        ``dense + LEXICAL_WEIGHT * lexical`` (``query_text`` given), less the
        not_when penalty for a clause whose cue the request matches
        (``casetrail.knowledge.not_when``).
        """
        version = self.active_version(tenant, locale)
        if version is None:
            return None, []
        on = on or dt.date.today()
        hits = [h for h in self.index.search(tenant, locale, version.kb_version, query_vector,
                                             limit=max(candidates, limit), questions=self.anchor_questions)
                if h.clause.in_effect(on)]
        if query_text and hits:
            with self._lock:
                scorer = self._lexical_scorer(version)
            lexical = scorer.scores(query_text, [h.clause.clause_id for h in hits])
            hits = [
                ScoredClause(h.clause, h.dense + LEXICAL_WEIGHT * float(lx), dense=h.dense, lexical=float(lx),
                             question=h.question)
                for h, lx in zip(hits, lexical)
            ]
            hits.sort(key=lambda h: h.score, reverse=True)
        if hits and self.anchor_questions:
            with self._lock:
                cues = self._cue_vectors(version)
            if cues:
                hits = demote(hits, query_vector, cues)
            classifier = self.clause_classifier(tenant)
            if classifier is not None:
                hits = classifier.rerank(hits, query_vector)
        return version, hits[:limit]

    def clause_classifier(self, tenant: str) -> Optional[ClauseClassifier]:
        """The tenant's clause classifier over the versions it serves now in every locale (refitted when one
        of them changes); None when there are fewer than two clauses or retrieval ignores the questions."""
        if not self.anchor_questions:
            return None
        with self._lock:
            self._refresh()
            if tenant in self._tenant_classifier:  # every search after the first, until the catalogue changes
                return self._tenant_classifier[tenant]
            locales = sorted({v.locale for v in self.catalogue.versions(tenant)})
        served = [v for v in (self.active_version(tenant, locale) for locale in locales) if v is not None]
        key = (tenant, tuple(f"{v.locale}/{v.kb_version}" for v in served))
        with self._lock:
            if key not in self._classifiers:
                self._classifiers = {k: c for k, c in self._classifiers.items() if k[0] != tenant}  # the old fit
                self._classifiers[key] = self._fit_classifier(served)
            self._tenant_classifier[tenant] = self._classifiers[key]
            return self._classifiers[key]

    def _fit_classifier(self, served: list[PublishedVersion]) -> Optional[ClauseClassifier]:
        labels, vectors = [], []
        for version in served:
            clauses = self.catalogue.clauses(version.tenant, version.locale, version.kb_version)
            for clause, own in zip(clauses, self._question_vectors(version, clauses)):
                labels.extend([clause.clause_id] * len(own))
                vectors.extend(own)
        if not vectors:
            return None
        started = time.monotonic()
        classifier = ClauseClassifier.fit(labels, np.asarray(vectors, dtype=np.float32))
        log.info("clause classifier for %s: %d clauses from %d vectors in %.1f s", served[0].tenant,
                 len(classifier.clause_ids) if classifier else 0, len(vectors), time.monotonic() - started)
        return classifier

    def alternatives(self, tenant: str, locale: str, kb_version: str, on: Optional[dt.date] = None) -> list[Clause]:
        """Clauses marked ``alternative=...`` (store credit, exchange) in one version."""
        key = (tenant, locale, kb_version)
        if key not in self._alternatives:
            self._alternatives[key] = [c for c in self.catalogue.clauses(*key) if c.alternative]
        on = on or dt.date.today()
        return [c for c in self._alternatives[key] if c.in_effect(on)]

    def close(self) -> None:
        self.index.close()
