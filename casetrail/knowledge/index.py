"""The retrieval index: one Qdrant collection per tenant and locale.

A clause of one knowledge-base version is several points: one for its text
(``anchor: "text"``, the passage embedding) and one per question it answers
(``anchor: "question"``, the question embedded as a query, since it is one).
Every point carries the whole clause in its payload: ``clause_id``,
``kb_version`` (human version + content hash), ``title``, ``text``,
questions, effective dates and the embedder's name, so a search filtered on
``kb_version`` returns only the active version while older versions remain
in the collection (and, whatever happens to the index, in the catalogue).
A search groups the points by ``clause_id``: one hit per clause, scored by
its best match over its text and its questions. Points written before
questions existed have no ``anchor`` and count as text.

Two ways to run it:

* **server** (``QDRANT_URL`` set): every process talks to the same server;
  ``casetrail kb publish`` upserts there directly.
* **embedded local mode** (default): Qdrant locks its folder to one process,
  so the index belongs to the process that searches it (the drafter) and is
  (re)built from the catalogue on start and whenever a new version appears.
  A folder already locked by another process falls back to in-memory mode.
  Searches in this mode rank in-process over the version's vectors
  (``casetrail.knowledge.local_search`` says why); Qdrant stores the points.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import uuid
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.local_search import VersionPoints

log = logging.getLogger(__name__)
_POINT_NAMESPACE = uuid.UUID("6b1d3c8e-2f0a-4c57-9a51-6f0c3b7d2e10")
_UPSERT_BATCH = 256  # points per request: keeps a server request small whatever the KB's size


class QdrantUnavailable(RuntimeError):
    """Qdrant did not answer (server down, timeout, 5xx): transient, retry later."""


@dataclasses.dataclass(frozen=True)
class ScoredClause:
    clause: Clause
    score: float  # what ranks: dense cosine, plus the lexical term once the reader added it
    dense: float = 0.0  # best cosine of the query with the clause's text or one of its questions
    lexical: float = 0.0  # character n-gram TF-IDF cosine (casetrail.knowledge.lexical)
    question: Optional[str] = None  # the anchoring question that matched best; None: the clause text did
    #: the clause's not_when phrasing the request matched, when retrieval demoted it (casetrail.knowledge.not_when)
    demoted_by: Optional[str] = None
    #: P(this clause | request) from the tenant's clause classifier (casetrail.knowledge.clause_classifier): it orders
    #: the hits but is not part of ``score``
    classifier_probability: float = 0.0


def collection_name(tenant: str, locale: str) -> str:
    """``casetrail_kb_<tenant>_<locale>`` with anything but [a-z0-9_-] replaced."""
    safe = re.sub(r"[^a-z0-9_-]+", "_", f"{tenant}_{locale}".lower())
    return f"casetrail_kb_{safe}"


def point_id(tenant: str, locale: str, kb_version: str, clause_id: str, question: Optional[int] = None) -> str:
    """The clause text's point id, or its ``question``-th question's (stable, so re-upserting overwrites)."""
    suffix = "" if question is None else f"?{question}"
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{tenant}/{locale}/{kb_version}/{clause_id}{suffix}"))


def clause_payload(clause: Clause, tenant: str, embedder: str) -> dict:
    return {
        "tenant": tenant,
        "locale": clause.locale,
        "clause_id": clause.clause_id,
        "kb_version": clause.kb_version,
        "title": clause.title,
        "text": clause.text,
        "section": clause.section,
        "category": clause.category,
        "alternative": clause.alternative,
        "effective_from": clause.effective_from.isoformat() if clause.effective_from else None,
        "effective_until": clause.effective_until.isoformat() if clause.effective_until else None,
        "references": list(clause.references),
        "source_file": clause.source_file,
        "line": clause.line,
        "questions": list(clause.questions),
        "not_when": list(clause.not_when),
        "embedder": embedder,
        "anchor": "text",
    }


def clause_from_payload(payload: dict) -> Clause:
    def date(key: str) -> Optional[dt.date]:
        return dt.date.fromisoformat(payload[key]) if payload.get(key) else None

    return Clause(
        clause_id=payload["clause_id"], title=payload.get("title", ""), text=payload.get("text", ""),
        locale=payload.get("locale", ""), section=payload.get("section", ""), category=payload.get("category"),
        alternative=payload.get("alternative"), effective_from=date("effective_from"),
        effective_until=date("effective_until"), references=tuple(payload.get("references", ())),
        source_file=payload.get("source_file", ""), line=int(payload.get("line", 0)), kb_version=payload["kb_version"],
        questions=tuple(payload.get("questions", ())), not_when=tuple(payload.get("not_when", ())),
    )


def clause_points(
    tenant: str, locale: str, clauses: Sequence[Clause], vectors: np.ndarray,
    question_vectors: Optional[Sequence[np.ndarray]], embedder: str,
) -> list:
    """The Qdrant points of one version: each clause's text, then each of its questions."""
    from qdrant_client import models

    points = []
    for i, clause in enumerate(clauses):
        payload = clause_payload(clause, tenant, embedder)
        points.append(models.PointStruct(id=point_id(tenant, locale, clause.kb_version, clause.clause_id),
                                         vector=np.asarray(vectors[i], dtype=np.float32).tolist(), payload=payload))
        if question_vectors is None:
            continue
        for n, (question, vector) in enumerate(zip(clause.questions, question_vectors[i])):
            points.append(models.PointStruct(
                id=point_id(tenant, locale, clause.kb_version, clause.clause_id, n),
                vector=np.asarray(vector, dtype=np.float32).tolist(),
                payload={**payload, "anchor": "question", "question": question},
            ))
    return points


