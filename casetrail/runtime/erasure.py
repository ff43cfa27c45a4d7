"""Erasure in the runtime: an erased customer's entries leave every table that holds them, changelog included.

``casetrail audit erase`` publishes ``PersonalDataErased`` on ``audit.erasures.v1`` (keyed by customer
id). A service's tables are co-partitioned with its own inputs, not with that topic, so no partition
of it maps to a worker's table partitions: every worker reads the whole erasure topic as a broadcast
(``ErasureFeed``: the broadcast topics' reader, ``topic_reader.WholeTopicReader``, started at the
beginning instead of the end; the topic holds one small record per erasure) into the set of erased
customers (``ErasedCustomers``,
as ``casetrail.privacy.customer_key`` hashes: what every table can compute from what it holds).

A table registered with ``erasable_by`` (``Service.table(..., erasable_by=customer_of)``, where
``customer_of(key, value)`` names the entry's customer key, or None) is swept (``TableSweeper``):

* when a new erasure arrives, the worker deletes the customer's entries in the partitions it holds;
* when partitions are restored (assignment, restart, a lost session), the entries of customers
  erased meanwhile are deleted too: an erasure that arrived while nobody held the partition, or
  whose tombstones a crash aborted, is not missed.

The deletes go out as changelog tombstones in a transaction of their own, committed before the
worker handles another record (``Worker``); an aborted sweep is rolled back with the tables and
runs again. Once compaction has run, the changelog keeps a tombstone for ``delete.retention.ms``
(the key only, e.g. triage's ``<tenant>:<customer id>``) and then nothing.

Entries are found by scanning the table (``keys_of_customers``), not through an index: a sweep
happens per erasure and per restore, both rare and the second already reading every entry, while an
index would have to follow every write and every rolled-back transaction for the life of the worker.

A sweep deletes every entry of an erased customer the table holds then, including entries written
after the erasure (a customer who wrote again): erasure errs towards forgetting.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Optional

from casetrail.privacy.customer_key import customer_key
from casetrail.runtime.topic_reader import StartAt, WholeTopicReader

log = logging.getLogger("casetrail.runtime")

# (table key, value) -> the customer key (``casetrail.privacy.customer_key``) the entry belongs to, or None
CustomerOf = Callable[[Any, Any], Optional[str]]
RECHECK_TOPIC_SECONDS = 30.0  # the erasure topic did not exist yet: look again this often


def keys_of_customers(entries: Iterable[tuple[Any, Any]], customer_of: CustomerOf, customers: set[str]) -> list[Any]:
    """The keys among ``entries`` (key, value) whose customer is one of ``customers``.

    An entry whose customer cannot be read (a value of an older shape) is not one of theirs: a sweep
    that raised would stop the worker, and every other customer's erasure with it."""
    if not customers:
        return []
    found = []
    for key, value in entries:
        try:
            customer = customer_of(key, value)
        except (KeyError, TypeError, AttributeError, ValueError):
            continue
        if customer in customers:
            found.append(key)
    return found


