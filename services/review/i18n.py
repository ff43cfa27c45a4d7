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

from babel.dates import format_datetime, format_timedelta
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


class Translator:
    def __init__(self, locale: str, timezone: str = "UTC"):
        self.locale = locale if locale in UI_LOCALES else "en"
        self.messages = catalogue(self.locale)
        self.tz = ZoneInfo(timezone)

    def __call__(self, key: str, **values) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def datetime(self, value: Optional[dt.datetime], format: str = "short") -> str:
        if value is None:
            return "–"
        return format_datetime(value, format, tzinfo=self.tz, locale=self.locale)

    def number(self, value: float, digits: int = 2) -> str:
        return format_decimal(round(value, digits), locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)

    def duration(self, seconds: float) -> str:
        return format_timedelta(dt.timedelta(seconds=abs(seconds)), threshold=1.2, format="short",
                                locale=self.locale)
