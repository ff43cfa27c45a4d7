"""The delivery service's work on one record, apart from the runtime's wiring.

``DeliveryEngine`` turns an outbound reply, a routed decision or a parked
retry into platform effects, runs each through the ledger (already
delivered?), the attempt window (may a crashed worker have written it?), the
lane (rate limit, cool-down) and the adapter, and returns what the runtime
must produce: receipts, parked records, dead-letter reasons. State comes in
as mappings (the runtime's tables, plain dicts in tests and the benchmark).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, MutableMapping, Optional

from casetrail.events.conversation import ConversationReceived
from casetrail.events.decision import ReplyKind, ReplyOutbound, RoutedDecision
from casetrail.events.delivery import DeliveryEffect, DeliveryOutcome, DeliveryReceipt
from casetrail.events.envelope import AvroRecord, ProducerInfo

from services.delivery import metrics
from services.delivery.adapters import Adapter, make_adapter
from services.delivery.config import TenantDelivery
from services.delivery.deliverer import Delivered, Failed, Parked, Policy, Suppressed, deliver
from services.delivery.effects import Effect, plan_decision, plan_reply
from services.delivery.lanes import Lanes
from services.delivery.ledger import AttemptWindow, EffectRecord, EffectState, Step, next_step
from services.delivery.notes import ClauseText
from services.delivery.thread import Thread, thread_of

log = logging.getLogger("casetrail.delivery")

_RECEIPT_NAMESPACE = uuid.UUID("2b7f3f0e-7d1c-4c55-9a0e-6d3c1f4b8a21")
ATTEMPT_HEADER = "casetrail-delivery-attempt"
NOT_BEFORE_HEADER = "casetrail-delivery-not-before"
MAYBE_ATTEMPTED_HEADER = "casetrail-delivery-maybe-attempted"
UNKNOWN_THREAD_WAIT = 2.0


@dataclass
class Work:
    """What one record asks the runtime to do."""

    receipts: list[DeliveryReceipt] = field(default_factory=list)
    park: Optional[tuple[AvroRecord, dict[str, bytes]]] = None  # the event again, with retry headers
    dead_letters: list[tuple[str, str]] = field(default_factory=list)  # (reason code, reason)


@dataclass(frozen=True)
class RetryState:
    attempts: int = 0
    maybe_attempted: bool = False

    @classmethod
    def from_headers(cls, headers: dict[str, bytes]) -> "RetryState":
        return cls(int(headers.get(ATTEMPT_HEADER, b"0") or 0), headers.get(MAYBE_ATTEMPTED_HEADER) == b"1")


class AttemptMarks:
    """What the engine needs of the attempt journal (``attempt_journal.AttemptJournal`` in production)."""

    async def amark(self, partition_key: str) -> Optional[int]: ...

    async def awrite(self, partition_key: str, mark: int) -> None: ...


class DeliveryEngine:
    def __init__(
        self,
        tenants: dict[str, TenantDelivery],
        threads: MutableMapping[str, dict],
        effects: MutableMapping[str, dict],
        journal: AttemptMarks,
        producer: ProducerInfo,
        *,
        clause_text: ClauseText = lambda tenant, citation: None,
        open_sealed=None,
        redact: Callable[[str], str] = lambda text: text,
        policy: Policy = Policy(),
        window: Optional[AttemptWindow] = None,
        transport=None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
    ):
        self.tenants, self.threads, self.effects, self.journal = tenants, threads, effects, journal
        self.producer, self.clause_text, self.open_sealed, self.redact = producer, clause_text, open_sealed, redact
        self.policy, self.window, self.transport, self.clock = policy, window or AttemptWindow(), transport, clock
        self.lanes = Lanes(self._limits)
        self._adapters: dict[tuple[str, str], Adapter] = {}

    def _limits(self, tenant: str, platform: str) -> tuple[float, int]:
        config = self.tenants[tenant].platform(platform)
        return config.rate_per_minute, config.concurrency

    def adapter(self, tenant: str, platform: str) -> Optional[Adapter]:
        key = (tenant, platform)
        if key not in self._adapters:
            delivery = self.tenants.get(tenant)
            config = delivery.platform(platform) if delivery else None
            if config is None:
                return None
            self._adapters[key] = make_adapter(config, open_sealed=self.open_sealed, transport=self.transport)
        return self._adapters[key]

    async def close(self) -> None:
        for adapter in self._adapters.values():
            await adapter.close()

    # -- inputs -------------------------------------------------------------------------
    def remember(self, event: ConversationReceived) -> None:
        raw = self.threads.get(event.conversation_id)
        previous = Thread.from_dict(raw) if raw else None
        self.threads[event.conversation_id] = thread_of(event, previous).to_dict()

    def thread(self, conversation_id: str) -> Optional[Thread]:
        raw = self.threads.get(conversation_id)
        return Thread.from_dict(raw) if raw else None

    async def on_event(self, event: AvroRecord, *, partition_key: str, offset: int,
                       retry: RetryState = RetryState()) -> Work:
        """One reply or decision (fresh or parked) from ``partition_key`` at ``offset``."""
        thread = self.thread(event.conversation_id)
        if isinstance(event, ReplyOutbound):
            plan = plan_reply(event, thread)
        elif isinstance(event, RoutedDecision):
            if thread is None:
                return self._park_unknown(event, retry)
            plan = plan_decision(event, thread, self.clause_text)
        else:
            raise TypeError(f"delivery does not deliver {type(event).__name__}")
        maybe_attempted = await self._maybe_attempted(partition_key, offset) or retry.maybe_attempted
        work = Work()
        for effect in plan.suppressed:  # loop prevention: receipted, never written
            if self.effects.get(effect.key) is None:
                self._record(effect, EffectState.suppressed, None, 0)
                work.receipts.append(self._receipt(effect, DeliveryOutcome.suppressed, reason=plan.skipped, attempts=0))
                metrics.EFFECTS.labels(effect.tenant, effect.platform, effect.kind.value, "suppressed").inc()
        for effect in plan.effects:
            await self._one(effect, thread, event, retry, maybe_attempted, work)
        self.window.processed(partition_key, offset)
        return work

    def _park_unknown(self, event: AvroRecord, retry: RetryState) -> Work:
        attempts = retry.attempts + 1
        if attempts >= self.policy.max_attempts:
            return Work(dead_letters=[("unknown_conversation",
                                       f"no conversations.received record for this conversation after {attempts} tries")])
        return Work(park=(event, self._retry_headers(attempts, UNKNOWN_THREAD_WAIT * attempts, retry.maybe_attempted)))

    async def _maybe_attempted(self, partition_key: str, offset: int) -> bool:
        if self.window.needs_reload(partition_key, offset):
            self.window.reloaded(partition_key, await self.journal.amark(partition_key))
        maybe = self.window.maybe_attempted(partition_key, offset)
        mark = self.window.reservation_needed(partition_key, offset)
        if mark is not None:
            await self.journal.awrite(partition_key, mark)  # acknowledged before any platform call it covers
            self.window.reserved_up_to(partition_key, mark)
        return maybe

    # -- one effect ----------------------------------------------------------------------
    async def _one(self, effect: Effect, thread: Optional[Thread], event: AvroRecord, retry: RetryState,
                   maybe_attempted: bool, work: Work) -> None:
        labels = (effect.tenant, effect.platform, effect.kind.value)
        raw = self.effects.get(effect.key)
        step = next_step(EffectRecord.from_dict(raw) if raw else None, maybe_attempted=maybe_attempted,
                         writes_text=effect.writes_text)
        if step == Step.skip:
            metrics.EFFECTS.labels(*labels, "duplicate").inc()
            return
        adapter = self.adapter(effect.tenant, effect.platform)
        if adapter is None:
            reason = f"no {effect.platform!r} platform configured for tenant {effect.tenant!r}"
            self._record(effect, EffectState.suppressed, None, 0)
            work.receipts.append(self._receipt(effect, DeliveryOutcome.suppressed, reason=reason, attempts=0))
            metrics.EFFECTS.labels(*labels, "suppressed").inc()
            return
        lane = self.lanes.lane(effect.tenant, effect.platform)
        started = time.perf_counter()
        result = await deliver(effect, thread, adapter, lane, attempts_before=retry.attempts,
                               maybe_attempted=step == Step.look_up_then_post, policy=self.policy,
                               now=self.clock, redact=self.redact)
        metrics.LANE_COOLING.labels(effect.tenant, effect.platform).set(lane.cooling_for())
        if isinstance(result, Delivered):
            self._record(effect, EffectState.delivered, result.platform_id, result.attempts)
            latency = (result.delivered_at - effect.source_occurred_at).total_seconds()
            metrics.LATENCY.labels(effect.platform, effect.kind.value).observe(max(0.0, latency))
            metrics.EFFECTS.labels(*labels, "recovered" if result.recovered else "delivered").inc()
            metrics.ATTEMPTS.labels(effect.platform, "ok").inc()
            if effect.kind == DeliveryEffect.public_reply and effect.reply_kind == ReplyKind.answer:
                metrics.ANSWERS_DELIVERED.labels(effect.tenant, (effect.sent_by or "bot").split(":", 1)[0]).inc()
            work.receipts.append(self._receipt(
                effect, DeliveryOutcome.delivered, platform_id=result.platform_id, attempts=result.attempts,
                status=result.status, delivered_at=result.delivered_at, recovered=result.recovered,
                latency_ms=int(max(0.0, latency) * 1000)))
        elif isinstance(result, Suppressed):
            self._record(effect, EffectState.suppressed, None, retry.attempts)
            metrics.EFFECTS.labels(*labels, "suppressed").inc()
            work.receipts.append(self._receipt(effect, DeliveryOutcome.suppressed, reason=result.reason,
                                               attempts=retry.attempts))
        elif isinstance(result, Parked):
            metrics.EFFECTS.labels(*labels, "parked").inc()
            metrics.ATTEMPTS.labels(effect.platform, "rate_limited" if result.status == 429 else "transient").inc()
            if work.park is None:  # one parked copy of the record carries every effect still to do
                work.park = (event, self._retry_headers(result.attempts, result.after_seconds,
                                                        result.maybe_attempted or maybe_attempted))
            log.info("delivery parked", extra={"platform": effect.platform, "status": result.status,
                                               "attempts": result.attempts, "after_s": round(result.after_seconds, 1)})
        else:  # Failed: not recorded in the ledger, so replaying the dead letter tries it again
            metrics.EFFECTS.labels(*labels, "failed").inc()
            metrics.ATTEMPTS.labels(effect.platform, "permanent").inc()
            work.receipts.append(self._receipt(effect, DeliveryOutcome.failed, attempts=result.attempts,
                                               status=result.status, reason=result.reason))
            work.dead_letters.append((
                "delivery_failed",
                f"{effect.platform} {effect.kind.value} {effect.key}: {result.reason}; status {result.status}; "
                f"platform said: {result.body}"))
        log.debug("effect handled", extra={"platform": effect.platform, "effect": effect.kind.value,
                                           "seconds": round(time.perf_counter() - started, 4)})

    def _record(self, effect: Effect, state: EffectState, platform_id: Optional[str], attempts: int) -> None:
        self.effects[effect.key] = EffectRecord(state, platform_id, attempts, self.clock().isoformat()).to_dict()

    def _retry_headers(self, attempts: int, after: float, maybe_attempted: bool) -> dict[str, bytes]:
        return {ATTEMPT_HEADER: str(attempts).encode(), NOT_BEFORE_HEADER: f"{time.time() + after:.3f}".encode(),
                MAYBE_ATTEMPTED_HEADER: b"1" if maybe_attempted else b"0"}

    def _receipt(self, effect: Effect, outcome: DeliveryOutcome, *, attempts: int, platform_id: Optional[str] = None,
                 status: Optional[int] = None, reason: str = "", delivered_at: Optional[dt.datetime] = None,
                 recovered: bool = False, latency_ms: Optional[int] = None) -> DeliveryReceipt:
        event_id = str(uuid.uuid5(_RECEIPT_NAMESPACE, f"{effect.key}\x1f{outcome.value}"))
        return DeliveryReceipt(
            event_id=event_id, conversation_id=effect.conversation_id, causation_id=effect.source_event_id,
            tenant=effect.tenant, locale=effect.locale, producer=self.producer, occurred_at=self.clock(),
            effect_key=effect.key, effect=effect.kind, outcome=outcome, platform=effect.platform,
            external_id=effect.external_id, reply_kind=effect.reply_kind, sent_by=effect.sent_by,
            draft_id=effect.draft_id, platform_id=platform_id, attempts=max(1, attempts), latency_ms=latency_ms,
            delivered_at=delivered_at, status=status, reason=reason[:500], recovered=recovered,
        )


def not_before(headers: dict[str, bytes]) -> float:
    try:
        return float(headers.get(NOT_BEFORE_HEADER, b"0"))
    except ValueError:
        return 0.0


def receipt_summary(receipt: DeliveryReceipt) -> str:
    return json.dumps({"platform": receipt.platform, "effect": receipt.effect.value, "outcome": receipt.outcome.value})
