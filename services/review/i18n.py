"""Interface strings in en, de, fr, es, lt, and dates, numbers and durations localised with Babel.

Catalogues are JSON files under ``locales/`` (one per interface locale, the
same keys in each: a unit test holds them to it). ``Translator`` looks a key
up in the chosen locale and falls back to English for nothing: a missing key
is a bug the test catches, so at run time it shows the key itself.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_timedelta, parse_pattern
from babel.numbers import format_decimal, format_percent

from services.review.config import UI_LOCALES

LOCALES_DIR = Path(__file__).parent / "locales"


@lru_cache(maxsize=None)
def catalogue(locale: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def pick_locale(*candidates: Optional[str]) -> str:
    """The first supported interface locale among ``candidates`` (e.g. ?lang, the account's, Accept-Language)."""
    for candidate in candidates:
        if not candidate:
            continue
        for part in candidate.replace(";", ",").split(","):
            code = part.strip().lower()[:2]
            if code in UI_LOCALES:
                return code
    return "en"


@lru_cache(maxsize=64)
def translator(locale: str, timezone: str = "UTC") -> "Translator":
    """One translator per (locale, time zone): Babel's locale data is looked up once, not per value."""
    return Translator(locale, timezone)


class Translator:
    def __init__(self, locale: str, timezone: str = "UTC"):
        self.locale = locale if locale in UI_LOCALES else "en"
        self.messages = catalogue(self.locale)
        self.tz = ZoneInfo(timezone)
        self._babel = Locale.parse(self.locale)
        # Babel's format_datetime finds the patterns in the locale data on every call (about 2 ms):
        # a queue page shows two dates per row, so the short patterns are parsed once here.
        self._date = parse_pattern(self._babel.date_formats["short"].pattern)
        self._time = parse_pattern(self._babel.time_formats["short"].pattern)
        self._joined = self._babel.datetime_formats["short"]

    def __call__(self, key: str, **values) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def signal(self, name: str) -> str:
        """A handoff-brief signal's label: translated when the catalogue knows it (the router may add
        signals the console does not know yet: those show their name, readably)."""
        key = "signal_" + name.replace(".", "_")
        return self.messages[key] if key in self.messages else name.replace("_", " ").replace(".", " ").capitalize()

    def datetime(self, value: Optional[dt.datetime]) -> str:
        """Date and time in the locale's short form, in the tenant's time zone."""
        if value is None:
            return "–"
        local = value.astimezone(self.tz)
        return self._joined.replace("{1}", self._date.apply(local, self._babel)).replace(
            "{0}", self._time.apply(local, self._babel))

    def number(self, value: float, digits: int = 2) -> str:
        return format_decimal(round(value, digits), locale=self._babel)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self._babel)

    def duration(self, seconds: float) -> str:
        return format_timedelta(dt.timedelta(seconds=abs(seconds)), threshold=1.2, format="short",
                                locale=self._babel)
