"""Service state: in-memory tables backed by compacted changelog topics.

A table is a mapping a handler reads and writes like a dict. Every write is
remembered until the runtime ends the Kafka transaction of the record (or timer
tick) that made it: on commit the runtime writes the changed keys to the
table's changelog in that same transaction (``pending_changes``) and forgets
the undo log (``accept``); on abort it puts the old values back
(``roll_back``), so state never runs ahead of what was committed.

A key's changelog partition is the partition of the input record that wrote it
(the tables are co-partitioned with their service's input topics); a key
written outside a record (a timer) goes where the Java partitioner would put
it. On assignment the runtime restores each assigned partition from the
changelog (``load``); on revocation it drops the partition (``drop``).

Keys and values are JSON (as Faust wrote them, so existing changelogs restore).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

import orjson

from casetrail.partitioning import partition_for

_MISSING = object()


class ChangelogTable:
    """A dict-like table whose changes travel in the runtime's transactions."""

    def __init__(self, name: str, changelog_topic: str, partitions: int,
                 current_partition: Callable[[], Optional[int]], default: Optional[Callable[[], Any]] = None,
                 erasable_by: Optional[Callable[[Any, Any], Optional[str]]] = None):
        self.name = name
        # (key, value) -> the entry's customer key: erasure deletes the entries of erased customers
        # (casetrail.runtime.erasure); None: the table holds nothing of a customer's
        self.erasable_by = erasable_by
        self.changelog_topic = changelog_topic
        self.partitions = partitions
        self._current_partition = current_partition
        self._default = default
        self._data: dict[Any, Any] = {}
        self._partition_of: dict[Any, int] = {}
        self._undo: dict[Any, tuple[Any, Optional[int]]] = {}  # key -> (value before the transaction, its partition)

    # -- the mapping a handler sees ------------------------------------------------
    def get(self, key: Any, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._data[key]
        except KeyError:
            if self._default is None:
                raise
            value = self._default()
            self[key] = value
            return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._remember(key)
        self._data[key] = value
        if key not in self._partition_of:
            self._partition_of[key] = self._partition_for_new_key(key)

    def __delitem__(self, key: Any) -> None:
        if key not in self._data:
            raise KeyError(key)
        self._remember(key)
        del self._data[key]

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        if key in self._data:
            value = self._data[key]
            del self[key]
            return value
        if default is _MISSING:
            raise KeyError(key)
        return default

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    def partition_of(self, key: Any) -> Optional[int]:
        return self._partition_of.get(key)

    # -- transactions ----------------------------------------------------------------
    def _remember(self, key: Any) -> None:
        if key not in self._undo:
            self._undo[key] = (self._data.get(key, _MISSING), self._partition_of.get(key))

    def _partition_for_new_key(self, key: Any) -> int:
        current = self._current_partition()
        if current is not None:
            return current
        return partition_for(_encode(key), self.partitions)

    def pending_changes(self) -> Iterator[tuple[int, bytes, Optional[bytes]]]:
        """(partition, key bytes, value bytes or None for a delete) of every key changed since the last commit."""
        for key, (_, old_partition) in self._undo.items():
            partition = self._partition_of.get(key, old_partition)
            if partition is None:
                continue
            value = self._data.get(key, _MISSING)
            yield partition, _encode(key), None if value is _MISSING else _encode(value)
            if value is _MISSING:
                self._partition_of.pop(key, None)

    @property
    def changed(self) -> bool:
        """Written since the last commit (a transaction has something of this table to carry)."""
        return bool(self._undo)

    def accept(self) -> None:
        self._undo.clear()

    def roll_back(self) -> None:
        for key, (value, partition) in self._undo.items():
            if value is _MISSING:
                self._data.pop(key, None)
                self._partition_of.pop(key, None)
            else:
                self._data[key] = value
                if partition is not None:
                    self._partition_of[key] = partition
        self._undo.clear()

    # -- assignment --------------------------------------------------------------------
    def load(self, partition: int, key: bytes, value: Optional[bytes]) -> None:
        """Apply one changelog record during restore."""
        decoded_key = _decode_key(key)
        if value is None:
            self._data.pop(decoded_key, None)
            self._partition_of.pop(decoded_key, None)
            return
        self._data[decoded_key] = orjson.loads(value)
        self._partition_of[decoded_key] = partition

    def drop(self, partitions: set[int]) -> None:
        """Forget the keys of partitions this worker no longer owns."""
        for key in [k for k, p in self._partition_of.items() if p in partitions]:
            self._data.pop(key, None)
            del self._partition_of[key]


def _encode(value: Any) -> bytes:
    return orjson.dumps(value)


def _decode_key(raw: bytes) -> Any:
    key = orjson.loads(raw)
    return tuple(key) if isinstance(key, list) else key
