"""The chain pass: for each chain, the canonical order, the hash chain, the erasure scrubbing and
the conversation's summary row — computed from the chain's rows (pure: ``iter_chains``, also in
worker processes) and written back (``StoreChains.rechain``); and the integrity checks over the
result (``verify``, ``digest``).

The result depends only on the set of events in the store, which is what makes a rebuild
byte-for-byte identical to the live store.
"""

from __future__ import annotations

import collections
import hashlib
import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

import orjson
import sqlalchemy as sa

from services.audit import chain
from services.audit.lineage import fold
from services.audit.records import canonical_json, conversation_identity, scrub
from services.audit.schema import chain_key_prefix, chains, conversations, events
from services.audit.store.database import StoreDatabase
from services.audit.store.rows import summary_row

log = logging.getLogger("services.audit.store")

RECHAIN_BATCH = 2000  # chains per rechain query
NON_CONVERSATION_PREFIXES = ("intake:", "kb:", "erasure:", "deadletter:")


class StoreChains(StoreDatabase):
    """Rechaining and integrity checks of a store (what its writes and rebuilds rely on)."""

    def rechain_all(self, progress: Optional[Callable[[int, int], None]] = None, *, pool=None) -> int:
        """Rechain every chain of the store; with a process ``pool``, chains are computed in its workers.

        The work is cut into ranges of ``RECHAIN_BATCH`` chain keys. A worker
        reads its range through its own connection and computes order, hashes,
        scrubbing and summaries; this process only writes the results, one
        transaction per range. Ranges are disjoint and nothing a range computes
        depends on another range's writes, so the result is the same as
        computing them one after the other here.
        """
        with self.engine.connect() as connection:
            keys = list(connection.execute(
                sa.select(events.c.chain_key).distinct().order_by(events.c.chain_key)).scalars())
        if not keys:
            return 0
        erasures = self._erasures()
        ranges = [(keys[i], keys[min(i + RECHAIN_BATCH, len(keys)) - 1]) for i in range(0, len(keys), RECHAIN_BATCH)]
        if pool is not None and not _shareable(self.url):
            pool = None  # an in-memory database cannot be opened by another process
        done = 0

        def write(work: "ChainWork") -> None:
            nonlocal done
            with self.engine.begin() as connection:
                self._write_chains(connection, work)
            done += work.chains
            if progress:
                progress(done, len(keys))

        if pool is None:
            for first, last in ranges:
                with self.engine.connect() as connection:
                    rows, related = _fetch_range(connection, first, last)
                write(compute_chains(rows, related, erasures))
            return len(keys)
        window = 2 * max(1, getattr(pool, "_processes", 2))
        pending: collections.deque = collections.deque()
        for first, last in ranges:
            pending.append(pool.apply_async(chain_range, (self.url, first, last, erasures)))
            while len(pending) > window:
                write(pending.popleft().get())
        while pending:
            write(pending.popleft().get())
        return len(keys)

    def rechain(self, keys: Iterable[str], progress: Optional[Callable[[int, int], None]] = None) -> None:
        """Recompute order, hash chain, erasure scrubbing and summary of the given chains."""
        keys = sorted(set(keys))
        if not keys:
            return
        erasures = self._erasures()
        done = 0
        for start in range(0, len(keys), RECHAIN_BATCH):
            batch = keys[start : start + RECHAIN_BATCH]
            with self.engine.begin() as connection:
                rows, related = _fetch_keys(connection, batch)
                work = compute_chains(rows, related, erasures)
                self._write_chains(connection, work)
            if work.chains < len(batch):
                # Conversations referred to (e.g. by a re-contact) that have no records of their own yet.
                log.debug("%d referenced conversations have no records yet", len(batch) - work.chains)
            done += len(batch)
            if progress:
                progress(done, len(keys))

    def _erasures(self) -> dict[str, list[dict]]:
        """Erasure records by tenant (few: one per erased customer)."""
        out: dict[str, list[dict]] = {}
        with self.engine.connect() as connection:
            for text in connection.execute(sa.select(events.c.record).where(*chain_key_prefix("erasure:"))).scalars():
                record = orjson.loads(text)
                out.setdefault(record["tenant"], []).append(record)
        return out

    def _write_chains(self, connection, work: "ChainWork") -> None:
        if work.rewrites:
            self._executemany(connection, _REWRITE, work.rewrites)
        if work.updates:
            self._executemany(connection, _RELINK, work.updates)
        if work.heads:
            self._executemany(connection, self._upsert_stmt(chains, "chain_key"), work.heads)
        if work.summaries:
            self._executemany(connection, self._upsert_stmt(conversations, "conversation_id"), work.summaries)

    # -- integrity --------------------------------------------------------
    def verify(self, progress: Optional[Callable[[int], None]] = None) -> list[chain.ChainProblem]:
        """Recompute every hash chain and every summary row; name what disagrees.

        ``progress`` is called with the number of chains verified so far, after each chain.
        """
        c = events.c
        problems: list[chain.ChainProblem] = []
        erasures = self._erasures()
        verified = 0
        with self.engine.connect() as connection:
            heads = {r.chain_key: r for r in connection.execute(sa.select(chains))}
            stored_summaries = {
                r["conversation_id"]: r for r in connection.execute(sa.select(conversations)).mappings()
            }
            rows = connection.execute(
                sa.select(c.chain_key, c.seq, c.event_id, c.record, c.prev_hash, c.hash).order_by(c.chain_key, c.seq)
            )
            current_key, current = None, []
            for row in rows:
                if row.chain_key != current_key and current_key is not None:
                    problems += self._verify_chain(connection, current_key, current, heads, stored_summaries, erasures)
                    current = []
                    verified += 1
                    if progress:
                        progress(verified)
                current_key = row.chain_key
                current.append(row)
            if current_key is not None:
                problems += self._verify_chain(connection, current_key, current, heads, stored_summaries, erasures)
                if progress:
                    progress(verified + 1)
            seen = {p for p in heads}
            for key in stored_summaries:
                if key not in seen:
                    problems.append(chain.ChainProblem(key, -1, "", "summary row without records"))
        return problems

    def _verify_chain(self, connection, key, rows, heads, stored_summaries, erasures) -> list[chain.ChainProblem]:
        problems = chain.verify(
            key, [(r.seq, r.event_id, r.record.encode("utf-8"), r.prev_hash, r.hash) for r in rows]
        )
        head = heads.get(key)
        if head is None or head.length != len(rows) or head.head_hash != rows[-1].hash:
            problems.append(chain.ChainProblem(key, len(rows) - 1, rows[-1].event_id, "chain head does not match"))
        summary = stored_summaries.get(key)
        if summary is not None:
            records = [orjson.loads(r.record) for r in rows]
            related = [
                orjson.loads(t)
                for t in connection.execute(sa.select(events.c.record).where(events.c.related_id.isnot(None), events.c.related_id == key)).scalars()
            ]
            erasure = _erasure_for(records, erasures)
            expected = summary_row(fold(key, records + related + ([erasure] if erasure else [])), len(records))
            if any(expected[k] != summary[k] for k in expected):
                changed = sorted(k for k in expected if expected[k] != summary[k])
                problems.append(chain.ChainProblem(key, -1, "", f"summary row differs from its records: {changed}"))
        return problems

    def digest(self) -> str:
        """SHA-256 over every stored row in a fixed order: equal digests, identical stores."""
        h = hashlib.sha256()
        with self.engine.connect() as connection:
            c = events.c
            for row in connection.execute(
                sa.select(c.chain_key, c.seq, c.event_id, c.event_type, c.stage, c.tenant, c.occurred_at, c.related_id,
                          c.content_hash, c.record, c.prev_hash, c.hash).order_by(c.chain_key, c.seq, c.event_id)
            ):
                h.update(orjson.dumps(list(row)))
            for row in connection.execute(sa.select(chains).order_by(chains.c.chain_key)):
                h.update(orjson.dumps(list(row)))
            for row in connection.execute(sa.select(conversations).order_by(conversations.c.conversation_id)):
                h.update(orjson.dumps(list(row)))
        return h.hexdigest()


