"""Durations as tenant configuration writes them: ``15m``, ``4h``, ``2d``, ``1h30m``."""

from __future__ import annotations

import datetime as dt
import re

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> dt.timedelta:
    cleaned = str(text).strip().lower().replace(" ", "")
    parts = _PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 4h, 2d, 1h30m)")
    delta = dt.timedelta()
    for number, unit in parts:
        delta += dt.timedelta(**{_UNITS[unit]: int(number)})
    return delta
