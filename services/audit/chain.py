"""Tamper evidence: every record's hash covers its content and the previous record's hash.

A chain is the records of one conversation (or one stream such as a tenant's
erasures) in canonical order. Changing, removing or reordering any record
changes its hash and every hash after it; ``verify`` recomputes a chain and
names the first record whose stored hash disagrees.

Scope, stated plainly: someone with write access to the store who rewrites a
record *and* recomputes every later hash of that chain is caught only by
comparing against an earlier digest (``casetrail audit digest``, published or
kept elsewhere) or against a rebuild from the log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Optional

GENESIS = "0" * 64


def link(prev_hash: str, record_json: bytes) -> str:
    """Hash of one record chained to its predecessor."""
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(b"\n")
    h.update(record_json)
    return h.hexdigest()


def hashes(records_json: Iterable[bytes]) -> list[tuple[str, str]]:
    """``(prev_hash, hash)`` of each record of a chain, in the given (canonical) order."""
    out: list[tuple[str, str]] = []
    prev = GENESIS
    for record_json in records_json:
        current = link(prev, record_json)
        out.append((prev, current))
        prev = current
    return out


@dataclass(frozen=True)
class ChainProblem:
    chain_key: str
    seq: int
    event_id: str
    problem: str


def verify(chain_key: str, rows: Iterable[tuple[int, str, bytes, Optional[str], Optional[str]]]) -> list[ChainProblem]:
    """Check stored ``(seq, event_id, record_json, prev_hash, hash)`` rows of one chain, in seq order."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_seq = 0
    for seq, event_id, record_json, stored_prev, stored_hash in rows:
        if seq != expected_seq:
            problems.append(ChainProblem(chain_key, seq, event_id, f"sequence gap: expected {expected_seq}"))
        if stored_prev != prev:
            problems.append(ChainProblem(chain_key, seq, event_id, "previous-hash link broken"))
        current = link(prev, record_json)
        if stored_hash != current:
            problems.append(ChainProblem(chain_key, seq, event_id, "record content does not match its hash"))
        # Go on from the *stored* hash: a changed record is reported once, and a
        # record whose hash was recomputed to hide a change breaks the next link.
        prev = stored_hash or current
        expected_seq = seq + 1
    return problems
