"""One lane per (tenant, platform): its rate limit, its concurrency, its cool-down.

A lane's limiter (aiolimiter's leaky bucket) keeps casetrail under the rate
the tenant's plan allows; its semaphore bounds requests in flight. When the
platform says 429 the lane cools down for the ``Retry-After`` it gave; after
consecutive transient failures it cools down with a growing pause (a circuit
breaker). While a lane cools down, its deliveries are parked on the retry
topic without calling the platform, so records of other tenants and
platforms in the same partition go on (no head-of-line blocking).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from aiolimiter import AsyncLimiter

BREAKER_THRESHOLD = 5  # consecutive transient failures before the lane cools down
BREAKER_FIRST_PAUSE = 2.0
BREAKER_MAX_PAUSE = 60.0  # a platform that is down is probed at least once a minute


@dataclass
class Lane:
    tenant: str
    platform: str
    rate_per_minute: float
    concurrency: int
    clock: Callable[[], float] = time.monotonic
    cooldown_until: float = 0.0
    consecutive_failures: int = 0
    _limiter: Optional[AsyncLimiter] = field(default=None, repr=False)
    _slots: Optional[asyncio.Semaphore] = field(default=None, repr=False)

    @property
    def limiter(self) -> AsyncLimiter:
        if self._limiter is None:  # made lazily: it binds to the running event loop
            per_second = self.rate_per_minute / 60.0
            self._limiter = AsyncLimiter(max(1.0, per_second), 1.0) if per_second >= 1 else AsyncLimiter(1, 1 / per_second)
        return self._limiter

    @property
    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    def cooling_for(self) -> float:
        """Seconds this lane still cools down (0 when open)."""
        return max(0.0, self.cooldown_until - self.clock())

    def rate_limited(self, retry_after: float) -> None:
        self.cooldown_until = max(self.cooldown_until, self.clock() + retry_after)

    def failed(self) -> None:
        self.consecutive_failures += 1
        if self.consecutive_failures >= BREAKER_THRESHOLD:
            steps = self.consecutive_failures - BREAKER_THRESHOLD
            pause = min(BREAKER_MAX_PAUSE, BREAKER_FIRST_PAUSE * (2 ** steps))
            self.cooldown_until = max(self.cooldown_until, self.clock() + pause)

    def succeeded(self) -> None:
        self.consecutive_failures = 0


class Lanes:
    def __init__(self, limits: Callable[[str, str], tuple[float, int]], clock: Callable[[], float] = time.monotonic):
        self._limits = limits
        self._clock = clock
        self._lanes: dict[tuple[str, str], Lane] = {}

    def lane(self, tenant: str, platform: str) -> Lane:
        key = (tenant, platform)
        lane = self._lanes.get(key)
        if lane is None:
            rate, concurrency = self._limits(tenant, platform)
            lane = self._lanes[key] = Lane(tenant, platform, rate, concurrency, clock=self._clock)
        return lane

    def all(self) -> list[Lane]:
        return list(self._lanes.values())
