import datetime as dt

from casetrail.policy import calendar
from casetrail.policy.tenant import OpeningHours, SlaPolicy, Team, TenantPolicy


def _policy() -> TenantPolicy:
    return TenantPolicy(
        tenant="t", policy_version="1",
        business_hours=OpeningHours(timezone="Europe/Vilnius", holidays_country="LT", schedule={"mon": "08:00-18:00"}),
        teams=[Team(name="berlin", hours=OpeningHours(timezone="Europe/Berlin", holidays_country="DE")),
               Team(name="anywhere")],
        categories={},
        sla=SlaPolicy(targets={"default": {"normal": "24h"}}),
    )


def test_preload_builds_every_country_calendar_for_this_year_and_next():
    calendar._country_holidays.cache_clear()
    loaded = calendar.preload_holidays(_policy(), today=dt.date(2026, 11, 24))
    assert loaded == 4
    assert calendar._country_holidays.cache_info().currsize == 4
    # What a ticket then asks for is served from the cache, not rebuilt.
    hits = calendar._country_holidays.cache_info().hits
    assert dt.date(2027, 2, 16) in calendar._country_holidays("LT", 2027)  # Restoration of the State Day
    assert dt.date(2026, 12, 25) in calendar._country_holidays("DE", 2026)
    assert calendar._country_holidays.cache_info().hits == hits + 2


def test_preload_without_holiday_countries_loads_nothing():
    policy = _policy().model_copy(update={"business_hours": OpeningHours(), "teams": []})
    assert calendar.preload_holidays(policy) == 0
