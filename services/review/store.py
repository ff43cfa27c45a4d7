"""The console's projection store (SQLite): events by conversation, the cases folded from them,
the console's own action log, and the evaluation examples agents' corrections make.

It is a projection of the log, like the audit store: ``events`` holds each
record's Avro bytes exactly as read (deduplicated by event id), ``cases`` is
``fold_case`` of a conversation's events, so dropping the file and replaying
the topics (``casetrail review rebuild``) gives the same cases. The action log
(who looked at, revealed or acted on what) is the console's own record and is
not rebuilt; every action that changes a case is also an ``AgentFeedback``
event on the log.

One connection per thread (the consumer thread and the web workers), WAL mode
so readers never wait for the consumer's batch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Optional

from services.review.cases import Case, CaseState, HistoryEntry, OPEN_STATES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id        TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    type            TEXT NOT NULL,
    value           BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_conversation ON events(conversation_id);
CREATE TABLE IF NOT EXISTS cases (
    conversation_id TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    state           TEXT NOT NULL,
    is_open         INTEGER NOT NULL,
    queue           TEXT NOT NULL,
    locale          TEXT NOT NULL,
    category        TEXT NOT NULL,
    priority        TEXT NOT NULL,
    vip             INTEGER NOT NULL,
    sla_due_at      TEXT,
    due_sort        TEXT NOT NULL,  -- sla_due_at, or '~' (after every date) for a case without SLA
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    first_action_at TEXT,
    body            TEXT NOT NULL
);
-- The queue: ordered by due time within a tenant's open cases, optionally one team, language or
-- category; each index also covers the sidebar's counts, so neither reads a case's body.
CREATE INDEX IF NOT EXISTS open_cases_by_due ON cases(tenant, is_open, due_sort, conversation_id);
CREATE INDEX IF NOT EXISTS open_cases_by_queue ON cases(tenant, is_open, queue, due_sort, conversation_id);
CREATE INDEX IF NOT EXISTS open_cases_by_locale ON cases(tenant, is_open, locale, due_sort, conversation_id);
CREATE INDEX IF NOT EXISTS open_cases_by_category ON cases(tenant, is_open, category, due_sort, conversation_id);
CREATE TABLE IF NOT EXISTS actions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    role            TEXT NOT NULL,
    action          TEXT NOT NULL,
    conversation_id TEXT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS actions_by_case ON actions(tenant, conversation_id);
CREATE TABLE IF NOT EXISTS examples (
    example_id      TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    label           TEXT NOT NULL,
    key_id          TEXT,
    sealed_text     TEXT,
    body            TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS examples_by_tenant ON examples(tenant, locale);
CREATE INDEX IF NOT EXISTS examples_by_key ON examples(key_id);
-- Erasure (PersonalDataErased): a conversation's customer (casetrail.privacy.customer_key, never the id)
-- from its DraftVerified, and the customers erased, so that their conversations' events, cases,
-- examples and action details are deleted, and events of before the erasure never come back.
CREATE TABLE IF NOT EXISTS conversation_customers (
    conversation_id TEXT PRIMARY KEY,
    customer_key    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversation_customers_by_customer ON conversation_customers(customer_key);
CREATE TABLE IF NOT EXISTS erased_customers (
    customer_key    TEXT PRIMARY KEY,
    erased_at       TEXT NOT NULL
);
"""

QUEUE_FILTERS = ("queue", "locale", "category", "state")


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.astimezone(dt.timezone.utc).isoformat() if value is not None else None


def _when(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def case_to_json(case: Case) -> str:
    def default(value):
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, CaseState):
            return value.value
        raise TypeError(type(value).__name__)

    return json.dumps(dataclasses.asdict(case), default=default, separators=(",", ":"))


def case_from_json(text: str) -> Case:
    data = json.loads(text)
    data["state"] = CaseState(data["state"])
    for name in ("opened_at", "updated_at", "sla_due_at", "first_action_at"):
        data[name] = _when(data.get(name))
    data["history"] = [HistoryEntry(at=_when(h["at"]), kind=h["kind"], actor=h["actor"], detail=h["detail"])
                       for h in data.get("history", [])]
    return Case(**data)


