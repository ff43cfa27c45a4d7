import datetime as dt

import pytest

from casetrail.policy.calendar import BusinessCalendar
from casetrail.policy.tenant import OpeningHours, SlaPolicy, TenantPolicy
from services.triage.sla import sla_due

UTC = dt.timezone.utc
WEEKDAYS = {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def _policy(business_hours_only=True, **hours) -> TenantPolicy:
    return TenantPolicy(
        tenant="t", policy_version="1",
        business_hours=OpeningHours(timezone="Europe/Vilnius", holidays_country="LT",
                                    schedule={**WEEKDAYS, "sat": "10:00-14:00", "sun": "closed", **hours}),
        categories={},
        sla=SlaPolicy(business_hours_only=business_hours_only, targets={
            "default": {"urgent": "1h", "high": "4h", "normal": "24h", "low": "48h"},
            "platinum": {"high": "1h", "normal": "4h"}}),
    )


def test_due_time_rolls_over_closing_time_into_saturday_hours():
    # Friday 17:30 in Vilnius (UTC+2): 30 min left on Friday, 3.5 h on Saturday from 10:00 local.
    due = sla_due(_policy(), "default", "high", dt.datetime(2026, 11, 20, 15, 30, tzinfo=UTC))
    assert due.policy_label == "default/high"
    assert due.due_at == dt.datetime(2026, 11, 21, 11, 30, tzinfo=UTC)


def test_public_holidays_and_sunday_are_skipped():
    # Wed 23 Dec 17:00 local; 24-26 Dec are Lithuanian holidays, 27 Dec is a Sunday.
    due = sla_due(_policy(), "platinum", "normal", dt.datetime(2026, 12, 23, 15, 0, tzinfo=UTC))
    assert due.policy_label == "platinum/normal"
    assert due.due_at == dt.datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # Mon 08:00 local + 3 h


def test_unknown_tier_falls_back_to_default_and_wall_clock_when_configured():
    received = dt.datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # Saturday night
    due = sla_due(_policy(business_hours_only=False), "gold", "urgent", received)
    assert due.policy_label == "default/urgent" and due.due_at == received + dt.timedelta(hours=1)


def test_daylight_saving_change_uses_true_local_hours():
    # Sunday 29 March 2026 Vilnius switches to UTC+3. Friday 27 March 17:00 local (15:00 UTC)
    # + 2 h: 1 h on Friday, then Saturday 10:00 local = 07:00 UTC (after the switch? no: switch is Sunday).
    cal = BusinessCalendar(_policy().business_hours)
    assert cal.add_business_time(dt.datetime(2026, 3, 27, 15, 0, tzinfo=UTC), dt.timedelta(hours=2)) == \
        dt.datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    # Monday 30 March opens at 08:00 local = 05:00 UTC (UTC+3 now)
    assert cal.add_business_time(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC), dt.timedelta(minutes=30)) == \
        dt.datetime(2026, 3, 30, 5, 30, tzinfo=UTC)


def test_is_open_and_elapsed_business_time():
    cal = BusinessCalendar(_policy().business_hours)
    assert cal.is_open(dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday 10:00 local
    assert not cal.is_open(dt.datetime(2026, 11, 22, 8, 0, tzinfo=UTC))  # Sunday
    assert not cal.is_open(dt.datetime(2026, 12, 25, 8, 0, tzinfo=UTC))  # Christmas
    elapsed = cal.business_time_between(dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC), dt.datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert elapsed == dt.timedelta(hours=1) + dt.timedelta(hours=4) + dt.timedelta(hours=1)


def test_empty_schedule_is_always_open_and_naive_datetimes_are_refused():
    cal = BusinessCalendar(OpeningHours())
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert cal.add_business_time(start, dt.timedelta(hours=5)) == start + dt.timedelta(hours=5)
    with pytest.raises(ValueError):
        cal.add_business_time(dt.datetime(2026, 1, 1), dt.timedelta(hours=1))
