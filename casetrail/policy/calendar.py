"""Business-hours arithmetic in a tenant's time zone, skipping public holidays.

Shared by triage (SLA due time) and the router (SLA timers, "is the team open").
Holidays come from the ``holidays`` package for ``OpeningHours.holidays_country``
(ISO code, e.g. ``LT``). An empty schedule means open around the clock.
Local-time arithmetic uses ``zoneinfo``, so a business day that spans a DST
change has its true length.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Iterator, Optional

from casetrail.policy.tenant import OpeningHours

_UTC = dt.timezone.utc
_MAX_DAYS = 3660  # ten years of closed days means the calendar is misconfigured


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


def preload_holidays(policy, today: Optional[dt.date] = None) -> int:
    """Load the public holidays every calendar of ``policy`` uses (this year and next).

    The ``holidays`` package builds a country's calendar on first use, which
    costs a second of CPU or more (lunar calendars); services call this at
    start-up so the first ticket of a year does not pay for it. Returns how
    many country-years were loaded.
    """
    year = (today or dt.date.today()).year
    hours = [policy.business_hours, *(team.hours for team in policy.teams if team.hours is not None)]
    countries = {h.holidays_country for h in hours if h.holidays_country}
    for country in countries:
        for y in (year, year + 1):
            _country_holidays(country, y)
    return 2 * len(countries)


class BusinessCalendar:
    def __init__(self, hours: OpeningHours) -> None:
        self.hours = hours
        self.zone = hours.zone
        self.always_open = not hours.schedule

    def is_holiday(self, day: dt.date) -> bool:
        country = self.hours.holidays_country
        return bool(country) and day in _country_holidays(country, day.year)

    def holiday_name(self, day: dt.date) -> Optional[str]:
        if not self.hours.holidays_country:
            return None
        import holidays

        return holidays.country_holidays(self.hours.holidays_country, years=day.year).get(day)

    def open_intervals(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open intervals (UTC, aware) from ``start`` onwards, in order, the first clipped to ``start``."""
        start = _aware(start)
        if self.always_open:
            yield start, dt.datetime.max.replace(tzinfo=_UTC)
            return
        day = start.astimezone(self.zone).date()
        # Endless for a schedule that opens at all (callers stop when they have what they
        # need: a span that starts years back, e.g. an old Date header, is still a span);
        # only ten years without one open interval means the schedule never opens.
        closed_days = 0
        while closed_days < _MAX_DAYS:
            hours = None if self.is_holiday(day) else self.hours.hours_on(day.weekday())
            closed_days += 1
            if hours is not None:
                opens = dt.datetime.combine(day, hours[0], tzinfo=self.zone).astimezone(_UTC)
                closes = dt.datetime.combine(day, hours[1], tzinfo=self.zone).astimezone(_UTC)
                if closes > start:
                    closed_days = 0
                    yield max(opens, start), closes
            day += dt.timedelta(days=1)
        raise ValueError("business calendar has no open hours in ten years; check the schedule")

    def is_open(self, at: dt.datetime) -> bool:
        at = _aware(at)
        first = next(self.open_intervals(at))
        return first[0] <= at < first[1]

    def add_business_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment ``duration`` of open time has elapsed after ``start`` (UTC, aware)."""
        remaining = duration
        start = _aware(start)
        if remaining <= dt.timedelta(0):
            return start
        for opens, closes in self.open_intervals(start):
            available = closes - opens
            if remaining <= available:
                return opens + remaining
            remaining -= available
        raise AssertionError("unreachable")

    def business_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Open time elapsed between two moments (zero if ``end`` <= ``start``)."""
        start, end = _aware(start), _aware(end)
        total = dt.timedelta(0)
        if end <= start:
            return total
        for opens, closes in self.open_intervals(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("business-hours arithmetic needs time-zone-aware datetimes")
    return moment.astimezone(_UTC)
