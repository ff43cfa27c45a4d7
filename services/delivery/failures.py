"""What a platform's answer means for the delivery (pure).

* 2xx: accepted.
* 429: rate limited; wait ``Retry-After`` (seconds or an HTTP date), else the
  ``X-RateLimit-Reset`` / ``X-Ratelimit-Reset`` epoch, else a default. The
  request was not processed, so a retry needs no lookup.
* 408, 409 (Zendesk's concurrent-update conflict), 5xx, timeouts, dropped
  connections: transient; retried with jittered back-off. Everything except a
  refused connection and a 409 is *ambiguous*: the platform may have accepted
  the write, so the next try of a text-writing effect searches for it first.
* any other 4xx (400, 401, 403, 404, 413, 422, ...): will never succeed as
  sent; dead-lettered at once with the status and the (redacted) body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_RATE_LIMIT_WAIT = 30.0
MAX_WAIT = 3600.0
BODY_CHARS = 500
TRANSIENT_STATUSES = frozenset({408, 409, 425, 500, 502, 503, 504})
UNAMBIGUOUS_TRANSIENT = frozenset({409, 425})


class Kind(str, enum.Enum):
    accepted = "accepted"
    transient = "transient"
    permanent = "permanent"


@dataclass(frozen=True)
class Classified:
    kind: Kind
    retry_after: Optional[float] = None  # seconds the platform asked us to wait
    ambiguous: bool = False  # the write may have landed anyway
    rate_limited: bool = False


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def retry_after_seconds(headers: Mapping[str, str], now: dt.datetime) -> Optional[float]:
    raw = _header(headers, "Retry-After")
    if raw:
        raw = raw.strip()
        try:
            return min(MAX_WAIT, max(0.0, float(raw)))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=dt.timezone.utc)
                return min(MAX_WAIT, max(0.0, (when - now).total_seconds()))
    reset = _header(headers, "X-RateLimit-Reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # an epoch (Intercom, ServiceNow) or, when small, seconds to wait
        seconds = value - now.timestamp() if value > 1e9 else value
        return min(MAX_WAIT, max(0.0, seconds))
    return None


def classify(status: int, headers: Mapping[str, str], now: dt.datetime) -> Classified:
    if 200 <= status < 300:
        return Classified(Kind.accepted)
    if status == 429:
        wait = retry_after_seconds(headers, now)
        return Classified(Kind.transient, DEFAULT_RATE_LIMIT_WAIT if wait is None else wait, rate_limited=True)
    if status in TRANSIENT_STATUSES:
        return Classified(Kind.transient, retry_after_seconds(headers, now),
                          ambiguous=status not in UNAMBIGUOUS_TRANSIENT)
    return Classified(Kind.permanent)


def transport_failure(*, request_sent: bool) -> Classified:
    """A timeout or dropped connection: ambiguous once the request may have reached the platform."""
    return Classified(Kind.transient, None, ambiguous=request_sent)


def summarise_body(body: str, redact) -> str:
    """The platform's error body for a dead letter: personal data redacted, bounded."""
    text = " ".join((body or "").split())[: BODY_CHARS * 2]
    return redact(text)[:BODY_CHARS]
