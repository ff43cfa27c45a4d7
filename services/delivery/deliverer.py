"""One effect, one lane, one adapter: try now, a few quick retries, or park (no Kafka here).

* A lane that cools down (429, circuit open) parks the effect at once: no call.
* Otherwise up to ``inline_attempts`` tries, with jittered exponential back-off
  (tenacity) between them, as long as the wait the platform asks for is short;
  a longer wait parks the effect on the retry topic (``Parked``) so the
  partition moves on.
* A write that may already have landed (an ambiguous earlier try, or a record
  a crashed worker may have acted on) is looked up by its marker first.
* Permanent refusals (4xx other than 408/409/429, a key that was erased) fail
  at once; so does an effect past its attempt budget.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.delivery import failures
from services.delivery.adapters.base import Adapter, NotApplicable, PlatformError, TransportError
from services.delivery.effects import Effect
from services.delivery.failures import Classified, Kind
from services.delivery.lanes import Lane
from services.delivery.thread import Thread


@dataclass(frozen=True)
class Policy:
    inline_attempts: int = 3
    inline_max_wait: float = 2.0  # longer waits park the effect instead of holding the partition
    max_attempts: int = 12  # across parked retries; then dead-lettered
    park_min: float = 1.0
    park_max: float = 300.0


@dataclass(frozen=True)
class Delivered:
    platform_id: Optional[str]
    attempts: int
    status: int
    recovered: bool  # found on the platform (a previous attempt landed): not posted again
    delivered_at: dt.datetime
    requests: int


@dataclass(frozen=True)
class Parked:
    after_seconds: float
    attempts: int
    status: Optional[int]
    reason: str
    maybe_attempted: bool  # the next try must look up first


@dataclass(frozen=True)
class Failed:
    attempts: int
    status: Optional[int]
    reason: str
    body: str = ""


@dataclass(frozen=True)
class Suppressed:
    reason: str


Result = Union[Delivered, Parked, Failed, Suppressed]


class _Transient(Exception):
    def __init__(self, classified: Classified, status: Optional[int], reason: str):
        super().__init__(reason)
        self.classified, self.status, self.reason = classified, status, reason


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def deliver(
    effect: Effect,
    thread: Optional[Thread],
    adapter: Adapter,
    lane: Lane,
    *,
    attempts_before: int = 0,
    maybe_attempted: bool = False,
    policy: Policy = Policy(),
    now: Callable[[], dt.datetime] = _utc_now,
    redact: Callable[[str], str] = lambda text: text,
) -> Result:
    cooling = lane.cooling_for()
    if cooling > 0:
        return Parked(cooling, attempts_before, None, f"{lane.platform} lane cooling down", maybe_attempted)
    attempts = attempts_before
    state = {"maybe_attempted": maybe_attempted, "status": None, "recovered": False, "requests": 0}

    async def one_try():
        nonlocal attempts
        attempts += 1
        async with lane.slots:
            await lane.limiter.acquire()
            try:
                if state["maybe_attempted"] and adapter.can_look_up and effect.writes_text:
                    state["requests"] += 1
                    found = await adapter.find(effect, thread)
                    if found is not None:
                        state["recovered"] = True
                        return found, 200
                written = await adapter.write(effect, thread)
                state["requests"] += written.requests
                return written.platform_id, written.status
            except TransportError as exc:
                classified = failures.transport_failure(request_sent=exc.request_sent)
                raise _Transient(classified, None, str(exc)) from None
            except PlatformError as exc:
                if exc.transient is not None:
                    classified = Classified(Kind.transient if exc.transient else Kind.permanent)
                else:
                    classified = failures.classify(exc.status, exc.headers, now())
                if classified.kind == Kind.permanent:
                    raise
                raise _Transient(classified, exc.status, f"{exc.what}: status {exc.status}") from None

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, min(policy.inline_attempts, policy.max_attempts - attempts_before))),
        wait=wait_random_exponential(multiplier=0.1, max=policy.inline_max_wait),
        retry=retry_if_exception_type(_Transient),
        reraise=False,
    )
    try:
        async for attempt in retrying:
            with attempt:
                try:
                    platform_id, status = await one_try()
                except _Transient as transient:
                    state["status"] = transient.status
                    if transient.classified.ambiguous:
                        state["maybe_attempted"] = True
                    if transient.classified.rate_limited:
                        lane.rate_limited(transient.classified.retry_after or failures.DEFAULT_RATE_LIMIT_WAIT)
                    else:
                        lane.failed()
                    wait = transient.classified.retry_after or 0.0
                    if wait > policy.inline_max_wait or lane.cooling_for() > 0:
                        return _park_or_fail(transient, max(wait, lane.cooling_for()), attempts, state, policy)
                    raise
                lane.succeeded()
                return Delivered(platform_id, attempts, status, state["recovered"], now(), state["requests"])
    except RetryError as exhausted:
        transient = exhausted.last_attempt.exception()
        return _park_or_fail(transient, 0.0, attempts, state, policy)
    except NotApplicable as reason:
        return Suppressed(str(reason))
    except PlatformError as refused:
        return Failed(attempts, refused.status, f"{refused.what}: refused with status {refused.status}",
                      failures.summarise_body(refused.body, redact))
    return Failed(attempts, state["status"], "no attempt was made")  # pragma: no cover - the loop always returns


def _park_or_fail(transient: "_Transient", wait: float, attempts: int, state: dict, policy: Policy) -> Result:
    if attempts >= policy.max_attempts:
        return Failed(attempts, transient.status, f"out of retries after {attempts} attempts: {transient.reason}")
    backoff = min(policy.park_max, policy.park_min * (2 ** max(0, attempts - policy.inline_attempts)))
    return Parked(max(wait, backoff), attempts, transient.status, transient.reason, state["maybe_attempted"])


async def sleep_until(deadline_epoch: float, clock: Callable[[], float] = time.time) -> None:
    remaining = deadline_epoch - clock()
    if remaining > 0:
        await asyncio.sleep(remaining)