class ErasedCustomers:
    """The customers erased so far (their customer keys); ``generation`` grows with each new one."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.generation = 0

    def add(self, tenant: str, customer_id: str) -> bool:
        """Remember one erasure; True when the customer was not known erased before."""
        key = customer_key(tenant, customer_id)
        if key in self.keys:
            return False
        self.keys.add(key)
        self.generation += 1
        return True


class ErasureFeed:
    """Reads ``audit.erasures.v1`` in full (every partition, from the beginning) outside any group."""

    def __init__(self, consumer_config: dict, topic: str, decode: Callable[[bytes], Any]):
        self.topic = topic
        self._decode = decode  # value bytes -> PersonalDataErased
        self._reader = WholeTopicReader(consumer_config, [topic], StartAt.beginning)
        self._next_topic_check = 0.0

    def catch_up(self, into: ErasedCustomers) -> int:
        """Read every partition up to its end now (start-up: before the first table is swept)."""
        if not self._assigned():
            return 0
        read = sum(self._apply(message, into) for message in self._reader.to_end())
        log.info("erasures read", extra={"topic": self.topic, "customers": len(into.keys)})
        return read

    def poll(self, into: ErasedCustomers) -> int:
        """Take what arrived since (never waits); returns the customers newly erased."""
        if not self._assigned():
            return 0
        return sum(self._apply(message, into) for message in self._reader.take(500))

    def _assigned(self) -> bool:
        """The topic's partitions are assigned; when it does not exist yet, look again every so often."""
        if self._reader.assigned:
            return True
        if time.monotonic() < self._next_topic_check:
            return False
        self._next_topic_check = time.monotonic() + RECHECK_TOPIC_SECONDS
        if self._reader.assign():
            log.warning("erasure topic not there yet; looking again later", extra={"topic": self.topic})
            return False
        return True

    def _apply(self, message, into: ErasedCustomers) -> int:
        try:
            erased = self._decode(message.value() or b"")
        except Exception as exc:  # not ours to dead-letter: say so loudly, with where it is
            log.error("erasure record not readable: its customer is not swept from the tables",
                      extra={"topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
                             "error": type(exc).__name__})
            return 0
        return int(into.add(erased.tenant, erased.customer_id))

    def close(self) -> None:
        self._reader.close()


class TableSweeper:
    """Deletes the entries of erased customers from a worker's erasable tables when a sweep is due."""

    def __init__(self, tables: list, feed: Optional[ErasureFeed], erased: Optional[ErasedCustomers] = None):
        self.tables = [table for table in tables if table.erasable_by is not None]
        self.feed = feed
        self.erased = erased or ErasedCustomers()
        self._wanted = 0  # bumped by every new erasure and every restore
        self._swept = 0  # what the sweep in the open transaction covers
        self._done = 0  # what a committed sweep covered

    def open(self) -> None:
        if self.feed is not None:
            self.feed.catch_up(self.erased)
        self._wanted += 1  # the first assignment's restore asks again; this covers a worker without one

    def restored(self) -> None:
        """Partitions were loaded from their changelogs: they may hold customers erased meanwhile."""
        self._wanted += 1

    def due(self) -> bool:
        if self.feed is not None and self.feed.poll(self.erased):
            self._wanted += 1
        return self._done != self._wanted

    def sweep(self) -> int:
        """Delete every entry of an erased customer (the tables remember the deletes for the commit)."""
        self._swept = self._wanted
        deleted = 0
        for table in self.tables:
            for key in keys_of_customers(list(table.items()), table.erasable_by, self.erased.keys):
                del table[key]
                deleted += 1
        if deleted:
            log.info("erased customers' entries deleted", extra={"entries": deleted})
        return deleted

    def swept(self, commit: Callable[[], Any]) -> bool:
        """Sweep when due and ``commit`` the tombstones (a transaction of their own); True unless that
        commit aborted (the worker rolled the tables back; the sweep stays due)."""
        if not self.due():
            return True
        self.sweep()
        outcome = commit()
        if outcome.committed:
            self._done = self._swept
        else:
            log.warning("erasure sweep aborted; it runs again", extra={"reason": outcome.abort_reason})
        return outcome.committed

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()


def sweeper_for(service) -> Optional[TableSweeper]:
    """The sweeper of ``service``'s worker, or None when none of its tables is erasable."""
    tables = [table for table in service.tables.values() if table.erasable_by is not None]
    if not tables:
        return None
    from casetrail.events import PersonalDataErased
    from casetrail.topics import ERASURES

    feed = ErasureFeed({**service.kafka_client_config(), "group.id": f"{service.app_id}-erasures"},
                       service.topic_name(ERASURES),
                       lambda value: service.codec.decode(value, expected=PersonalDataErased))
    sweeper = TableSweeper(tables, feed)
    sweeper.open()
    return sweeper
