"""Rebuild of an empty embedded (SQLite) store that writes every event row once.

The general path (``AuditStore.ingest_rows`` then ``rechain_all``) inserts each
row with an empty chain position and then rewrites it — a ~1.6 KB row written
twice, and every row sent back to the main process. A rebuild has the whole
log, so it can compute each row completely before the store sees it:

1. **stage** (worker processes): decode and reduce a batch of values, append
   the rows to the worker's own staging SQLite file (no index, no lock shared
   with anyone); only counts go back to the main process;
2. **index** the staging files by ``(chain_key, sort_key)`` and ``related_id``
   (one task per file, in parallel);
3. **chain** (worker processes): for a range of chain keys, read the range's
   rows from every staging file, compute order, hash chain, erasure scrubbing
   and summary with the same ``iter_chains`` as every other path, and insert
   the finished rows, chain heads and summaries into the store (each worker
   through its own connection, one transaction per range).

Memory stays bounded: the log lives in the staging files, a worker holds one
range of chains at a time. The result equals the general path's: rows are
deduplicated by event id, and the one case this path does not decide the
general way — two *different* records under one event id — is detected (a
range sees both, or the second insert of the id conflicts) and then the
store is filled from the staging files through the general path instead.

The staging files live in a directory next to the store and are removed at
the end. PostgreSQL (and a store that is not empty) use the general path.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import orjson
import sqlalchemy as sa

from services.audit.schema import chains, conversations, events
from services.audit.store import AuditStore
from services.audit.store.chains import iter_chains
from services.audit.store.rows import STAGED_COLUMNS, row_dict, row_values

_STAGE_SQL = f"CREATE TABLE IF NOT EXISTS staged ({', '.join(STAGED_COLUMNS)})"
_STAGE_INSERT = f"INSERT INTO staged VALUES ({', '.join('?' * len(STAGED_COLUMNS))})"
_SELECT = ", ".join(STAGED_COLUMNS)
_CHAIN_PREFIX_ERASURE = ("erasure:", "erasure;")  # chain keys starting with "erasure:", as an index range
# The store's journal while the workers write it: a rollback journal, so each page is written once
# into the database file (in WAL mode it is written to the WAL and again by the checkpoint). Like
# WAL with synchronous=OFF, it survives a crashed process, not a crashed machine — a rebuild can be
# redone. The next ordinary connection of the store (``AuditStore``) switches the file back to WAL.
REBUILD_JOURNAL = "TRUNCATE"
# Chain keys per range (one task, one write transaction): ~38,000 rows, ~150 MB in a worker. The event
# id index takes random inserts, so a transaction rewrites (and journals) most of its leaf pages whatever
# its size: larger transactions rewrite it less often (1M events: 84 µs/event CPU with 2,000, 76 with
# 8,000, 74 with 16,000).
BULK_BATCH = 8000


def usable(store: AuditStore, pool) -> bool:
    """Whether a replay into ``store`` can take this path."""
    if pool is None or store.dialect != "sqlite":
        return False
    database = sa.engine.make_url(store.url).database
    return database not in (None, "", ":memory:") and store.counts()["events"] == 0


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")  # scratch data: a failed rebuild starts again from the log
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-131072")
    connection.execute("PRAGMA temp_store=MEMORY")
    connection.execute("PRAGMA mmap_size=8589934592")  # the chain step reads ranges of rows all over the file
    return connection


# -- worker side ---------------------------------------------------------------
_STAGING: dict[str, sqlite3.Connection] = {}  # this process's staging file, by directory
_READERS: dict[tuple[str, ...], list[sqlite3.Connection]] = {}
_STORES: dict[str, AuditStore] = {}
# Workers forked after this module is imported share this lock around their write transactions: a
# worker waiting for the other's transaction wakes when it ends, instead of polling with SQLite's
# busy handler (which sleeps in growing steps). Without it (another start method) SQLite's own
# locking still serialises the writes.
_WRITE_LOCK = multiprocessing.get_context("fork").Lock()


def stage_values(directory: str, values: list[bytes]) -> tuple[int, dict[str, int]]:
    """Decode ``values`` and append their rows to this process's staging file; (rows, skipped by reason)."""
    from services.audit.decoding import decode_values

    rows, skipped = decode_values(values, row_values)
    stage_rows(directory, rows)
    return len(rows), skipped


