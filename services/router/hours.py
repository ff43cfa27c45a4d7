"""Opening hours of a team: is it open now, when does it open next, business time.

Thin adapter over ``casetrail.policy.calendar.BusinessCalendar`` (shared with
triage, so the SLA due time and the router's timers agree on what a business
hour is): public holidays of ``holidays_country`` are closed days, an empty
schedule means always open.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from casetrail.policy.calendar import BusinessCalendar
from casetrail.policy.tenant import OpeningHours


def _calendar(hours: OpeningHours) -> BusinessCalendar:
    return BusinessCalendar(hours)


def is_open(hours: OpeningHours, when: dt.datetime) -> bool:
    try:
        return _calendar(hours).is_open(when)
    except ValueError:  # a schedule that never opens
        return False


def next_opening(hours: OpeningHours, when: dt.datetime) -> Optional[dt.datetime]:
    """``when`` itself if open, else the start of the next open interval (None: never opens)."""
    try:
        opens, _ = next(_calendar(hours).open_intervals(when))
    except ValueError:
        return None
    return opens.astimezone(hours.zone)


def business_time_between(hours: OpeningHours, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return _calendar(hours).business_time_between(start, end)


def add_business_time(hours: OpeningHours, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    return _calendar(hours).add_business_time(start, amount)
