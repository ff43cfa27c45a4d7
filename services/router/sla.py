"""SLA timers as pure state: when a case is at risk, when it is breached, when it stops.

The due time comes from triage (``sla_due_at``, already in business time per
tier and priority). The at-risk instant is the configured fraction of the SLA
measured from the moment the customer started waiting; when the tenant counts
SLAs in business hours the fraction is of business time (75 % of a 4-hour
SLA opened on Friday evening is reached on Monday morning, not on Sunday).

A timer is a frozen record of typed state (``SlaState``), stored as a JSON dict in a
service table (changelog: state survives restarts). It also carries the SLA events
the tick already emitted for it (``fired``): no module-level memory of what fired. ``due_transitions`` is what the periodic tick calls:
it returns the SLA events a timer owes at ``now`` — both at once when the
router was down across the at-risk and the due instant, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Optional

from casetrail.events.decision import SlaEventKind
from casetrail.policy.tenant import OpeningHours

from services.router.hours import add_business_time, business_time_between



class SlaState(str, enum.Enum):
    running = "running"
    at_risk = "at_risk"
    breached = "breached"  # closed: the due time passed unanswered
    stopped = "stopped"  # closed: answered or resolved


RUNNING, AT_RISK, BREACHED, STOPPED = SlaState.running, SlaState.at_risk, SlaState.breached, SlaState.stopped
OPEN_STATES = frozenset({RUNNING, AT_RISK})


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def at_risk_instant(
    started_at: dt.datetime,
    due_at: dt.datetime,
    fraction: float,
    hours: Optional[OpeningHours] = None,
) -> dt.datetime:
    """``started_at`` + ``fraction`` of the SLA (of business time when ``hours`` is given)."""
    started_at, due_at = _aware(started_at), _aware(due_at)
    if due_at <= started_at:
        return due_at
    if hours is not None:
        total = business_time_between(hours, started_at, due_at)
        if total > dt.timedelta():
            return min(add_business_time(hours, started_at, total * fraction), due_at)
    return started_at + (due_at - started_at) * fraction


@dataclass(frozen=True)
class SlaTimer:
    conversation_id: str
    tenant: str
    locale: str
    started_at: dt.datetime
    due_at: dt.datetime
    at_risk_at: dt.datetime
    fraction: float
    queue: Optional[str] = None
    priority: Optional[str] = None
    draft_id: Optional[str] = None
    state: SlaState = RUNNING
    partition: Optional[int] = None  # source partition that owns it (timers run only for owned ones)
    # SLA events the tick already emitted for this timer: written in the same transaction as the
    # events, so a restarted or new owner of the partition never emits them again.
    fired: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "tenant": self.tenant,
            "locale": self.locale,
            "started_at": self.started_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "at_risk_at": self.at_risk_at.isoformat(),
            "fraction": self.fraction,
            "queue": self.queue,
            "priority": self.priority,
            "draft_id": self.draft_id,
            "state": self.state.value,
            "partition": self.partition,
            "fired": list(self.fired),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SlaTimer":
        return cls(
            conversation_id=data["conversation_id"],
            tenant=data["tenant"],
            locale=data["locale"],
            started_at=dt.datetime.fromisoformat(data["started_at"]),
            due_at=dt.datetime.fromisoformat(data["due_at"]),
            at_risk_at=dt.datetime.fromisoformat(data["at_risk_at"]),
            fraction=float(data["fraction"]),
            queue=data.get("queue"),
            priority=data.get("priority"),
            draft_id=data.get("draft_id"),
            state=SlaState(data.get("state", RUNNING.value)),
            partition=data.get("partition"),
            fired=tuple(data.get("fired", ())),
        )

    def with_state(self, state: SlaState) -> "SlaTimer":
        return SlaTimer(**{**self.__dict__, "state": state})

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


def due_transitions(timer: SlaTimer, now: dt.datetime) -> list[SlaEventKind]:
    """SLA events ``timer`` owes at ``now``, in order (empty when nothing is due, it stopped, or
    the tick already emitted them)."""
    if not timer.open:
        return []
    owed: list[SlaEventKind] = []
    if timer.state == RUNNING and now >= timer.at_risk_at:
        owed.append(SlaEventKind.at_risk)
    if now >= timer.due_at:
        owed.append(SlaEventKind.breached)
    return [kind for kind in owed if kind.value not in timer.fired]


def with_fired(timer: SlaTimer, kinds: list[SlaEventKind]) -> SlaTimer:
    """The timer once the tick emitted ``kinds`` for it."""
    return SlaTimer(**{**timer.__dict__, "fired": (*timer.fired, *(k.value for k in kinds))})


def state_after(kind: SlaEventKind) -> SlaState:
    return {
        SlaEventKind.started: RUNNING,
        SlaEventKind.at_risk: AT_RISK,
        SlaEventKind.breached: BREACHED,
        SlaEventKind.stopped: STOPPED,
    }[kind]


def apply_event(timer: Optional[SlaTimer], kind: SlaEventKind) -> Optional[SlaTimer]:
    """The timer after an SLA event (a stopped or breached timer never restarts by itself)."""
    if timer is None:
        return None
    if not timer.open:
        return timer
    if kind == SlaEventKind.at_risk and timer.state != RUNNING:
        return timer
    return timer.with_state(state_after(kind))
