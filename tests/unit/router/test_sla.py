"""SLA timer scheduling as pure state transitions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from casetrail.events import Action
from casetrail.events.decision import SlaEventKind
from casetrail.policy.tenant import OpeningHours
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.decide import route
import services.router.sla as sla_module
from services.router.sla import (
    AT_RISK, RUNNING, STOPPED, SlaState, SlaTimer, apply_event, at_risk_instant, due_transitions, with_fired,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def timer(**kw) -> SlaTimer:
    base = dict(conversation_id="c", tenant="acme-shop", locale="en", started_at=T0, due_at=T0 + dt.timedelta(hours=4),
                at_risk_at=T0 + dt.timedelta(hours=3), fraction=0.75, draft_id="d")
    return SlaTimer(**{**base, **kw})


def test_at_risk_instant_wall_clock_and_business_time():
    assert at_risk_instant(T0, T0 + dt.timedelta(hours=4), 0.75) == T0 + dt.timedelta(hours=3)
    vilnius = ZoneInfo("Europe/Vilnius")
    hours = OpeningHours(timezone="Europe/Vilnius", schedule={d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")})
    friday_17 = dt.datetime(2026, 11, 27, 17, 0, tzinfo=vilnius)
    monday_11 = dt.datetime(2026, 11, 30, 11, 0, tzinfo=vilnius)
    # 4 business hours: Friday 17-18 and Monday 08-11; 75 % = 3 h -> Monday 10:00, not Sunday.
    assert at_risk_instant(friday_17, monday_11, 0.75, hours) == dt.datetime(2026, 11, 30, 10, 0, tzinfo=vilnius)


def test_transitions_in_order():
    t = timer()
    assert due_transitions(t, T0 + dt.timedelta(hours=2)) == []
    assert due_transitions(t, T0 + dt.timedelta(hours=3)) == [SlaEventKind.at_risk]
    at_risk = apply_event(t, SlaEventKind.at_risk)
    assert at_risk.state == AT_RISK
    assert due_transitions(at_risk, T0 + dt.timedelta(hours=3, minutes=30)) == []  # at-risk fires once
    assert due_transitions(at_risk, T0 + dt.timedelta(hours=4)) == [SlaEventKind.breached]
    assert apply_event(at_risk, SlaEventKind.breached).open is False


def test_catch_up_after_downtime_emits_both():
    assert due_transitions(timer(), T0 + dt.timedelta(hours=9)) == [SlaEventKind.at_risk, SlaEventKind.breached]


def test_stopped_timer_never_fires_again():
    stopped = apply_event(timer(), SlaEventKind.stopped)
    assert stopped.state == STOPPED
    assert due_transitions(stopped, T0 + dt.timedelta(days=3)) == []
    assert apply_event(stopped, SlaEventKind.at_risk).state == STOPPED  # a late at-risk does not reopen it


def test_timer_roundtrips_through_json_state():
    t = timer(queue="payments-team", priority="high", partition=2)
    assert SlaTimer.from_dict(t.to_dict()) == t
    assert t.state == RUNNING


def test_what_the_tick_fired_lives_in_the_timer_record_not_in_the_module():
    """A restarted router (or the partition's next owner) reads ``fired`` back from the table and
    never emits the same SLA event twice; the module keeps no memory of its own."""
    t = timer()
    late = T0 + dt.timedelta(hours=9)
    fired = with_fired(t, due_transitions(t, late))
    assert t.fired == () and fired.fired == ("at_risk", "breached")
    restored = SlaTimer.from_dict(fired.to_dict())
    assert restored == fired and due_transitions(restored, late) == []
    assert due_transitions(SlaTimer.from_dict(t.to_dict()), late) == [SlaEventKind.at_risk, SlaEventKind.breached]
    mutable = [name for name, value in vars(sla_module).items()
               if isinstance(value, (set, list, dict)) and not name.startswith("__")]
    assert mutable == []


def test_the_timer_state_is_typed_and_stored_by_name():
    stored = timer().with_state(STOPPED).to_dict()
    assert stored["state"] == "stopped" and SlaTimer.from_dict(stored).state is SlaState.stopped
    legacy = {k: v for k, v in timer().to_dict().items() if k not in ("state", "fired")}
    assert SlaTimer.from_dict(legacy).state is SlaState.running and SlaTimer.from_dict(legacy).fired == ()


def test_decision_starts_a_timer_only_when_a_human_must_answer():
    due = OPEN_NOW + dt.timedelta(hours=4)
    review = route(verified(confidence=0.5, sla_due_at=due), acme(), OPEN_NOW, PRODUCER)
    assert review.decision.action == Action.review
    started = review.sla_started
    assert started.kind == SlaEventKind.started and started.due_at == due and started.draft_id == "draft-1"
    assert started.at_risk_at == OPEN_NOW + dt.timedelta(hours=3)  # 75 % inside Wednesday's hours
    sent = route(verified(sla_due_at=due), acme(), OPEN_NOW, PRODUCER)
    assert sent.decision.action == Action.send and sent.sla_started is None
    spam = route(verified(spam=True, sla_due_at=due), acme(), OPEN_NOW, PRODUCER)
    assert spam.sla_started is None


def test_fraction_is_injectable():
    due = OPEN_NOW + dt.timedelta(hours=4)
    outcome = route(verified(confidence=0.5, sla_due_at=due), acme(), OPEN_NOW, PRODUCER, at_risk_fraction=0.5)
    assert outcome.sla_started.at_risk_at == OPEN_NOW + dt.timedelta(hours=2)
    assert outcome.sla_started.fraction == 0.5
