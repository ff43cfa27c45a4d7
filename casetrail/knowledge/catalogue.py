"""The clause catalogue: every published knowledge-base version, readable by any process.

Qdrant's embedded (local) mode locks its folder to one process, while
``casetrail kb publish``, the drafter, the verifier and audit are separate
processes. So the source of truth for published versions is this SQLite
file (WAL mode: many readers, one writer, no server) under
``settings().data_dir``. It keeps every version's clauses, their passage
vectors and the vectors of their anchoring questions forever, which is what keeps ``clause_id@kb_version`` resolvable for
an auditor long after a newer version replaced it. Qdrant is the retrieval
index built from it (see ``casetrail.knowledge.index``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from casetrail.knowledge.clauses import Clause

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kb_versions (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant         TEXT NOT NULL,
    locale         TEXT NOT NULL,
    kb_version     TEXT NOT NULL,
    human_version  TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    embedder       TEXT NOT NULL,
    dimension      INTEGER NOT NULL,
    published_at   TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant, locale, kb_version)
);
CREATE TABLE IF NOT EXISTS clauses (
    tenant          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    kb_version      TEXT NOT NULL,
    clause_id       TEXT NOT NULL,
    title           TEXT NOT NULL,
    text            TEXT NOT NULL,
    section         TEXT NOT NULL DEFAULT '',
    category        TEXT,
    alternative     TEXT,
    effective_from  TEXT,
    effective_until TEXT,
    refs            TEXT NOT NULL DEFAULT '[]',
    source_file     TEXT NOT NULL DEFAULT '',
    line            INTEGER NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL DEFAULT 0,
    vector          BLOB,
    questions       TEXT NOT NULL DEFAULT '[]',
    question_vectors BLOB,
    not_when        TEXT NOT NULL DEFAULT '[]',
    not_when_vectors BLOB,
    PRIMARY KEY (tenant, locale, kb_version, clause_id)
);
"""
# Columns added after the first release: a catalogue written before them is
# migrated in place (its old versions simply have no questions).
_ADDED_COLUMNS = {
    "questions": "TEXT NOT NULL DEFAULT '[]'",
    "question_vectors": "BLOB",
    "not_when": "TEXT NOT NULL DEFAULT '[]'",
    "not_when_vectors": "BLOB",
}


@dataclasses.dataclass(frozen=True)
class PublishedVersion:
    seq: int
    tenant: str
    locale: str
    kb_version: str  # "<human version>+<content hash>"
    human_version: str
    content_hash: str
    embedder: str
    dimension: int
    published_at: dt.datetime
    source: str = ""


def default_catalogue_path() -> Path:
    from casetrail.settings import settings

    return Path(settings().data_dir) / "knowledge" / "catalogue.sqlite3"


def _date(value: Optional[str]) -> Optional[dt.date]:
    return dt.date.fromisoformat(value) if value else None