def stage_rows(directory: str, rows: list[tuple]) -> None:
    connection = _STAGING.get(directory)
    if connection is None:
        connection = _STAGING[directory] = _connect(Path(directory) / f"stage-{os.getpid()}.sqlite")
        connection.execute(_STAGE_SQL)
    connection.execute("BEGIN")
    connection.executemany(_STAGE_INSERT, rows)
    connection.execute("COMMIT")


def index_staging(path: str) -> None:
    connection = _connect(Path(path))
    try:
        connection.execute("CREATE INDEX IF NOT EXISTS ix_chain ON staged (chain_key, sort_key)")
        connection.execute("CREATE INDEX IF NOT EXISTS ix_related ON staged (related_id) WHERE related_id IS NOT NULL")
    finally:
        connection.close()


def _readers(paths: tuple[str, ...]) -> list[sqlite3.Connection]:
    readers = _READERS.get(paths)
    if readers is None:
        readers = _READERS[paths] = [_connect(Path(p)) for p in paths]
    return readers


def _unique(rows, conflicts: list) -> list:
    """One row per event id; records that differ under one id are noted in ``conflicts``."""
    seen: dict[str, tuple] = {}
    out = []
    for row in rows:
        other = seen.get(row[0])
        if other is None:
            seen[row[0]] = row
            out.append(row)
        elif other[9] != row[9]:  # content_hash
            conflicts.append(row[0])
    return out


def chain_keys(paths: list[str]) -> list[str]:
    """Every chain key in the staging files, sorted, once."""
    lists = []
    for connection in _readers(tuple(paths)):
        lists.append([k for (k,) in connection.execute("SELECT DISTINCT chain_key FROM staged ORDER BY chain_key")])
    out: list[str] = []
    for key in heapq.merge(*lists):
        if not out or out[-1] != key:
            out.append(key)
    return out


def staged_erasures(paths: list[str]) -> tuple[dict[str, list[dict]], list[str]]:
    """Erasure records by tenant (as ``AuditStore._erasures`` reads them from a store), and conflicts."""
    rows = []
    for connection in _readers(tuple(paths)):
        rows += connection.execute(f"SELECT {_SELECT} FROM staged WHERE chain_key >= ? AND chain_key < ?",
                                   _CHAIN_PREFIX_ERASURE).fetchall()
    conflicts: list[str] = []
    out: dict[str, list[dict]] = {}
    for row in _unique(rows, conflicts):
        record = orjson.loads(row[2])
        out.setdefault(record["tenant"], []).append(record)
    return out, conflicts


@dataclass
class RangeResult:
    chains: int
    rows: int
    conflicts: list[str]


_EVENT_COLUMNS = tuple(c.name for c in events.columns)