def _transient(exc: BaseException) -> bool:
    """Is this a Qdrant/transport failure (retry) rather than a bug (raise)?"""
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, (ResponseHandlingException, httpx.TransportError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code is None or exc.status_code >= 500 or exc.status_code == 429
    try:
        import grpc

        return isinstance(exc, grpc.RpcError)
    except ImportError:  # pragma: no cover - grpc ships with qdrant-client
        return False


class RetrievalIndex:
    """Clause vectors in Qdrant, one collection per tenant and locale."""

    def __init__(self, client, *, mode: str):
        self.client = client
        self.mode = mode  # "server" | "local" | "memory"
        self._dimensions: dict[str, int] = {}
        self._local_points: dict[tuple[str, str], VersionPoints] = {}  # (collection, kb_version), embedded modes only

    # -- construction -------------------------------------------------------
    @classmethod
    def server(cls, url: str, api_key: Optional[str] = None, timeout: float = 10.0) -> "RetrievalIndex":
        from qdrant_client import QdrantClient

        return cls(QdrantClient(url=url, api_key=api_key, timeout=int(timeout)), mode="server")

    @classmethod
    def local(cls, path: Optional[Path]) -> "RetrievalIndex":
        """Embedded Qdrant in ``path`` (or in memory for ``None``); a locked folder falls back to memory."""
        from qdrant_client import QdrantClient

        if path is None:
            return cls(QdrantClient(location=":memory:"), mode="memory")
        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            return cls(QdrantClient(path=str(path)), mode="local")
        except RuntimeError as exc:  # "Storage folder ... is already accessed by another instance"
            log.warning("embedded Qdrant folder %s is in use by another process (%s); using an in-memory index", path, exc)
            return cls(QdrantClient(location=":memory:"), mode="memory")

    @classmethod
    def from_settings(cls, owner: str = "drafter") -> "RetrievalIndex":
        """Server when ``QDRANT_URL`` is set, else embedded Qdrant in ``<data_dir>/qdrant/<owner>``."""
        from casetrail.settings import settings

        config = settings()
        if config.qdrant_url:
            key = config.qdrant_api_key.get_secret_value() if config.qdrant_api_key else None
            return cls.server(config.qdrant_url, key)
        return cls.local(Path(config.data_dir) / "qdrant" / owner)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing a dead connection is not worth failing shutdown for
            pass

    # -- writing ------------------------------------------------------------
    def _ensure_collection(self, name: str, dimension: int) -> None:
        from qdrant_client import models

        if self._dimensions.get(name) == dimension:
            return
        if self.client.collection_exists(name):
            info = self.client.get_collection(name)
            vectors = info.config.params.vectors
            existing = vectors.size if hasattr(vectors, "size") else None
            if existing == dimension:
                self._dimensions[name] = dimension
                return
            if self.mode == "server":
                raise ValueError(
                    f"Qdrant collection {name} holds {existing}-dimensional vectors but the embedder gives {dimension}; "
                    "delete the collection (or republish with the original embedder)"
                )
            # A local index is only a cache of the catalogue: rebuild it for the new embedder.
            self.client.delete_collection(name)
        self.client.create_collection(
            name, vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE)
        )
        if self.mode == "server":
            for field in ("kb_version", "clause_id"):
                self.client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)
        self._dimensions[name] = dimension

    def upsert_version(
        self, tenant: str, locale: str, clauses: Sequence[Clause], vectors: np.ndarray, embedder: str,
        question_vectors: Optional[Sequence[np.ndarray]] = None,
    ) -> str:
        """Upsert one version's clauses (stamped with ``kb_version``) and, given
        ``question_vectors[i]`` (one row per question of ``clauses[i]``), their
        questions; returns the collection name."""
        name = collection_name(tenant, locale)
        vectors = np.asarray(vectors, dtype=np.float32)
        points = clause_points(tenant, locale, clauses, vectors, question_vectors, embedder)
        try:
            self._ensure_collection(name, int(vectors.shape[1]))
            for start in range(0, len(points), _UPSERT_BATCH):
                self.client.upsert(name, points=points[start:start + _UPSERT_BATCH], wait=True)
        except Exception as exc:
            if _transient(exc):
                raise QdrantUnavailable(f"Qdrant upsert into {name} failed: {type(exc).__name__}: {exc}") from exc
            raise
        if self.mode != "server":
            for kb_version in {c.kb_version for c in clauses}:
                self._local_points.pop((name, kb_version), None)  # rebuilt from Qdrant on the next search
        return name

    def _version_points(self, name: str, kb_version: str) -> VersionPoints:
        """One version's points as stored in the embedded Qdrant, kept in memory for in-process search."""
        key = (name, kb_version)
        if key not in self._local_points:
            records, offset = [], None
            if self.client.collection_exists(name):
                while True:
                    batch, offset = self.client.scroll(name, scroll_filter=self._version_filter(kb_version), limit=1024,
                                                       offset=offset, with_payload=True, with_vectors=True)
                    records.extend(batch)
                    if offset is None:
                        break
            is_text = [r.payload.get("anchor", "text") == "text" for r in records]  # old points have no anchor
            clauses = [clause_from_payload(r.payload) for r, text in zip(records, is_text) if text]
            position = {c.clause_id: i for i, c in enumerate(clauses)}
            rows = [(position[r.payload["clause_id"]], None if text else r.payload.get("question"), r.vector)
                    for r, text in zip(records, is_text) if r.payload["clause_id"] in position]
            self._local_points[key] = VersionPoints.build(clauses, rows)
        return self._local_points[key]

    # -- reading ------------------------------------------------------------
    @staticmethod
    def _version_filter(kb_version: str, clause_id: Optional[str] = None, text_only: bool = False):
        from qdrant_client import models

        must = [models.FieldCondition(key="kb_version", match=models.MatchValue(value=kb_version))]
        if clause_id:
            must.append(models.FieldCondition(key="clause_id", match=models.MatchValue(value=clause_id)))
        # must_not rather than must anchor == "text": points written before questions existed have no anchor.
        must_not = [models.FieldCondition(key="anchor", match=models.MatchValue(value="question"))] if text_only else None
        return models.Filter(must=must, must_not=must_not)

    def count(self, tenant: str, locale: str, kb_version: str) -> int:
        """Points of one version: its clauses plus their questions."""
        name = collection_name(tenant, locale)
        try:
            if not self.client.collection_exists(name):
                return 0
            return self.client.count(name, count_filter=self._version_filter(kb_version), exact=True).count
        except Exception as exc:
            if _transient(exc):
                raise QdrantUnavailable(f"Qdrant count on {name} failed: {type(exc).__name__}: {exc}") from exc
            raise

    def search(
        self, tenant: str, locale: str, kb_version: str, vector: np.ndarray, limit: int = 5, questions: bool = True,
    ) -> list[ScoredClause]:
        """The ``limit`` best clauses, one hit each, scored by their best point (text or question).

        ``questions=False`` ranks by the clause text alone (the baseline ``casetrail kb eval --no-anchors`` measures).
        """
        name = collection_name(tenant, locale)
        if self.mode != "server":
            return [ScoredClause(clause, score, dense=score, question=question)
                    for clause, score, question in self._version_points(name, kb_version).search(vector, limit, questions)]
        try:
            response = self.client.query_points_groups(
                name, group_by="clause_id", query=np.asarray(vector, dtype=np.float32).tolist(),
                query_filter=self._version_filter(kb_version, text_only=not questions),
                limit=limit, group_size=1, with_payload=True,
            )
        except Exception as exc:
            if _transient(exc):
                raise QdrantUnavailable(f"Qdrant search on {name} failed: {type(exc).__name__}: {exc}") from exc
            raise
        hits = []
        for group in response.groups:
            best = group.hits[0]
            question = best.payload.get("question") if best.payload.get("anchor") == "question" else None
            hits.append(ScoredClause(clause_from_payload(best.payload), float(best.score), dense=float(best.score),
                                     question=question))
        return hits

    def fetch(self, tenant: str, locale: str, clause_id: str, kb_version: str) -> Optional[Clause]:
        name = collection_name(tenant, locale)
        try:
            if not self.client.collection_exists(name):
                return None
            points, _ = self.client.scroll(
                name, scroll_filter=self._version_filter(kb_version, clause_id), limit=1, with_payload=True
            )
        except Exception as exc:
            if _transient(exc):
                raise QdrantUnavailable(f"Qdrant lookup on {name} failed: {type(exc).__name__}: {exc}") from exc
            raise
        return clause_from_payload(points[0].payload) if points else None