class ReviewStore:
    def __init__(self, path: Optional[Path | str] = None):
        if path is None:
            from casetrail.settings import settings

            path = settings().data_dir / "review" / "review.sqlite3"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.connection.executescript(_SCHEMA)

    @property
    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            # Deleted and replaced rows are zeroed, not left in free space: an erased customer's
            # case bodies and events are gone from the file, not only from the tables.
            connection.execute("PRAGMA secure_delete=ON")
            self._local.connection = connection
            with self._lock:
                self._all.append(connection)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()

    # -- the log -------------------------------------------------------------
    def add_events(self, rows: Iterable[tuple[str, str, str, str, bytes]], *,
                   customers: Optional[dict[str, str]] = None, occurred_at: Optional[dict[str, str]] = None) -> set[str]:
        """Store ``(event_id, conversation_id, tenant, type, value)``; the conversations that got a new event
        (or lost their events: a conversation found to be an erased customer's).

        ``customers``: conversation id -> customer key (from DraftVerified); ``occurred_at``: event id ->
        ISO time. An event of an erased customer's conversation that occurred before the erasure is not
        stored (a replay of the log, a late record)."""
        touched: set[str] = set()
        occurred_at = occurred_at or {}
        connection = self.connection
        connection.execute("BEGIN")
        try:
            for conversation_id, customer in (customers or {}).items():
                known = connection.execute("INSERT OR IGNORE INTO conversation_customers VALUES (?, ?)",
                                           (conversation_id, customer)).rowcount
                if known and self._erased_at(conversation_id) is not None:
                    # learnt only now (a rebuild reads the topics in no common order): what came first goes
                    connection.execute("DELETE FROM events WHERE conversation_id = ?", (conversation_id,))
                    touched.add(conversation_id)
            for row in rows:
                erased_at = self._erased_at(row[1])
                if erased_at is not None and occurred_at.get(row[0], "") <= erased_at:
                    continue
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO events(event_id, conversation_id, tenant, type, value) VALUES (?,?,?,?,?)",
                    row)
                if cursor.rowcount:
                    touched.add(row[1])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return touched

    def _erased_at(self, conversation_id: str) -> Optional[str]:
        row = self.connection.execute(
            "SELECT erased.erased_at FROM conversation_customers AS owner JOIN erased_customers AS erased "
            "ON erased.customer_key = owner.customer_key WHERE owner.conversation_id = ?", (conversation_id,)).fetchone()
        return row[0] if row else None

    def erase_customer(self, customer_key: str, erased_at: str) -> list[str]:
        """Delete everything kept of the customer's conversations (events, cases, examples; the details of
        the actions on them) and remember the erasure; returns the conversation ids. The WAL is then
        checkpointed, so the deleted pages' old images leave the WAL file too."""
        connection = self.connection
        connection.execute("BEGIN")
        try:
            connection.execute("INSERT INTO erased_customers VALUES (?, ?) ON CONFLICT(customer_key) DO UPDATE "
                               "SET erased_at = max(erased_at, excluded.erased_at)", (customer_key, erased_at))
            conversations = [row[0] for row in connection.execute(
                "SELECT conversation_id FROM conversation_customers WHERE customer_key = ?", (customer_key,))]
            for conversation_id in conversations:
                for table in ("events", "cases", "examples"):
                    connection.execute(f"DELETE FROM {table} WHERE conversation_id = ?", (conversation_id,))
                connection.execute("UPDATE actions SET detail = '' WHERE conversation_id = ?", (conversation_id,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return conversations

    def event_values(self, conversation_id: str) -> list[tuple[str, bytes]]:
        rows = self.connection.execute("SELECT type, value FROM events WHERE conversation_id = ?", (conversation_id,))
        return [(row["type"], bytes(row["value"])) for row in rows]

    # -- cases ---------------------------------------------------------------
    def put_cases(self, cases: Iterable[Case], removed: Iterable[str] = ()) -> None:
        connection = self.connection
        connection.execute("BEGIN")
        try:
            for case in cases:
                connection.execute(
                    "INSERT OR REPLACE INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (case.conversation_id, case.tenant, case.state.value, int(case.state in OPEN_STATES),
                     case.queue, case.locale, case.category, case.priority, int(case.vip), _iso(case.sla_due_at),
                     _iso(case.sla_due_at) or "~", _iso(case.opened_at), _iso(case.updated_at), _iso(case.first_action_at), case_to_json(case)))
            for conversation_id in removed:
                connection.execute("DELETE FROM cases WHERE conversation_id = ?", (conversation_id,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def case(self, tenant: str, conversation_id: str) -> Optional[Case]:
        """The case, only when it belongs to ``tenant`` (another tenant's case does not exist here)."""
        row = self.connection.execute("SELECT body FROM cases WHERE conversation_id = ? AND tenant = ?",
                                      (conversation_id, tenant)).fetchone()
        return case_from_json(row["body"]) if row else None

    def queue(self, tenant: str, *, open_only: bool = True, limit: int = 50, offset: int = 0,
              **filters: Optional[str]) -> tuple[list[Case], int]:
        """Cases of ``tenant`` ordered by SLA due time (none last), and how many match in all."""
        where, params = ["tenant = ?"], [tenant]
        if open_only:
            where.append("is_open = 1")
        for name in QUEUE_FILTERS:
            if filters.get(name):
                where.append(f"{name} = ?")
                params.append(filters[name])
        clause = " AND ".join(where)
        total = self.connection.execute(f"SELECT count(*) FROM cases WHERE {clause}", params).fetchone()[0]
        # The page's ids from the index alone, then only those bodies (a deep page skips index entries,
        # not case bodies).
        ids = [row[0] for row in self.connection.execute(
            f"SELECT conversation_id FROM cases WHERE {clause} ORDER BY due_sort, conversation_id LIMIT ? OFFSET ?",
            [*params, limit, offset])]
        if not ids:
            return [], total
        bodies = {row[0]: row[1] for row in self.connection.execute(
            f"SELECT conversation_id, body FROM cases WHERE conversation_id IN ({','.join('?' * len(ids))})", ids)}
        return [case_from_json(bodies[i]) for i in ids], total

    def facets(self, tenant: str) -> dict[str, list[tuple[str, int]]]:
        """Open-case counts of ``tenant`` per queue, locale and category (the filter sidebar)."""
        out = {}
        for column in ("queue", "locale", "category"):
            rows = self.connection.execute(
                f"SELECT {column} AS value, count(*) AS n FROM cases WHERE tenant = ? AND is_open = 1 "
                f"GROUP BY {column} ORDER BY n DESC, value", (tenant,))
            out[column] = [(row["value"], row["n"]) for row in rows]
        return out

    def queue_stats(self) -> list[dict]:
        """Depth and oldest open time per tenant and queue (for the metrics)."""
        rows = self.connection.execute(
            "SELECT tenant, queue, count(*) AS depth, min(opened_at) AS oldest, min(sla_due_at) AS next_due "
            "FROM cases WHERE is_open = 1 GROUP BY tenant, queue")
        return [dict(row) for row in rows]

    # -- the console's action log ---------------------------------------------
    def record_action(self, *, tenant: str, actor: str, role: str, action: str,
                      conversation_id: Optional[str] = None, detail: str = "") -> None:
        self.connection.execute(
            "INSERT INTO actions(at, tenant, actor, role, action, conversation_id, detail) VALUES (?,?,?,?,?,?,?)",
            (_iso(dt.datetime.now(dt.timezone.utc)), tenant, actor, role, action, conversation_id, detail))

    def actions(self, tenant: str, conversation_id: Optional[str] = None, limit: int = 200) -> list[dict]:
        if conversation_id is None:
            rows = self.connection.execute("SELECT * FROM actions WHERE tenant = ? ORDER BY id DESC LIMIT ?",
                                           (tenant, limit))
        else:
            rows = self.connection.execute(
                "SELECT * FROM actions WHERE tenant = ? AND conversation_id = ? ORDER BY id DESC LIMIT ?",
                (tenant, conversation_id, limit))
        return [dict(row) for row in rows]

    # -- evaluation examples --------------------------------------------------
    def example_ids(self, conversation_id: str) -> set[str]:
        rows = self.connection.execute("SELECT example_id FROM examples WHERE conversation_id = ?", (conversation_id,))
        return {row["example_id"] for row in rows}

    def put_example(self, *, example_id: str, tenant: str, locale: str, conversation_id: str, label: str,
                    key_id: Optional[str], sealed_text: Optional[str], body: dict) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO examples VALUES (?,?,?,?,?,?,?,?,?)",
            (example_id, tenant, locale, conversation_id, label, key_id, sealed_text,
             json.dumps(body, sort_keys=True), _iso(dt.datetime.now(dt.timezone.utc))))

    def examples(self, tenant: str, locale: Optional[str] = None) -> list[dict]:
        query, params = "SELECT * FROM examples WHERE tenant = ?", [tenant]
        if locale:
            query += " AND locale = ?"
            params.append(locale)
        rows = self.connection.execute(query + " ORDER BY updated_at, example_id", params)
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    def erase_key(self, key_id: str) -> int:
        """Drop every example sealed under an erased customer key (crypto-shredding follow-up)."""
        return self.connection.execute("DELETE FROM examples WHERE key_id = ?", (key_id,)).rowcount

    def counts(self) -> dict[str, int]:
        return {table: self.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("events", "cases", "actions", "examples")}
