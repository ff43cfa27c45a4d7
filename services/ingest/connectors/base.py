"""What every connector returns, and the parsing helpers they share.

A connector turns one source payload into a ``NormalisedTicket``: plain
dataclasses with the *unredacted* text (redaction happens next, in one place,
for every source). Field names follow each platform's documentation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

import orjson

from casetrail.events.conversation import Attachment, AuthorRole
from services.ingest import budget, html_text
from services.ingest.automated import Automated
from services.ingest.rejections import EMPTY_BODY, INVALID_FIELD, INVALID_JSON, INVALID_UTF8, MISSING_FIELD, Rejected

ParseFn = Callable[[bytes, Mapping[str, str]], "NormalisedTicket"]


@dataclass(slots=True)
class NormalisedMessage:
    message_id: str
    author_role: AuthorRole
    sent_at: dt.datetime
    body_text: str
    author_id: Optional[str] = None
    attachments: list[Attachment] = field(default_factory=list)
    public: bool = True


@dataclass(slots=True)
class CustomerInfo:
    customer_id: str
    names: tuple[str, ...] = ()  # as the source gives them: redacted as NAME wherever they appear
    emails: tuple[str, ...] = ()
    tier: Optional[str] = None
    lifetime_value: Optional[float] = None
    region: Optional[str] = None
    timezone: Optional[str] = None
    locale: Optional[str] = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class NormalisedTicket:
    source: str
    external_id: str
    channel: str
    messages: list[NormalisedMessage]
    customer: CustomerInfo
    subject: Optional[str] = None
    source_priority: Optional[str] = None
    tags: list[str] = field(default_factory=list)
    status: Optional[str] = None  # the source's own status word (open, solved, reopened...)
    created_at: Optional[dt.datetime] = None
    updated_at: Optional[dt.datetime] = None
    # What makes one delivery differ from a redelivery: the source's update stamp
    # (updated_at, version, event id). None: the content hash decides.
    update_stamp: Optional[str] = None
    declared_locale: Optional[str] = None
    # Written by a machine (auto-reply, bounce, list mail, platform automation): flagged, never answered.
    automated: Optional["Automated"] = None


class Connector(Protocol):
    name: str

    def parse(self, payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket: ...


@dataclass(frozen=True)
class FunctionConnector:
    """A connector made of a name and a parse function (what each module exports as ``CONNECTOR``)."""

    name: str
    parse_fn: ParseFn
    content_types: tuple[str, ...] = ("application/json",)

    def parse(self, payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
        return self.parse_fn(payload, attributes)


# ------------------------------------------------------------------ helpers
# Where a JSON number can start: the document start, or after ":", "[", "," and
# whitespace, with an optional "-". Mapped to one byte class each (digits -> "0",
# ":[," -> ":", JSON whitespace -> " ", other bytes -> "x"), a 19-digit integer
# becomes a plain substring test: one C pass (a regex for it costs ~10 us per
# payload), and long digit strings inside ids ("000...3") do not count.
_JSON_NUMBER_CLASSES = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x3A if b in b":[," else 0x20 if b in b" \t\n\r" else 0x2D if b == 0x2D else 0x78
    for b in range(256)
)
_NINETEEN_DIGITS = b"0" * 19
_LONG_NUMBER_STARTS = (b":" + _NINETEEN_DIGITS, b":-" + _NINETEEN_DIGITS, b" " + _NINETEEN_DIGITS, b" -" + _NINETEEN_DIGITS)


def _has_long_integer(payload: bytes) -> bool:
    """Whether ``payload`` may hold a JSON number with 19+ digits before any "." or exponent."""
    classes = payload.translate(_JSON_NUMBER_CLASSES)
    return classes.startswith((_NINETEEN_DIGITS, b"-" + _NINETEEN_DIGITS)) or any(
        start in classes for start in _LONG_NUMBER_STARTS)


def load_json(payload: bytes) -> Any:
    # orjson parses a valid payload to the same objects several times faster.
    # ``json`` decides everything else, so acceptance and error wording stay as
    # they were: whatever orjson refuses (invalid JSON, but also NaN/Infinity,
    # lone surrogate escapes, a byte-order mark, deeper nesting, which ``json``
    # accepts) and any payload with a 19+ digit number, because orjson turns
    # integers beyond 64 bits into floats (an id would lose digits).
    if not _has_long_integer(payload):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    try:
        # Decode here: given bytes, ``json`` guesses UTF-16/32 from NUL bytes at the start.
        doc = json.loads(payload.decode("utf-8-sig"))
        # orjson refused it: a lone surrogate escape ("\ud800") may be why; such a string can
        # never be encoded again (events, hashes, logs), so it is refused here, once.
        if b"\\u" in payload:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        return doc
    except UnicodeEncodeError:
        raise Rejected(INVALID_JSON, "payload JSON holds a lone UTF-16 surrogate escape") from None
    except UnicodeDecodeError as exc:
        raise Rejected(INVALID_UTF8, f"payload is not valid UTF-8 (byte {exc.start}: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise Rejected(INVALID_JSON, f"payload is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Rejected(INVALID_JSON, "payload JSON nests too deeply") from None
    except ValueError:  # int() refuses numbers of more than sys.get_int_max_str_digits() digits
        raise Rejected(INVALID_JSON, "payload JSON holds a number with too many digits") from None


def require(obj: Any, *path: str, source: str) -> Any:
    """``obj[path[0]][path[1]]...``; a missing or null step is a precise ``missing_field``."""
    current = obj
    walked: list[str] = []
    for key in path:
        walked.append(key)
        if not isinstance(current, Mapping) or current.get(key) in (None, ""):
            raise Rejected(MISSING_FIELD, f"{source} payload lacks required field {'.'.join(walked)}")
        current = current[key]
    return current


def optional(obj: Any, *path: str, default: Any = None) -> Any:
    current = obj
    for key in path:
        if not isinstance(current, Mapping) or current.get(key) is None:
            return default
        current = current[key]
    return current


def as_str(value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    return str(value)


def parse_time(value: Any, *, field_name: str, source: str) -> dt.datetime:
    """ISO 8601 strings, ``YYYY-MM-DD HH:MM:SS`` (UTC, ServiceNow) or Unix seconds/ms -> aware UTC."""
    if isinstance(value, bool):
        raise Rejected(INVALID_FIELD, f"{source} field {field_name} is not a timestamp")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return _millis(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))
        except (OverflowError, OSError, ValueError):
            raise Rejected(INVALID_FIELD, f"{source} field {field_name} is out of range") from None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_time(int(text), field_name=field_name, source=source)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        # Zendesk event timestamps carry nanoseconds; Python takes microseconds.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = "".join(ch for ch in rest if ch.isdigit())
            zone = rest[len(digits):]
            text = f"{head}.{digits[:6]}{zone}"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Rejected(INVALID_FIELD, f"{source} field {field_name} is not an ISO 8601 timestamp") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return _millis(parsed.astimezone(dt.timezone.utc))
    raise Rejected(INVALID_FIELD, f"{source} field {field_name} is not a timestamp")


def optional_time(value: Any, *, field_name: str, source: str) -> Optional[dt.datetime]:
    if value in (None, ""):
        return None
    return parse_time(value, field_name=field_name, source=source)


def _millis(value: dt.datetime) -> dt.datetime:
    # Avro timestamp-millis: keep what survives a round trip.
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def body_text(text: Optional[str] = None, html: Optional[str] = None) -> str:
    """Plain text from whichever the source gave; HTML is converted (and bomb-checked)."""
    budget.check("a message body")
    if text is not None and not isinstance(text, str) or html is not None and not isinstance(html, str):
        raise Rejected(INVALID_FIELD, "a message body (text or html) is not a string")
    if text and text.strip():
        if html_text.looks_like_html(text):
            return html_text.html_to_text(text)
        return html_text.tidy(text)
    if html and html.strip():
        return html_text.html_to_text(html)
    return ""


def non_empty(messages: list[NormalisedMessage], *, source: str) -> list[NormalisedMessage]:
    kept = [m for m in messages if m.body_text.strip() or m.attachments]
    if not kept:
        raise Rejected(EMPTY_BODY, f"{source} payload has no message text and no attachment")
    return kept


def pseudonymous_id(kind: str, value: str) -> str:
    """A stable id for a customer known only by an address (no address downstream)."""
    return f"{kind}-{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:20]}"


_TIER_KEYS = ("tier", "plan", "customer_tier", "support_tier", "plan_name", "subscription")
_LTV_KEYS = ("lifetime_value", "ltv", "customer_lifetime_value", "total_spend", "clv")
_REGION_KEYS = ("region", "country", "country_code", "market")


def customer_facts(attributes: Mapping[str, Any]) -> tuple[Optional[str], Optional[float], Optional[str], dict[str, str]]:
    """Tier, lifetime value and region from a source's custom attributes (common key spellings)."""
    # Freshdesk prefixes custom fields with "cf_"; the meaning is in the rest.
    lowered = {str(k).lower().removeprefix("cf_"): v for k, v in attributes.items() if v not in (None, "")}
    tier = next((str(lowered[k]) for k in _TIER_KEYS if k in lowered), None)
    ltv: Optional[float] = None
    for key in _LTV_KEYS:
        if key in lowered:
            try:
                ltv = float(lowered[key])
            except (TypeError, ValueError):
                ltv = None
            break
    region = next((str(lowered[k]) for k in _REGION_KEYS if k in lowered), None)
    rest = {
        str(k): str(v) for k, v in attributes.items()
        if v not in (None, "") and not isinstance(v, (dict, list))
        and str(k).lower().removeprefix("cf_") not in (*_TIER_KEYS, *_LTV_KEYS, *_REGION_KEYS)
    }
    return tier, ltv, region, rest


def attachment(filename: Any, content_type: Any = None, size: Any = None, url: Any = None) -> Attachment:
    try:
        size_bytes = int(size) if size not in (None, "") else None
    except (TypeError, ValueError):
        size_bytes = None
    return Attachment(
        filename=str(filename or "attachment"),
        content_type=str(content_type or "application/octet-stream"),
        size_bytes=size_bytes,
        url=as_str(url),
    )
