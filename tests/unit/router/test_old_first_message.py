"""A ticket whose first message is older than ten years (an old or forged ``Date`` header) is routed,
not dead-lettered: business-time arithmetic over a long span must not take it for a schedule that
never opens (issue 17, "real payload shapes")."""

import datetime as dt

import pytest

from casetrail.policy.calendar import BusinessCalendar
from services.router.decide import route
from tests.unit.router.factories import OPEN_NOW, PRODUCER, acme, verified


def test_first_message_fourteen_years_old_gets_a_decision():
    event = verified(received_at=dt.datetime(2012, 1, 1, tzinfo=dt.timezone.utc),
                     sla_due_at=OPEN_NOW + dt.timedelta(hours=4))
    outcome = route(event, acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action.value == "send"


def test_long_span_counts_open_time_over_every_year():
    calendar = BusinessCalendar(acme().business_hours)
    start = dt.datetime(2012, 1, 1, tzinfo=dt.timezone.utc)
    twelve_years = calendar.business_time_between(start, start + dt.timedelta(days=365 * 12))
    one_year = calendar.business_time_between(start, start + dt.timedelta(days=365))
    assert twelve_years > 11 * one_year


def test_a_schedule_that_never_opens_is_still_refused():
    closed_every_day = _EveryDayAHoliday(acme().business_hours)
    with pytest.raises(ValueError, match="no open hours in ten years"):
        next(closed_every_day.open_intervals(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))


class _EveryDayAHoliday(BusinessCalendar):
    def is_holiday(self, day):
        return True