def chain_range(url: str, paths: tuple[str, ...], first: str, last: str,
                erasures: dict[str, list[dict]]) -> RangeResult:
    """Compute the chains in ``[first, last]`` from the staging files and insert their finished rows."""
    rows = []
    related_rows = []
    for connection in _readers(paths):
        rows += connection.execute(
            f"SELECT {_SELECT} FROM staged WHERE chain_key >= ? AND chain_key <= ?", (first, last)).fetchall()
        related_rows += connection.execute(
            f"SELECT {_SELECT} FROM staged WHERE related_id IS NOT NULL AND related_id >= ? AND related_id <= ?",
            (first, last)).fetchall()
    conflicts: list[str] = []
    rows = _unique(rows, conflicts)
    rows.sort(key=lambda r: (r[1], r[3]))  # chain key, sort key: canonical order
    related: dict[str, list[dict]] = {}
    for row in _unique(related_rows, conflicts):
        related.setdefault(row[8], []).append(orjson.loads(row[2]))
    out_rows: list[tuple] = []
    heads: list[dict] = []
    summaries: list[dict] = []
    for chain_rows, texts, scrubbed, links, head, summary in iter_chains(rows, related, erasures):
        for row, text, was_scrubbed, (seq, prev, current) in zip(chain_rows, texts, scrubbed, links):
            # events columns: event_id chain_key sort_key seq event_type stage tenant occurred_at
            #                 related_id content_hash record prev_hash hash
            out_rows.append((row[0], row[1], row[3], seq, row[4], row[5], row[6], row[7], row[8], row[9],
                             text.decode("utf-8") if was_scrubbed else row[2], prev, current))
        heads.append(head)
        if summary is not None:
            summaries.append(summary)
    store = _STORES.get(url)
    if store is None:
        store = _STORES[url] = AuditStore(url, bulk=True, journal=REBUILD_JOURNAL)
    with _WRITE_LOCK:
        inserted = store.insert_finished(out_rows, heads, summaries)
    if inserted != len(out_rows):  # an event id already inserted by another range: different records
        conflicts.append("<another range>")
    return RangeResult(len(heads), len(out_rows), conflicts)


# -- main process ----------------------------------------------------------------
class BulkRebuild:
    """Drive the three steps with a process ``pool`` (``fork`` context) for one empty SQLite store."""

    def __init__(self, store: AuditStore, pool):
        self.store = store
        self.pool = pool
        database = Path(sa.engine.make_url(store.url).database)
        self.directory = database.parent / f".{database.name}.rebuild-{uuid.uuid4().hex[:8]}"
        self.directory.mkdir()
        self.database = database
        self._set_journal(REBUILD_JOURNAL)

    def _set_journal(self, mode: str) -> None:
        """Switch the store file's journal (a switch away from or to WAL needs the only connection)."""
        self.store.engine.dispose()
        connection = sqlite3.connect(self.database, timeout=60)
        try:
            connection.execute(f"PRAGMA journal_mode={mode}")
        finally:
            connection.close()

    def submit(self, values: list[bytes]):
        """Stage a batch of record values (asynchronously); ``.get()`` gives ``(rows, skipped)``."""
        return self.pool.apply_async(stage_values, (str(self.directory), values))

    def finish(self, progress: Optional[Callable[[int, int], None]] = None) -> int:
        """Index the staging files, chain and write everything; returns the number of chains."""
        paths = sorted(str(p) for p in self.directory.glob("stage-*.sqlite"))
        try:
            if not paths:
                return 0
            self.pool.map(index_staging, paths, chunksize=1)
            keys = chain_keys(paths)
            erasures, conflicts = staged_erasures(paths)
            if conflicts:
                return self._general_path(paths, progress)
            ranges = [(keys[i], keys[min(i + BULK_BATCH, len(keys)) - 1]) for i in range(0, len(keys), BULK_BATCH)]
            done = 0
            for result in self.pool.imap_unordered(_chain_range_star, [
                    (self.store.url, tuple(paths), first, last, erasures) for first, last in ranges]):
                conflicts += result.conflicts
                done += result.chains
                if progress:
                    progress(done, len(keys))
            if conflicts:
                return self._general_path(paths, progress)
            return len(keys)
        finally:
            for connection in _READERS.pop(tuple(paths), []):
                connection.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            self.store.engine.dispose()  # its next connection switches the file back to WAL

    def discard(self) -> None:
        """Remove the staging files (after a failed read)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def _general_path(self, paths: list[str], progress) -> int:
        """Different records under one event id: fill the store the general way (upsert, then rechain)."""
        with self.store.engine.begin() as connection:
            for table in (events, chains, conversations):
                connection.execute(table.delete())
        for path in paths:
            connection = _connect(Path(path))
            try:
                cursor = connection.execute(f"SELECT {_SELECT} FROM staged")
                while batch := cursor.fetchmany(5000):
                    self.store.ingest_rows([row_dict(row) for row in batch], rechain=False)
            finally:
                connection.close()
        return self.store.rechain_all(progress, pool=self.pool)


def _chain_range_star(args) -> RangeResult:
    return chain_range(*args)