_REWRITE = events.update().where(events.c.event_id == sa.bindparam("b_event_id")).values(record=sa.bindparam("b_record"))
_RELINK = (
    events.update()
    .where(events.c.event_id == sa.bindparam("b_event_id"))
    .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"))
)


_ROW_COLUMNS = (events.c.event_id, events.c.chain_key, events.c.record, events.c.seq, events.c.prev_hash, events.c.hash)
_RANGE_ROWS = (
    sa.select(*_ROW_COLUMNS)
    .where(events.c.chain_key >= sa.bindparam("lo"), events.c.chain_key <= sa.bindparam("hi"))
    .order_by(events.c.chain_key, events.c.sort_key)
)
_RANGE_RELATED = sa.select(events.c.related_id, events.c.record).where(
    events.c.related_id.isnot(None), events.c.related_id >= sa.bindparam("lo"), events.c.related_id <= sa.bindparam("hi")
)
_RAW_SQL: dict[tuple[str, int], tuple[str, Optional[tuple]]] = {}


def _raw_all(connection, stmt, params: dict) -> list[tuple]:
    """Rows of a compiled SELECT as plain tuples, straight from the driver (no per-row Row objects)."""
    dialect = connection.dialect
    cached = _RAW_SQL.get((dialect.name, id(stmt)))
    if cached is None:
        compiled = stmt.compile(dialect=dialect)
        cached = (str(compiled), tuple(compiled.positiontup) if compiled.positional else None)
        _RAW_SQL[(dialect.name, id(stmt))] = cached
    sql, order = cached
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, tuple(params[name] for name in order) if order is not None else params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetch_range(connection, first: str, last: str) -> tuple[list, dict[str, list[dict]]]:
    """Rows ``(event_id, chain_key, record, seq, prev_hash, hash)`` of the chains in ``[first, last]``, in
    canonical order, and the records of other chains that refer to one of them (by ``related_id``)."""
    params = {"lo": first, "hi": last}
    rows = _raw_all(connection, _RANGE_ROWS, params)
    related: dict[str, list[dict]] = {}
    for rid, text in _raw_all(connection, _RANGE_RELATED, params):
        related.setdefault(rid, []).append(orjson.loads(text))
    return rows, related


