"""Freshdesk: the API v2 Ticket object and automation-rule webhooks.

Accepted shapes (Freshdesk API v2 reference):

* Ticket: ``{id, subject, description (HTML), description_text, status (2 open,
  3 pending, 4 resolved, 5 closed), priority (1 low .. 4 urgent), source (1 email,
  2 portal, 3 phone, 7 chat, 9 feedback widget, 10 outbound email), requester_id,
  requester {id, name, email}, tags, created_at, updated_at, custom_fields,
  attachments[{name, content_type, size, attachment_url}],
  conversations[{id, body, body_text, incoming, private, user_id, created_at, attachments}]}``
  (``?include=requester,conversations``).
* Automation webhook with the "simple" content placeholders:
  ``{"freshdesk_webhook": {ticket_id, ticket_subject, ticket_description,
  ticket_status, ticket_priority, ticket_source, ticket_tags,
  ticket_requester_id | ticket_contact_id, ticket_requester_name, ticket_requester_email,
  ticket_latest_public_comment, ticket_created_at, ticket_updated_at}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casetrail.events.conversation import AuthorRole
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, as_str, attachment, body_text,
    customer_facts, load_json, non_empty, optional_time, parse_time, pseudonymous_id, require,
)
from services.ingest.rejections import INVALID_FIELD, MISSING_FIELD, UNSUPPORTED_EVENT, Rejected

SOURCE = "freshdesk"
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
_TICKET_EVENTS = ("onTicketCreate", "onTicketUpdate")
CHANNEL = {1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web", 10: "email", 4: "social", 5: "social", 6: "social"}


def _code(table: Mapping[int, str], value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return table.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value).lower()


def _attachments(items: Any) -> list:
    return [attachment(a.get("name"), a.get("content_type"), a.get("size"), a.get("attachment_url"))
            for a in items or [] if isinstance(a, Mapping)]


def _from_ticket(ticket: Mapping[str, Any]) -> NormalisedTicket:
    ticket_id = str(require(ticket, "id", source=SOURCE))
    requester_id = str(require(ticket, "requester_id", source=SOURCE))
    created = parse_time(require(ticket, "created_at", source=SOURCE), field_name="created_at", source=SOURCE)
    requester = ticket.get("requester") or {}
    locale = as_str(requester.get("language")) if isinstance(requester, Mapping) else None
    messages = [NormalisedMessage(
        message_id=f"{ticket_id}-description", author_role=AuthorRole.customer, author_id=requester_id,
        sent_at=created, body_text=body_text(None, ticket.get("description")) if ticket.get("description") else body_text(ticket.get("description_text")),
        attachments=_attachments(ticket.get("attachments")),
    )]
    for note in ticket.get("conversations") or []:
        if not isinstance(note, Mapping) or note.get("private"):
            continue  # private notes are internal, never customer conversation
        incoming = bool(note.get("incoming"))
        messages.append(NormalisedMessage(
            message_id=str(note.get("id")), author_role=AuthorRole.customer if incoming else AuthorRole.agent,
            author_id=as_str(note.get("user_id")),
            sent_at=optional_time(note.get("created_at"), field_name="conversations[].created_at", source=SOURCE) or created,
            body_text=body_text(None, note.get("body")) if note.get("body") else body_text(note.get("body_text")),
            attachments=_attachments(note.get("attachments")),
        ))
    tier, ltv, region, rest = customer_facts(ticket.get("custom_fields") or {})
    return NormalisedTicket(
        source=SOURCE, external_id=ticket_id, channel=_code(CHANNEL, ticket.get("source")) or "web",
        subject=as_str(ticket.get("subject")), messages=non_empty(messages, source=SOURCE),
        customer=CustomerInfo(
            customer_id=requester_id,
            names=tuple(n for n in (as_str(requester.get("name")),) if n),
            emails=tuple(e for e in (as_str(requester.get("email")),) if e),
            tier=tier, lifetime_value=ltv, region=region, attributes=rest,
        ),
        source_priority=_code(PRIORITY, ticket.get("priority")), tags=[str(t) for t in ticket.get("tags") or []],
        status=_code(STATUS, ticket.get("status")), created_at=created,
        updated_at=optional_time(ticket.get("updated_at"), field_name="updated_at", source=SOURCE),
        update_stamp=as_str(ticket.get("updated_at")), declared_locale=locale,
    )


def _from_webhook(hook: Mapping[str, Any]) -> NormalisedTicket:
    ticket_id = str(require(hook, "ticket_id", source=SOURCE))
    email = as_str(hook.get("ticket_requester_email")) or as_str(hook.get("ticket_contact_email"))
    requester_id = as_str(hook.get("ticket_requester_id")) or as_str(hook.get("ticket_contact_id")) or (
        pseudonymous_id("email", email) if email else None)
    if requester_id is None:
        raise Rejected("missing_field", "freshdesk webhook lacks ticket_requester_id (or ticket_requester_email)")
    created = optional_time(hook.get("ticket_created_at"), field_name="ticket_created_at", source=SOURCE)
    updated = optional_time(hook.get("ticket_updated_at"), field_name="ticket_updated_at", source=SOURCE)
    when = updated or created
    if when is None:
        raise Rejected("missing_field", "freshdesk webhook lacks ticket_created_at / ticket_updated_at")
    latest = hook.get("ticket_latest_public_comment")
    text = body_text(None, latest) if latest else body_text(None, require(hook, "ticket_description", source=SOURCE))
    tags = hook.get("ticket_tags") or ""
    name = as_str(hook.get("ticket_requester_name")) or as_str(hook.get("ticket_contact_name"))
    return NormalisedTicket(
        source=SOURCE, external_id=ticket_id, channel=str(hook.get("ticket_source") or "web").lower(),
        subject=as_str(hook.get("ticket_subject")),
        messages=non_empty([NormalisedMessage(message_id=f"{ticket_id}-{'latest' if latest else 'description'}",
                                              author_role=AuthorRole.customer, author_id=requester_id,
                                              sent_at=when, body_text=text)], source=SOURCE),
        customer=CustomerInfo(customer_id=requester_id, names=(name,) if name else (), emails=(email,) if email else ()),
        source_priority=as_str(hook.get("ticket_priority")).lower() if hook.get("ticket_priority") else None,
        tags=[t.strip() for t in tags.split(",") if t.strip()] if isinstance(tags, str)
        else [str(t) for t in tags] if isinstance(tags, list) else [],
        status=as_str(hook.get("ticket_status")).lower() if hook.get("ticket_status") else None,
        created_at=created, updated_at=updated, update_stamp=as_str(hook.get("ticket_updated_at")),
    )


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    doc = load_json(payload)
    if not isinstance(doc, Mapping):
        raise Rejected(INVALID_FIELD, "freshdesk payload must be a JSON object")
    if isinstance(doc.get("freshdesk_webhook"), Mapping):
        return _from_webhook(doc["freshdesk_webhook"])
    data = doc.get("data")
    if isinstance(data, Mapping) and ("ticket" in data or "event" in doc):
        return _from_product_event(doc, data)
    return _from_ticket(doc)


def _from_product_event(doc: Mapping[str, Any], data: Mapping[str, Any]) -> NormalisedTicket:
    """A Freshworks app (FDK) product event: ``{"event": "onTicketCreate", "data": {"ticket", "requester", "actor"}}``."""
    event = str(doc.get("event") or "")
    if event and event not in _TICKET_EVENTS:
        raise Rejected(UNSUPPORTED_EVENT, f"freshdesk product event {event[:60]!r} carries no ticket text; subscribe to {', '.join(_TICKET_EVENTS)}")
    ticket = data.get("ticket")
    if not isinstance(ticket, Mapping):
        raise Rejected(MISSING_FIELD, "freshdesk product event lacks required field data.ticket")
    requester = data.get("requester")
    merged = dict(ticket)
    if isinstance(requester, Mapping):
        merged.setdefault("requester", requester)
        if merged.get("requester_id") in (None, "") and requester.get("id") not in (None, ""):
            merged["requester_id"] = requester["id"]
    try:
        return _from_ticket(merged)
    except Rejected as exc:  # name the field where the product event has it
        raise Rejected(exc.reason_code, exc.reason.replace("lacks required field ", "lacks required field data.ticket.")) from None


CONNECTOR = FunctionConnector(SOURCE, parse)
