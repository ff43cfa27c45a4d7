"""Generic JSON for in-house systems (format documented in services/ingest/README.md).

    {"external_id": "T-1001", "channel": "chat", "subject": "...", "status": "open",
     "priority": "high", "tags": ["..."], "locale": "de", "updated_at": "...",
     "customer": {"id": "c-1", "name": "...", "email": "...", "tier": "gold",
                  "lifetime_value": 1234.5, "region": "EU", "timezone": "Europe/Berlin",
                  "attributes": {"k": "v"}},
     "messages": [{"id": "m1", "author": "customer", "author_id": "c-1",
                   "sent_at": "2025-03-03T10:12:00Z", "text": "..." | "html": "...",
                   "attachments": [{"filename": "a.pdf", "content_type": "application/pdf",
                                    "size_bytes": 1234, "url": "https://..."}]}]}
"""

from __future__ import annotations

from typing import Mapping

from casetrail.events.conversation import AuthorRole
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, as_str, attachment, body_text,
    load_json, non_empty, optional, optional_time, parse_time, require,
)
from services.ingest.rejections import INVALID_FIELD, Rejected

SOURCE = "generic"
_ROLES = {role.value: role for role in AuthorRole}


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    doc = load_json(payload)
    if not isinstance(doc, dict):
        raise Rejected(INVALID_FIELD, "generic payload must be a JSON object")
    external_id = str(require(doc, "external_id", source=SOURCE))
    customer_doc = require(doc, "customer", source=SOURCE)
    customer_id = str(require(customer_doc, "id", source=SOURCE))
    raw_messages = require(doc, "messages", source=SOURCE)
    if not isinstance(raw_messages, list):
        raise Rejected(INVALID_FIELD, "generic field messages must be a list")
    messages = []
    for index, raw in enumerate(raw_messages):
        if not isinstance(raw, dict):
            raise Rejected(INVALID_FIELD, f"generic messages[{index}] must be an object")
        role_name = str(raw.get("author") or "customer").lower()
        if role_name not in _ROLES:
            raise Rejected(INVALID_FIELD, f"generic messages[{index}].author must be one of {', '.join(_ROLES)}")
        sent_at = parse_time(require(raw, "sent_at", source=f"{SOURCE} messages[{index}]"), field_name=f"messages[{index}].sent_at", source=SOURCE)
        messages.append(NormalisedMessage(
            message_id=str(raw.get("id") or f"{external_id}-{index}"),
            author_role=_ROLES[role_name],
            author_id=as_str(raw.get("author_id")),
            sent_at=sent_at,
            body_text=body_text(raw.get("text"), raw.get("html")),
            attachments=[attachment(a.get("filename"), a.get("content_type"), a.get("size_bytes"), a.get("url"))
                         for a in raw.get("attachments") or [] if isinstance(a, dict)],
        ))
    ltv = customer_doc.get("lifetime_value")
    try:
        ltv = float(ltv) if ltv is not None else None
    except (TypeError, ValueError):
        raise Rejected(INVALID_FIELD, "generic field customer.lifetime_value must be a number") from None
    customer = CustomerInfo(
        customer_id=customer_id,
        names=tuple(n for n in (as_str(customer_doc.get("name")),) if n),
        emails=tuple(e for e in (as_str(customer_doc.get("email")),) if e),
        tier=as_str(customer_doc.get("tier")),
        lifetime_value=ltv,
        region=as_str(customer_doc.get("region")),
        timezone=as_str(customer_doc.get("timezone")),
        locale=as_str(customer_doc.get("locale")),
        attributes={str(k): str(v) for k, v in (customer_doc.get("attributes") or {}).items()},
    )
    tags = doc.get("tags") or []
    return NormalisedTicket(
        source=SOURCE,
        external_id=external_id,
        channel=str(doc.get("channel") or "web"),
        subject=as_str(doc.get("subject")),
        messages=non_empty(messages, source=SOURCE),
        customer=customer,
        source_priority=as_str(doc.get("priority")),
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        status=as_str(doc.get("status")),
        created_at=optional_time(doc.get("created_at"), field_name="created_at", source=SOURCE),
        updated_at=optional_time(doc.get("updated_at"), field_name="updated_at", source=SOURCE),
        update_stamp=as_str(doc.get("updated_at")) or as_str(optional(doc, "version")),
        declared_locale=as_str(doc.get("locale")) or customer.locale,
    )


CONNECTOR = FunctionConnector(SOURCE, parse)
