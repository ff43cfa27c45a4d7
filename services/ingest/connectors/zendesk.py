"""Zendesk: the Ticket API object and the event-based ticket webhooks.

Accepted shapes (field names from the Zendesk API reference):

* Ticket API: ``{"ticket": {id, subject, description, status, priority, type, tags,
  requester_id, via: {channel}, created_at, updated_at, ...}}`` with the optional
  side-loads ``comments`` (``GET /tickets/{id}/comments``: id, author_id, body,
  html_body, plain_body, public, attachments[{file_name, content_type, size,
  content_url}], created_at) and ``users`` (id, name, email, role, locale,
  time_zone, user_fields).
* A bare Ticket object (the same fields, not wrapped), as trigger webhooks with a
  custom JSON body and some exports send it.
* Webhook events: ``{"type": "zen:event-type:ticket.created" | "...ticket.comment_added",
  "id", "time", "subject": "zen:ticket:<id>", "detail": {id, subject, description,
  status, priority, tags, requester_id, via: {channel}, created_at, updated_at, ...},
  "event": {"comment": {id, body, is_public, author: {id, is_staff, name}}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casetrail.events.conversation import AuthorRole
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, as_str, attachment, body_text,
    customer_facts, load_json, non_empty, optional, optional_time, parse_time, require,
)
from services.ingest.automated import from_zendesk_via
from services.ingest.rejections import INVALID_FIELD, UNSUPPORTED_EVENT, Rejected

SOURCE = "zendesk"
_CHANNELS = {"web": "web", "web_form": "web", "email": "email", "mail": "email", "api": "api", "chat": "chat",
             "native_messaging": "chat", "messaging": "chat", "mobile": "app", "mobile_sdk": "app",
             "voice": "phone", "facebook": "social", "twitter": "social", "whatsapp": "chat"}
_EVENTS = ("zen:event-type:ticket.created", "zen:event-type:ticket.comment_added")


def _channel(ticket: Mapping[str, Any]) -> str:
    raw = str(optional(ticket, "via", "channel", default="web")).lower()
    return _CHANNELS.get(raw, raw)


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(t) for t in value]
    if isinstance(value, str):
        return value.split()
    return []


def _customer(requester_id: str, users: Mapping[str, Mapping[str, Any]]) -> CustomerInfo:
    user = users.get(requester_id, {})
    tier, ltv, region, rest = customer_facts(user.get("user_fields") or {})
    org = as_str(user.get("organization_id"))
    if org:
        rest["organization_id"] = org
    return CustomerInfo(
        customer_id=requester_id,
        names=tuple(n for n in (as_str(user.get("name")),) if n),
        emails=tuple(e for e in (as_str(user.get("email")),) if e),
        tier=tier, lifetime_value=ltv, region=region,
        timezone=as_str(user.get("iana_time_zone")) or as_str(user.get("time_zone")),
        locale=as_str(user.get("locale")),
        attributes=rest,
    )


def _role(author_id: str | None, requester_id: str, users: Mapping[str, Mapping[str, Any]], is_staff: Any = None) -> AuthorRole:
    if is_staff is not None:
        return AuthorRole.agent if is_staff else AuthorRole.customer
    role = str(users.get(author_id or "", {}).get("role", ""))
    if role in ("agent", "admin"):
        return AuthorRole.agent
    if author_id == "-1":  # Zendesk's system user
        return AuthorRole.system
    return AuthorRole.customer if (role == "end-user" or author_id == requester_id) else AuthorRole.agent


def _from_api(doc: Mapping[str, Any]) -> NormalisedTicket:
    ticket = doc["ticket"]
    if not isinstance(ticket, Mapping):
        raise Rejected(INVALID_FIELD, "zendesk field ticket must be an object")
    ticket_id = str(require(ticket, "id", source=SOURCE))
    requester_id = str(require(ticket, "requester_id", source=SOURCE))
    users = {str(u.get("id")): u for u in doc.get("users") or [] if isinstance(u, Mapping)}
    created = parse_time(require(ticket, "created_at", source=SOURCE), field_name="ticket.created_at", source=SOURCE)
    comments = doc.get("comments") or ticket.get("comments") or []
    messages: list[NormalisedMessage] = []
    for comment in comments:
        if not isinstance(comment, Mapping):
            continue
        author_id = as_str(comment.get("author_id"))
        messages.append(NormalisedMessage(
            message_id=str(comment.get("id") or f"{ticket_id}-{len(messages)}"),
            author_role=_role(author_id, requester_id, users),
            author_id=author_id,
            sent_at=optional_time(comment.get("created_at"), field_name="comments[].created_at", source=SOURCE) or created,
            body_text=body_text(comment.get("plain_body") or comment.get("body"), comment.get("html_body")),
            attachments=[attachment(a.get("file_name"), a.get("content_type"), a.get("size"), a.get("content_url"))
                         for a in comment.get("attachments") or [] if isinstance(a, Mapping)],
            public=bool(comment.get("public", True)),
        ))
    messages = [m for m in messages if m.public]
    if not messages:  # no side-loaded comments: the description is the first comment
        messages.append(NormalisedMessage(
            message_id=f"{ticket_id}-description", author_role=AuthorRole.customer, author_id=requester_id,
            sent_at=created, body_text=body_text(ticket.get("description")),
        ))
    return NormalisedTicket(
        source=SOURCE, external_id=ticket_id, channel=_channel(ticket), subject=as_str(ticket.get("subject")),
        messages=non_empty(messages, source=SOURCE), customer=_customer(requester_id, users),
        source_priority=as_str(ticket.get("priority")), tags=_tags(ticket.get("tags")),
        status=as_str(ticket.get("status")), created_at=created,
        updated_at=optional_time(ticket.get("updated_at"), field_name="ticket.updated_at", source=SOURCE),
        update_stamp=as_str(ticket.get("updated_at")),
        declared_locale=_customer(requester_id, users).locale,
        automated=from_zendesk_via(ticket.get("via")),
    )


def _from_event(doc: Mapping[str, Any]) -> NormalisedTicket:
    event_type = str(doc.get("type"))
    if event_type not in _EVENTS:
        raise Rejected(UNSUPPORTED_EVENT, f"zendesk event type {event_type[:80]!r} carries no message; subscribe to {', '.join(_EVENTS)}")
    detail = require(doc, "detail", source=SOURCE)
    ticket_id = str(require(detail, "id", source=SOURCE))
    requester_id = str(require(detail, "requester_id", source=SOURCE))
    event_time = parse_time(require(doc, "time", source=SOURCE), field_name="time", source=SOURCE)
    created = optional_time(detail.get("created_at"), field_name="detail.created_at", source=SOURCE) or event_time
    if event_type.endswith("ticket.created"):
        message = NormalisedMessage(
            message_id=f"{ticket_id}-description", author_role=AuthorRole.customer, author_id=requester_id,
            sent_at=created, body_text=body_text(require(detail, "description", source=SOURCE)),
        )
    else:
        comment = require(doc, "event", "comment", source=SOURCE)
        author = comment.get("author") or {}
        author_id = as_str(author.get("id"))
        message = NormalisedMessage(
            message_id=str(comment.get("id") or doc.get("id")),
            author_role=_role(author_id, requester_id, {}, author.get("is_staff")),
            author_id=author_id, sent_at=event_time,
            body_text=body_text(require(comment, "body", source=SOURCE)),
            public=bool(comment.get("is_public", True)),
        )
        if not message.public:
            raise Rejected(UNSUPPORTED_EVENT, "zendesk comment is an internal note (is_public=false), not customer conversation")
    status = as_str(detail.get("status"))
    customer = _customer(requester_id, {})
    author_name = as_str(optional(doc, "event", "comment", "author", "name"))
    if author_name and message.author_role == AuthorRole.customer:
        customer.names = (author_name,)
    return NormalisedTicket(
        source=SOURCE, external_id=ticket_id, channel=_channel(detail), subject=as_str(detail.get("subject")),
        messages=non_empty([message], source=SOURCE), customer=customer,
        source_priority=as_str(detail.get("priority")).lower() if detail.get("priority") else None,
        tags=_tags(detail.get("tags")), status=status.lower() if status else None, created_at=created,
        updated_at=optional_time(detail.get("updated_at"), field_name="detail.updated_at", source=SOURCE),
        update_stamp=as_str(doc.get("id")) or as_str(detail.get("updated_at")),
        automated=from_zendesk_via(detail.get("via")),
    )


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    doc = load_json(payload)
    if not isinstance(doc, Mapping):
        raise Rejected(INVALID_FIELD, "zendesk payload must be a JSON object")
    if "ticket" in doc:
        return _from_api(doc)
    if str(doc.get("type", "")).startswith("zen:event-type:"):
        return _from_event(doc)
    if "id" in doc and ("requester_id" in doc or "description" in doc):
        # A bare Ticket object (a trigger's custom body, or a ticket fetched without the wrapper).
        return _from_api({"ticket": doc})
    raise Rejected(INVALID_FIELD, "zendesk payload is neither a Ticket object (bare or {\"ticket\": ...}) nor a zen:event-type webhook")


CONNECTOR = FunctionConnector(SOURCE, parse)
