"""casetrail's versioned knowledge base, shared by the drafter, the verifier and audit.

Readers resolve a citation ``clause_id@kb_version`` with::

    from casetrail.knowledge import resolve
    clause = resolve("acme-shop", "en", "refunds.window", "1+3f2a9c0d1e4b")  # Clause | None

``resolve`` reads the clause catalogue (SQLite under ``settings().data_dir``,
every published version kept forever) and, when ``QDRANT_URL`` is set and the
catalogue does not hold the version, the Qdrant server's payloads.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from casetrail.knowledge.catalogue import Catalogue, PublishedVersion, default_catalogue_path
from casetrail.knowledge.clauses import Clause, KnowledgeBaseError, LocaleKnowledgeBase, Problem, load_locale, load_tenant
from casetrail.knowledge.index import QdrantUnavailable, RetrievalIndex, ScoredClause, collection_name

_catalogues: dict[Path, Catalogue] = {}
_catalogues_lock = threading.Lock()


def catalogue(path: Optional[Path] = None) -> Catalogue:
    """The process-wide catalogue for ``path`` (default: ``<data_dir>/knowledge/catalogue.sqlite3``)."""
    path = Path(path) if path else default_catalogue_path()
    with _catalogues_lock:
        if path not in _catalogues:
            _catalogues[path] = Catalogue(path)
        return _catalogues[path]


def parse_ref(ref: str) -> tuple[str, str]:
    """``"refunds.window@1+3f2a9c0d1e4b"`` -> ``("refunds.window", "1+3f2a9c0d1e4b")``."""
    clause_id, sep, kb_version = ref.partition("@")
    if not sep or not clause_id or not kb_version:
        raise ValueError(f"{ref!r} is not a citation 'clause_id@kb_version'")
    return clause_id, kb_version


def resolve(
    tenant: str, locale: str, clause_id: str, kb_version: str, *, catalogue_path: Optional[Path] = None
) -> Optional[Clause]:
    """The clause ``clause_id`` exactly as published in ``kb_version`` for ``tenant``/``locale``, or None.

    ``locale`` is the KB locale the clause was retrieved from (``Draft.kb_locale``,
    which differs from the conversation's locale on a fallback); ``""`` searches
    every locale of the tenant. Never raises for an unknown clause or version.
    """
    store = catalogue(catalogue_path)
    if locale:
        found = store.resolve(tenant, locale, clause_id, kb_version)
    else:
        matches = store.find(tenant, clause_id, kb_version)
        found = matches[0] if matches else None
    if found is not None or not locale:
        return found
    from casetrail.settings import settings

    if settings().qdrant_url:
        index = RetrievalIndex.from_settings()
        try:
            return index.fetch(tenant, locale, clause_id, kb_version)
        finally:
            index.close()
    return None


__all__ = [
    "Catalogue", "Clause", "KnowledgeBaseError", "LocaleKnowledgeBase", "Problem", "PublishedVersion",
    "QdrantUnavailable", "RetrievalIndex", "ScoredClause", "catalogue", "collection_name", "load_locale",
    "load_tenant", "parse_ref", "resolve",
]
