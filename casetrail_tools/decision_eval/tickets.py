"""The ticket file of ``casetrail eval decisions`` and the intake payload each line becomes.

One JSON object per line::

    {"id": str, "text": str, "subject": str?, "locale": str?, "source": str? (default generic),
     "expected": {"category": str?, "human": bool?, "locale": str?, "sentiment": str?}?}

``locale`` is the channel's language hint (what a ticketing platform says of the
requester), not the answer: the expected locale, when known, is ``expected.locale``.
Unknown keys are allowed (datasets carry their own tags). A malformed line stops
the run with an error naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

SOURCES = ("generic", "email", "zendesk")
SENTIMENTS = ("very_negative", "negative", "neutral", "positive")


class TicketFileError(ValueError):
    """The ticket file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Expected:
    category: Optional[str] = None
    human: Optional[bool] = None
    locale: Optional[str] = None
    sentiment: Optional[str] = None


@dataclass(frozen=True)
class EvalTicket:
    id: str
    text: str
    subject: Optional[str] = None
    locale: Optional[str] = None
    source: str = "generic"
    expected: Expected = Expected()


def _optional_str(doc: dict, key: str, where: str) -> Optional[str]:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise TicketFileError(f"{where}: {key!r} must be a string")
    return value


def parse_ticket(doc: object, where: str) -> EvalTicket:
    if not isinstance(doc, dict):
        raise TicketFileError(f"{where}: a ticket is a JSON object")
    ticket_id, text = doc.get("id"), doc.get("text")
    if not isinstance(ticket_id, str) or not ticket_id:
        raise TicketFileError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(text, str):
        raise TicketFileError(f"{where}: 'text' must be a string")
    source = _optional_str(doc, "source", where) or "generic"
    if source not in SOURCES:
        raise TicketFileError(f"{where}: source {source!r} is not one of {', '.join(SOURCES)}")
    raw_expected = doc.get("expected") or {}
    if not isinstance(raw_expected, dict):
        raise TicketFileError(f"{where}: 'expected' must be an object")
    human = raw_expected.get("human")
    if human is not None and not isinstance(human, bool):
        raise TicketFileError(f"{where}: 'expected.human' must be true or false")
    sentiment = _optional_str(raw_expected, "sentiment", where)
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise TicketFileError(f"{where}: 'expected.sentiment' must be one of {', '.join(SENTIMENTS)}")
    expected = Expected(category=_optional_str(raw_expected, "category", where), human=human,
                        locale=_optional_str(raw_expected, "locale", where), sentiment=sentiment)
    return EvalTicket(id=ticket_id, text=text, subject=_optional_str(doc, "subject", where),
                      locale=_optional_str(doc, "locale", where), source=source, expected=expected)


def read_tickets(path: Path) -> list[EvalTicket]:
    tickets: list[EvalTicket] = []
    seen: set[str] = set()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TicketFileError(f"{path}: cannot read: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TicketFileError(f"{where}: not JSON: {exc.msg}") from None
        ticket = parse_ticket(doc, where)
        if ticket.id in seen:
            raise TicketFileError(f"{where}: duplicate id {ticket.id!r}")
        seen.add(ticket.id)
        tickets.append(ticket)
    if not tickets:
        raise TicketFileError(f"{path}: no tickets")
    return tickets


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def intake_payload(ticket: EvalTicket, at: dt.datetime) -> tuple[str, bytes, str]:
    """``(source, payload bytes, content type)`` of the ticket as its source would send it.

    Every ticket is a new customer's first message (``eval-<id>``), written at ``at``.
    """
    customer = f"eval-{ticket.id}"
    if ticket.source == "email":
        sender = f"{customer}@customers.example"
        headers = [f"From: {sender}", "To: support@shop.example", f"Subject: {ticket.subject or ''}",
                   f"Date: {email.utils.format_datetime(at)}", f"Message-ID: <{ticket.id}@customers.example>",
                   "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                   "Content-Transfer-Encoding: 8bit"]
        if ticket.locale:
            headers.append(f"Content-Language: {ticket.locale}")
        return "email", ("\r\n".join(headers) + "\r\n\r\n" + ticket.text).encode("utf-8"), "message/rfc822"
    if ticket.source == "zendesk":
        number = zlib.crc32(ticket.id.encode()) % 10**9  # stable across runs (hash() is salted)
        doc = {
            "ticket": {"id": number, "subject": ticket.subject or "", "description": ticket.text, "status": "new",
                       "requester_id": 1, "via": {"channel": "web"}, "created_at": _iso(at), "updated_at": _iso(at)},
            "comments": [{"id": 1, "author_id": 1, "public": True, "created_at": _iso(at), "body": ticket.text}],
            "users": [{"id": 1, "name": "", "role": "end-user", **({"locale": ticket.locale} if ticket.locale else {})}],
        }
        return "zendesk", json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json"
    doc = {
        "external_id": ticket.id, "channel": "email" if ticket.subject else "chat", "subject": ticket.subject,
        "status": "open", "updated_at": _iso(at),
        "customer": {"id": customer, "tier": "standard", "region": "EU"},
        "messages": [{"id": f"{ticket.id}-m1", "author": "customer", "author_id": customer, "sent_at": _iso(at),
                      "text": ticket.text}],
    }
    if ticket.locale:
        doc["locale"] = ticket.locale
    return "generic", json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json"