def _fetch_keys(connection, keys: list[str]) -> tuple[list, dict[str, list[dict]]]:
    """Like ``_fetch_range`` for a list of chain keys (the live path: the chains a batch touched)."""
    c = events.c
    rows = connection.execute(sa.select(*_ROW_COLUMNS).where(c.chain_key.in_(keys)).order_by(c.chain_key, c.sort_key)).all()
    related: dict[str, list[dict]] = {}
    for rid, text in connection.execute(sa.select(c.related_id, c.record).where(c.related_id.isnot(None), c.related_id.in_(keys))):
        related.setdefault(rid, []).append(orjson.loads(text))
    return rows, related


@dataclass
class ChainWork:
    """What rechaining some chains writes: parameter rows of the statements ``_write_chains`` runs."""

    chains: int
    rewrites: list[dict]
    updates: list[dict]
    heads: list[dict]
    summaries: list[dict]


def iter_chains(rows, related: dict[str, list[dict]], erasures: dict[str, list[dict]]) -> Iterator[tuple]:
    """Order, hash chain, erasure scrubbing and summary of chains (pure: runs in worker processes too).

    ``rows`` are tuples ``(event_id, chain_key, record, ...)`` ordered by chain key and sort key,
    one per event id. Yields, per chain, ``(chain_rows, texts, scrubbed, links, head, summary)``:
    the chain's rows, each record's (possibly scrubbed) canonical JSON, whether it was scrubbed,
    its ``(seq, prev_hash, hash)``, the chain-head row and the summary row (``None`` for a
    chain that is not a conversation). The one definition of a chain, for every write path.
    """
    link = chain.link
    loads = orjson.loads
    n_rows = len(rows)
    i = 0
    while i < n_rows:
        key = rows[i][1]
        j = i + 1
        while j < n_rows and rows[j][1] == key:
            j += 1
        chain_rows = rows[i:j]
        i = j
        records = [loads(r[2]) for r in chain_rows]
        texts = [r[2].encode("utf-8") for r in chain_rows]
        scrubbed = [False] * len(chain_rows)
        is_conversation = bool(records[0].get("conversation_id")) and not key.startswith(NON_CONVERSATION_PREFIXES)
        erasure = _erasure_for(records, erasures) if is_conversation else None
        if erasure is not None:
            for n, record in enumerate(records):
                if not record.get("erased"):
                    records[n] = scrub(record)
                    texts[n] = canonical_json(records[n])
                    scrubbed[n] = True
        links = []
        prev = chain.GENESIS
        for seq, text in enumerate(texts):
            current = link(prev, text)
            links.append((seq, prev, current))
            prev = current
        tenant = next((r.get("tenant") for r in records if r.get("tenant")), None)
        head = {"chain_key": key, "tenant": tenant, "length": len(records), "head_hash": prev}
        summary = None
        if is_conversation:
            lineage = fold(key, records + related.get(key, []) + ([erasure] if erasure else []))
            summary = summary_row(lineage, len(records))
        yield chain_rows, texts, scrubbed, links, head, summary


