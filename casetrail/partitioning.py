"""Which partition a record key lands on: Kafka's Java default partitioner (murmur2).

Every casetrail producer is configured with librdkafka's ``murmur2_random``
partitioner (``PRODUCER_PARTITIONER``), which hashes keyed records exactly as
the Java client does, so a key lands on the same partition whichever client
wrote it. ``partition_for`` is the same function in Python: tables use it to
place a key written outside a record (a timer), and tests use it to check a
producer's placement.
"""

from __future__ import annotations

PRODUCER_PARTITIONER = "murmur2_random"  # librdkafka: Java-compatible murmur2 for keyed, random for unkeyed

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (``org.apache.kafka.common.utils.Utils.murmur2``) as a signed 32-bit int."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    whole = length - (length % 4)
    for i in range(0, whole, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    rest = length % 4
    if rest == 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes | str, partitions: int) -> int:
    """The partition the Java client (and librdkafka's murmur2 partitioners) picks for ``key``."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return (murmur2(raw) & 0x7FFFFFFF) % partitions
