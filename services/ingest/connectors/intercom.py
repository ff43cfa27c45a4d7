"""Intercom: conversation webhook notifications (``notification_event``).

Shape (Intercom webhook reference): ``{"type": "notification_event", "id": "notif_...",
"topic": "conversation.user.created" | "conversation.user.replied" | "conversation.admin.replied" | ...,
"delivery_attempts", "created_at", "data": {"item": <Conversation>}}`` where the
conversation has ``id, created_at, updated_at`` (Unix seconds), ``title``, ``state``,
``priority`` ("priority"/"not_priority"), ``tags.tags[].name``, ``custom_attributes``,
``source {id, delivered_as, subject, body (HTML), author {type, id, name, email}, attachments[]}``,
``contacts.contacts[] {id, external_id}`` and
``conversation_parts.conversation_parts[] {id, part_type, body, created_at, author {type, id, name, email}, attachments[]}``.
A bare Conversation object (REST API) is accepted too, and so are Ticket objects
(``type: ticket``: ``ticket_id``, ``ticket_attributes._default_title_ /
_default_description_``, ``ticket_parts``, ``contacts``; bare or in ``ticket.*`` notifications)
and API 1.x conversations (``user``, ``conversation_message`` instead of ``contacts``, ``source``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casetrail.events.conversation import AuthorRole
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, as_str, attachment, body_text,
    customer_facts, load_json, non_empty, optional, parse_time, require,
)
from services.ingest.rejections import INVALID_FIELD, UNSUPPORTED_EVENT, Rejected

SOURCE = "intercom"
_ROLES = {"user": AuthorRole.customer, "lead": AuthorRole.customer, "contact": AuthorRole.customer,
          "admin": AuthorRole.agent, "team": AuthorRole.agent, "bot": AuthorRole.bot}
# Parts that carry conversation text (notes are internal; assignments carry none).
_TEXT_PARTS = {"comment", "open", "close", "quick_reply", "conversation_rating_changed"}  # "note": internal
_CHANNELS = {"customer_initiated": "chat", "admin_initiated": "chat", "automated": "chat",
             "campaigns_initiated": "chat", "operator_initiated": "chat"}


def _attachments(items: Any) -> list:
    return [attachment(a.get("name"), a.get("content_type"), a.get("filesize"), a.get("url"))
            for a in items or [] if isinstance(a, Mapping)]


def _ticket_as_conversation(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """An Intercom Ticket object in the conversation shape: title and description are the opening message."""
    attributes = ticket.get("ticket_attributes") if isinstance(ticket.get("ticket_attributes"), Mapping) else {}
    contacts = optional(ticket, "contacts", "contacts", default=[]) or []
    first = contacts[0] if contacts and isinstance(contacts[0], Mapping) else {}
    parts = optional(ticket, "ticket_parts", "ticket_parts", default=[]) or []
    return {
        "id": ticket.get("ticket_id") or ticket.get("id"), "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"), "title": attributes.get("_default_title_"),
        "state": ticket.get("ticket_state"), "contacts": {"contacts": contacts},
        "source": {"id": f"{ticket.get('id')}-description", "body": attributes.get("_default_description_"),
                   "author": {"type": "user", "id": first.get("id")}, "delivered_as": "customer_initiated"},
        "conversation_parts": {"conversation_parts": list(parts)},
        "custom_attributes": {k: v for k, v in attributes.items() if not str(k).startswith("_default_")},
    }


def _legacy_as_current(conversation: Mapping[str, Any]) -> dict[str, Any]:
    """API 1.x conversations: ``user`` and ``conversation_message`` (later ``contacts`` and ``source``)."""
    current = dict(conversation)
    message = conversation.get("conversation_message")
    current["source"] = dict(message) if isinstance(message, Mapping) else {}
    user = conversation.get("user")
    if isinstance(user, Mapping) and "contacts" not in conversation:
        current["contacts"] = {"contacts": [{"id": user.get("id"), "external_id": user.get("user_id")}]}
        author = current["source"].get("author")
        if isinstance(author, Mapping) and author.get("id") == user.get("id"):
            current["source"]["author"] = {**author, "name": user.get("name"), "email": user.get("email")}
    return current


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    doc = load_json(payload)
    if not isinstance(doc, Mapping):
        raise Rejected(INVALID_FIELD, "intercom payload must be a JSON object")
    stamp = None
    if doc.get("type") == "notification_event":
        topic = str(doc.get("topic", ""))
        if not topic.startswith(("conversation.", "ticket.")):
            raise Rejected(UNSUPPORTED_EVENT, f"intercom topic {topic[:80]!r} is neither a conversation nor a ticket topic")
        conversation = require(doc, "data", "item", source=SOURCE)
        stamp = as_str(doc.get("id"))
    elif doc.get("type") in ("conversation", "ticket"):
        conversation = doc
    else:
        raise Rejected(INVALID_FIELD, "intercom payload is neither a notification_event, a conversation nor a ticket")
    if not isinstance(conversation, Mapping):
        raise Rejected(INVALID_FIELD, "intercom data.item must be an object")
    if conversation.get("type") == "ticket":
        conversation = _ticket_as_conversation(conversation)
    elif "conversation_message" in conversation and "source" not in conversation:
        conversation = _legacy_as_current(conversation)
    conversation_id = str(require(conversation, "id", source=SOURCE))
    created = parse_time(require(conversation, "created_at", source=SOURCE), field_name="created_at", source=SOURCE)
    source_msg = conversation.get("source") or {}
    contacts = optional(conversation, "contacts", "contacts", default=[]) or []
    contact = contacts[0] if contacts and isinstance(contacts[0], Mapping) else {}
    author = source_msg.get("author") or {}
    customer_id = as_str(contact.get("external_id")) or as_str(contact.get("id")) or (
        as_str(author.get("id")) if _ROLES.get(str(author.get("type"))) == AuthorRole.customer else None)
    if customer_id is None:
        raise Rejected(INVALID_FIELD, "intercom conversation names no contact (contacts.contacts[0].id)")

    messages: list[NormalisedMessage] = []
    names: set[str] = set()
    emails: set[str] = set()

    def add(part_id: Any, who: Mapping[str, Any], when: Any, body: Any, files: Any) -> None:
        role = _ROLES.get(str(who.get("type")), AuthorRole.system)
        if role == AuthorRole.customer:
            if who.get("name"):
                names.add(str(who["name"]))
            if who.get("email"):
                emails.add(str(who["email"]))
        messages.append(NormalisedMessage(
            message_id=str(part_id), author_role=role, author_id=as_str(who.get("id")),
            sent_at=parse_time(when, field_name="created_at", source=SOURCE) if when else created,
            body_text=body_text(None, body) if body else "", attachments=_attachments(files),
        ))

    if source_msg:
        add(source_msg.get("id") or f"{conversation_id}-source", author, conversation.get("created_at"),
            source_msg.get("body"), source_msg.get("attachments"))
    for part in optional(conversation, "conversation_parts", "conversation_parts", default=[]) or []:
        if isinstance(part, Mapping) and part.get("part_type") in _TEXT_PARTS and (part.get("body") or part.get("attachments")):
            add(part.get("id"), part.get("author") or {}, part.get("created_at"), part.get("body"), part.get("attachments"))

    tier, ltv, region, rest = customer_facts(conversation.get("custom_attributes") or {})
    tags = [str(t.get("name")) for t in optional(conversation, "tags", "tags", default=[]) or [] if isinstance(t, Mapping)]
    priority = conversation.get("priority")
    return NormalisedTicket(
        source=SOURCE, external_id=conversation_id,
        channel=_CHANNELS.get(str(source_msg.get("delivered_as")), "email" if source_msg.get("type") == "email" else "chat"),
        subject=as_str(conversation.get("title")) or as_str(source_msg.get("subject")),
        messages=non_empty(messages, source=SOURCE),
        customer=CustomerInfo(customer_id=customer_id, names=tuple(sorted(names)), emails=tuple(sorted(emails)),
                              tier=tier, lifetime_value=ltv, region=region, attributes=rest),
        source_priority={"priority": "high", "not_priority": "normal"}.get(str(priority), as_str(priority)),
        tags=tags, status=as_str(conversation.get("state")), created_at=created,
        updated_at=parse_time(conversation["updated_at"], field_name="updated_at", source=SOURCE) if conversation.get("updated_at") else None,
        update_stamp=stamp or as_str(conversation.get("updated_at")),
    )


CONNECTOR = FunctionConnector(SOURCE, parse)
