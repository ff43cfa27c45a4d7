"""Team hours, holidays, and the out-of-hours acknowledgement."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from casetrail.events import Action
from casetrail.events.decision import ReplyKind
from casetrail.policy.tenant import OpeningHours
from factories import CLOSED_NOW, OPEN_NOW, PRODUCER, acme, verified
from services.router.decide import route
from services.router.hours import add_business_time, business_time_between, is_open, next_opening

VILNIUS = ZoneInfo("Europe/Vilnius")
WEEKDAYS = OpeningHours(timezone="Europe/Vilnius", holidays_country="LT",
                        schedule={d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")})


def local(*args):
    return dt.datetime(*args, tzinfo=VILNIUS)


@pytest.mark.parametrize(
    "when, open_",
    [
        (local(2026, 11, 25, 8, 0), True),  # Wednesday opening minute
        (local(2026, 11, 25, 17, 59), True),
        (local(2026, 11, 25, 18, 0), False),  # closing time is exclusive
        (local(2026, 11, 28, 12, 0), False),  # Saturday
        (local(2026, 12, 25, 10, 0), False),  # Christmas Day, a Lithuanian public holiday (Friday)
    ],
)
def test_is_open(when, open_):
    assert is_open(WEEKDAYS, when) is open_


def test_next_opening_skips_weekend_and_holidays():
    assert next_opening(WEEKDAYS, local(2026, 11, 27, 19, 0)) == local(2026, 11, 30, 8, 0)
    # Thursday 24 Dec evening -> 25 Dec (holiday) and 26 Dec (holiday, Saturday) -> Monday 28 Dec
    assert next_opening(WEEKDAYS, local(2026, 12, 24, 19, 0)) == local(2026, 12, 28, 8, 0)
    assert next_opening(OpeningHours(), local(2026, 12, 24, 19, 0)) == local(2026, 12, 24, 19, 0)  # no schedule: 24/7


def test_business_time_arithmetic():
    friday_evening = local(2026, 11, 27, 17, 0)
    assert business_time_between(WEEKDAYS, friday_evening, local(2026, 11, 30, 11, 0)) == dt.timedelta(hours=4)
    assert add_business_time(WEEKDAYS, friday_evening, dt.timedelta(hours=3)) == local(2026, 11, 30, 10, 0)


def test_outside_hours_a_human_case_is_acknowledged_in_the_customers_language():
    event = verified(category="payment_issue", locale="de", received_at=CLOSED_NOW)
    outcome = route(event, acme(), CLOSED_NOW, PRODUCER)  # Sunday 03:00 in Vilnius
    decision = outcome.decision
    assert decision.action == Action.acknowledge
    assert decision.deferred_action == Action.escalate and decision.queue == "payments-team"
    assert decision.human_from == local(2026, 11, 30, 8, 0)
    assert decision.brief is not None  # the agent still gets the brief when they open
    [ack] = outcome.replies
    assert ack.kind == ReplyKind.acknowledgement and ack.idempotency_key.endswith(":acknowledgement")
    assert "Montag, 30. November 2026" in ack.body and "08:00" in ack.body
    assert "automatische" in ack.body  # says it is automated


def test_acknowledgement_uses_the_customers_time_zone_when_known():
    event = verified(confidence=0.5, received_at=CLOSED_NOW, timezone="Europe/Lisbon")
    [ack] = route(event, acme(), CLOSED_NOW, PRODUCER).replies
    assert "6:00" in ack.body and "Western European" in ack.body  # 08:00 Vilnius = 06:00 Lisbon


@pytest.mark.parametrize(
    "overrides, action, rule",
    [
        (dict(category="fraud_report"), Action.escalate, "fraud-immediately"),
        (dict(sentiment=-0.9), Action.escalate, "very-negative-sentiment"),
        # no rule fires: an urgent draft the model is unsure of goes to a human, not to an acknowledgement
        (dict(priority="urgent", confidence=0.5), Action.review, None),
    ],
)
def test_urgent_cases_still_escalate_outside_hours(overrides, action, rule):
    outcome = route(verified(received_at=CLOSED_NOW, **overrides), acme(), CLOSED_NOW, PRODUCER)
    assert outcome.decision.action == action
    assert outcome.decision.rule == rule
    assert outcome.replies == []


def test_a_team_with_its_own_hours_is_open_when_the_tenant_is_closed():
    # engineering-oncall works 24/7: a non-urgent bug report at night is reviewed there, not acknowledged.
    outcome = route(verified(category="bug_report", received_at=CLOSED_NOW), acme(), CLOSED_NOW, PRODUCER)
    assert (outcome.decision.action, outcome.decision.queue) == (Action.review, "engineering-oncall")


def test_autonomous_replies_are_sent_at_night():
    outcome = route(verified(received_at=CLOSED_NOW), acme(), CLOSED_NOW, PRODUCER)
    assert outcome.decision.action == Action.send
    assert [r.kind for r in outcome.replies] == [ReplyKind.answer]


@pytest.mark.parametrize("locale, needle", [("en", "Monday"), ("fr", "lundi"), ("es", "lunes"), ("lt", "pirmadienis")])
def test_acknowledgement_languages(locale, needle):
    [ack] = route(verified(confidence=0.5, locale=locale, received_at=CLOSED_NOW), acme(), CLOSED_NOW, PRODUCER).replies
    assert needle in ack.body


def test_open_hours_no_acknowledgement():
    outcome = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action == Action.review and outcome.replies == []