def compute_chains(rows, related: dict[str, list[dict]], erasures: dict[str, list[dict]]) -> ChainWork:
    """What rechaining the given chains writes into a store that already holds their rows.

    ``rows`` are ``(event_id, chain_key, record, seq, prev_hash, hash)`` ordered by chain key and
    sort key; only rows whose stored seq / hashes / record differ from the computed ones are written.
    """
    updates: list[dict] = []
    rewrites: list[dict] = []
    heads: list[dict] = []
    summaries: list[dict] = []
    for chain_rows, texts, scrubbed, links, head, summary in iter_chains(rows, related, erasures):
        for row, text, was_scrubbed, (seq, prev, current) in zip(chain_rows, texts, scrubbed, links):
            if was_scrubbed:
                rewrites.append({"b_event_id": row[0], "b_record": text.decode("utf-8")})
            if row[3] != seq or row[4] != prev or row[5] != current:
                updates.append({"b_event_id": row[0], "b_seq": seq, "b_prev": prev, "b_hash": current})
        heads.append(head)
        if summary is not None:
            summaries.append(summary)
    return ChainWork(len(heads), rewrites, updates, heads, summaries)


def _erasure_for(records: list[dict], erasures: dict[str, list[dict]]) -> Optional[dict]:
    """The erasure record that covers this conversation, if any.

    A conversation is covered when its sealed original used the erased key, or
    when the erased customer's conversation began before the erasure (a
    customer who comes back later gets a new key and a new history).
    """
    tenant = next((r.get("tenant") for r in records if r.get("tenant")), None)
    candidates = erasures.get(tenant or "", [])
    if not candidates:
        return None
    customer_id = key_id = started = None
    for record in records:
        c, k, s = conversation_identity(record)
        customer_id, key_id, started = customer_id or c, key_id or k, started or s
    started = started or min((r.get("occurred_at") or "" for r in records), default="")
    covering = [
        e for e in candidates
        if (key_id is not None and e.get("key_id") == key_id)
        or (customer_id is not None and e.get("customer_id") == customer_id and (started or "") <= e["occurred_at"])
    ]
    return min(covering, key=lambda e: (e["occurred_at"], e["event_id"])) if covering else None


_WORKER_STORES: dict[str, StoreDatabase] = {}


def chain_range(url: str, first: str, last: str, erasures: dict[str, list[dict]]) -> ChainWork:
    """``compute_chains`` for the chains in ``[first, last]``, read through this process's own connection."""
    store = _WORKER_STORES.get(url)
    if store is None:
        store = _WORKER_STORES[url] = StoreDatabase(url)
    with store.engine.connect() as connection:
        rows, related = _fetch_range(connection, first, last)
    return compute_chains(rows, related, erasures)


def _shareable(url: str) -> bool:
    """Whether another process can open the same database (not an in-memory SQLite one)."""
    parsed = sa.engine.make_url(url)
    return not parsed.drivername.startswith("sqlite") or parsed.database not in (None, "", ":memory:")