class Catalogue:
    """SQLite store of published clause versions (thread-safe; one connection per thread)."""

    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else default_catalogue_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)
            present = {row["name"] for row in db.execute("PRAGMA table_info(clauses)")}
            for column, declaration in _ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE clauses ADD COLUMN {column} {declaration}")

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- writing ----------------------------------------------------------
    def add_version(
        self,
        *,
        tenant: str,
        locale: str,
        human_version: str,
        content_hash: str,
        embedder: str,
        clauses: Iterable[Clause],
        vectors: np.ndarray,
        question_vectors: Optional[Sequence[np.ndarray]] = None,
        not_when_vectors: Optional[Sequence[np.ndarray]] = None,
        source: str = "",
        published_at: Optional[dt.datetime] = None,
    ) -> PublishedVersion:
        """Store one version atomically; its clauses get ``kb_version`` stamped.

        ``question_vectors[i]`` holds one row per question of ``clauses[i]``;
        without them the questions are stored and a reader embeds them.
        ``not_when_vectors`` likewise for the clauses' not_when cues.
        """
        clauses = list(clauses)
        if len(clauses) != len(vectors):
            raise ValueError(f"{len(clauses)} clauses but {len(vectors)} vectors")
        if question_vectors is not None:
            question_vectors = [np.asarray(q, dtype=np.float32) for q in question_vectors]
            wrong = [c.clause_id for c, q in zip(clauses, question_vectors) if len(q) != len(c.questions)]
            if len(question_vectors) != len(clauses) or wrong:
                raise ValueError(f"question vectors do not match the clauses' questions: {wrong or 'count'}")
        kb_version = f"{human_version}+{content_hash}"
        published_at = published_at or dt.datetime.now(dt.timezone.utc)
        vectors = np.asarray(vectors, dtype=np.float32)
        dimension = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 0
        db = self._connect()
        with db:
            cursor = db.execute(
                "INSERT INTO kb_versions (tenant, locale, kb_version, human_version, content_hash, embedder,"
                " dimension, published_at, source) VALUES (?,?,?,?,?,?,?,?,?)",
                (tenant, locale, kb_version, human_version, content_hash, embedder, dimension,
                 published_at.isoformat(), source),
            )
            db.executemany(
                "INSERT INTO clauses (tenant, locale, kb_version, clause_id, title, text, section, category,"
                " alternative, effective_from, effective_until, refs, source_file, line, position, vector,"
                " questions, question_vectors, not_when, not_when_vectors) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (tenant, locale, kb_version, c.clause_id, c.title, c.text, c.section, c.category, c.alternative,
                     c.effective_from.isoformat() if c.effective_from else None,
                     c.effective_until.isoformat() if c.effective_until else None,
                     json.dumps(list(c.references)), c.source_file, c.line, position, vectors[position].tobytes(),
                     json.dumps(list(c.questions), ensure_ascii=False),
                     question_vectors[position].tobytes() if question_vectors is not None and c.questions else None,
                     json.dumps(list(c.not_when), ensure_ascii=False),
                     np.asarray(not_when_vectors[position], dtype=np.float32).tobytes()
                     if not_when_vectors is not None and c.not_when else None)
                    for position, c in enumerate(clauses)
                ],
            )
        return PublishedVersion(cursor.lastrowid, tenant, locale, kb_version, human_version, content_hash,
                                embedder, dimension, published_at, source)

    # -- reading ----------------------------------------------------------
    @staticmethod
    def _version(row: sqlite3.Row) -> PublishedVersion:
        return PublishedVersion(
            row["seq"], row["tenant"], row["locale"], row["kb_version"], row["human_version"], row["content_hash"],
            row["embedder"], row["dimension"], dt.datetime.fromisoformat(row["published_at"]), row["source"],
        )

    @staticmethod
    def _clause(row: sqlite3.Row) -> Clause:
        return Clause(
            clause_id=row["clause_id"], title=row["title"], text=row["text"], locale=row["locale"],
            section=row["section"], category=row["category"], alternative=row["alternative"],
            effective_from=_date(row["effective_from"]), effective_until=_date(row["effective_until"]),
            references=tuple(json.loads(row["refs"])), source_file=row["source_file"], line=row["line"],
            kb_version=row["kb_version"], questions=tuple(json.loads(row["questions"])),
            not_when=tuple(json.loads(row["not_when"])),
        )

    def latest(self, tenant: str, locale: str) -> Optional[PublishedVersion]:
        row = self._connect().execute(
            "SELECT * FROM kb_versions WHERE tenant=? AND locale=? ORDER BY seq DESC LIMIT 1", (tenant, locale)
        ).fetchone()
        return self._version(row) if row else None

    def version(self, tenant: str, locale: str, kb_version: str) -> Optional[PublishedVersion]:
        row = self._connect().execute(
            "SELECT * FROM kb_versions WHERE tenant=? AND locale=? AND kb_version=?", (tenant, locale, kb_version)
        ).fetchone()
        return self._version(row) if row else None

    def versions(self, tenant: Optional[str] = None, locale: Optional[str] = None) -> list[PublishedVersion]:
        query, args = "SELECT * FROM kb_versions WHERE 1=1", []
        if tenant:
            query, args = query + " AND tenant=?", [*args, tenant]
        if locale:
            query, args = query + " AND locale=?", [*args, locale]
        return [self._version(r) for r in self._connect().execute(query + " ORDER BY seq", args)]

    def locales(self, tenant: str) -> list[str]:
        rows = self._connect().execute("SELECT DISTINCT locale FROM kb_versions WHERE tenant=? ORDER BY locale", (tenant,))
        return [r[0] for r in rows]

    def max_seq(self) -> int:
        """Changes whenever anything is published: a cheap staleness check for indexes."""
        row = self._connect().execute("SELECT COALESCE(MAX(seq), 0) FROM kb_versions").fetchone()
        return int(row[0])

    def clauses(self, tenant: str, locale: str, kb_version: str) -> list[Clause]:
        rows = self._connect().execute(
            "SELECT * FROM clauses WHERE tenant=? AND locale=? AND kb_version=? ORDER BY position",
            (tenant, locale, kb_version),
        )
        return [self._clause(r) for r in rows]

    def clauses_with_vectors(self, tenant: str, locale: str, kb_version: str) -> tuple[list[Clause], np.ndarray]:
        rows = list(self._connect().execute(
            "SELECT * FROM clauses WHERE tenant=? AND locale=? AND kb_version=? ORDER BY position",
            (tenant, locale, kb_version),
        ))
        vectors = [np.frombuffer(r["vector"], dtype=np.float32) for r in rows]
        return [self._clause(r) for r in rows], (np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32))

    def question_vectors(self, tenant: str, locale: str, kb_version: str) -> list[Optional[np.ndarray]]:
        """Per clause (in position order): its questions' vectors, one row each, or None when not stored."""
        return self._item_vectors("questions", "question_vectors", tenant, locale, kb_version)

    def not_when_vectors(self, tenant: str, locale: str, kb_version: str) -> list[Optional[np.ndarray]]:
        """Per clause (in position order): its not_when cues' vectors, one row each, or None when not stored."""
        return self._item_vectors("not_when", "not_when_vectors", tenant, locale, kb_version)

    def _item_vectors(self, items: str, vectors: str, tenant: str, locale: str, kb_version: str) -> list[Optional[np.ndarray]]:
        rows = self._connect().execute(
            f"SELECT {items}, {vectors} FROM clauses WHERE tenant=? AND locale=? AND kb_version=? ORDER BY position",
            (tenant, locale, kb_version),
        )
        found: list[Optional[np.ndarray]] = []
        for row in rows:
            count = len(json.loads(row[items]))
            if not count:
                found.append(np.zeros((0, 0), np.float32))
            elif row[vectors] is None:
                found.append(None)
            else:
                found.append(np.frombuffer(row[vectors], dtype=np.float32).reshape(count, -1))
        return found

    def resolve(self, tenant: str, locale: str, clause_id: str, kb_version: str) -> Optional[Clause]:
        row = self._connect().execute(
            "SELECT * FROM clauses WHERE tenant=? AND locale=? AND kb_version=? AND clause_id=?",
            (tenant, locale, kb_version, clause_id),
        ).fetchone()
        return self._clause(row) if row else None

    def find(self, tenant: str, clause_id: str, kb_version: str) -> list[Clause]:
        """A clause at a version in any locale (when the caller does not know the KB locale)."""
        rows = self._connect().execute(
            "SELECT * FROM clauses WHERE tenant=? AND kb_version=? AND clause_id=? ORDER BY locale",
            (tenant, kb_version, clause_id),
        )
        return [self._clause(r) for r in rows]
