"""Dropping webhook redeliveries: same source, external id and update stamp (or content hash).

Pure logic over plain state. The state of one delivery key (tenant/source/
external id) is ``{"stamps": {stamp: [first_seen_epoch_seconds, position]}}`` -
what the ``seen_deliveries`` table stores. ``position`` names the intake record
(topic:partition:offset) that first carried the stamp: when the *same* record
is processed again (a restart before its offset was committed), it is not a
redelivery and must not be dropped, or at-least-once would lose it.
Stamps older than ``ttl`` are forgotten (the intake topic keeps 14 days) and
at most ``max_stamps`` are kept per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

DEFAULT_TTL_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class DeliveryDecision:
    duplicate: bool
    state: dict  # the new state to store under the delivery key


class DeliveryDeduplicator:
    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_stamps: int = 64):
        self.ttl_seconds = ttl_seconds
        self.max_stamps = max_stamps

    def observe(self, state: Optional[dict], stamp: str, now: float, position: str = "") -> DeliveryDecision:
        stamps = {s: list(v) for s, v in (state or {}).get("stamps", {}).items() if now - v[0] <= self.ttl_seconds}
        seen = stamps.get(stamp)
        if seen is not None:
            duplicate = not (position and seen[1] == position)
            return DeliveryDecision(duplicate, {"stamps": stamps})
        stamps[stamp] = [now, position]
        if len(stamps) > self.max_stamps:
            stamps = dict(sorted(stamps.items(), key=lambda kv: kv[1][0])[-self.max_stamps:])
        return DeliveryDecision(False, {"stamps": stamps})
