"""Why an intake record is refused: a reason code for the dead letter, a message for humans.

Reason messages name fields, sizes and limits - never ticket text or personal data.
"""

from __future__ import annotations

INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
UNKNOWN_SOURCE = "unknown_source"
MISSING_FIELD = "missing_field"
INVALID_FIELD = "invalid_field"
PAYLOAD_TOO_LARGE = "payload_too_large"
HTML_BOMB = "html_bomb"
EMPTY_BODY = "empty_body"
INVALID_EMAIL = "invalid_email"
UNSUPPORTED_EVENT = "unsupported_event"
TOO_EXPENSIVE = "too_expensive"  # the record's processing exceeded its CPU budget (services/ingest/budget.py)
PAYLOAD_ERASED = "payload_erased"  # a sealed intake payload whose customer was erased before ingest read it

REASON_CODES = (
    INVALID_UTF8, INVALID_JSON, UNKNOWN_SOURCE, MISSING_FIELD, INVALID_FIELD, PAYLOAD_TOO_LARGE,
    HTML_BOMB, EMPTY_BODY, INVALID_EMAIL, UNSUPPORTED_EVENT, TOO_EXPENSIVE, PAYLOAD_ERASED,
)


class Rejected(Exception):
    """The payload cannot become a conversation; goes to the dead-letter topic."""

    def __init__(self, reason_code: str, reason: str):
        super().__init__(f"{reason_code}: {reason}")
        self.reason_code = reason_code
        self.reason = reason


def failure_site(exc: BaseException) -> str:
    """``module:function:line`` where ``exc`` was raised: names code, never data."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.name}:{frame.lineno}"
