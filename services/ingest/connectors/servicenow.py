"""ServiceNow: incident and CSM case records from the Table API (or an outbound REST message).

Accepted shape (ServiceNow Table API): a record, or ``{"result": <record>}``, with
``sys_id, number (INC... / CS...), short_description, description, state, priority,
urgency, impact, contact_type, caller_id | contact | consumer | opened_by (the first
non-empty one), account, opened_at,
sys_created_on, sys_updated_on, sys_mod_count, sys_tags, comments`` (the journal:
``"<YYYY-MM-DD HH:MM:SS> - <name> (Additional comments)\\n<text>"`` entries, newest first).
Reference and choice fields may be plain values or, with
``sysparm_display_value=all``, ``{"value": ..., "display_value": ..., "link": ...}``.
Record times are UTC as the Table API returns them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from casetrail.events.conversation import AuthorRole
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, as_str, body_text, load_json,
    non_empty, optional_time, parse_time, require,
)
from services.ingest.rejections import INVALID_FIELD, MISSING_FIELD, Rejected

SOURCE = "servicenow"
INCIDENT_STATE = {"1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "canceled"}
CHANNEL = {"email": "email", "phone": "phone", "self-service": "web", "web": "web", "chat": "chat", "walk-in": "in_person",
           "virtual_agent": "chat", "social": "social"}
_CALLER_FIELDS = ("caller_id", "contact", "consumer", "opened_by")
_JOURNAL = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - (.+?) \((Additional comments|Work notes)\)\s*$", re.MULTILINE)


def _value(field: Any) -> str | None:
    if isinstance(field, Mapping):
        return as_str(field.get("value"))
    return as_str(field)


def _display(field: Any) -> str | None:
    if isinstance(field, Mapping):
        return as_str(field.get("display_value"))
    return None


def _journal(text: str, *, caller_name: str | None, record_id: str) -> list[NormalisedMessage]:
    entries = list(_JOURNAL.finditer(text))
    messages = []
    for index, entry in enumerate(entries):
        if entry.group(3) == "Work notes":
            continue  # internal
        end = entries[index + 1].start() if index + 1 < len(entries) else len(text)
        author = entry.group(2).strip()
        messages.append(NormalisedMessage(
            message_id=f"{record_id}-c{entry.group(1).replace(' ', 'T')}",
            author_role=AuthorRole.customer if caller_name and author == caller_name else AuthorRole.agent,
            author_id=None,
            sent_at=parse_time(entry.group(1), field_name="comments", source=SOURCE),
            body_text=body_text(text[entry.end():end]),
        ))
    messages.sort(key=lambda m: m.sent_at)  # the journal lists newest first
    return messages


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    doc = load_json(payload)
    if isinstance(doc, Mapping) and isinstance(doc.get("result"), Mapping):
        doc = doc["result"]
    if not isinstance(doc, Mapping):
        raise Rejected(INVALID_FIELD, "servicenow payload must be a record object (or {\"result\": record})")
    sys_id = _value(require(doc, "sys_id", source=SOURCE))
    number = _value(doc.get("number")) or sys_id
    # The first reference that names someone: an empty caller_id ("" or {"value": ""}) does not.
    caller_field = next((doc.get(name) for name in _CALLER_FIELDS if _value(doc.get(name))), None)
    caller = _value(caller_field)
    if not caller:
        raise Rejected(MISSING_FIELD, "servicenow record lacks caller_id (incident), contact/consumer (case) and opened_by")
    caller_name = _display(caller_field)
    opened = parse_time(_value(doc.get("opened_at")) or _value(require(doc, "sys_created_on", source=SOURCE)),
                        field_name="opened_at", source=SOURCE)
    short = _value(doc.get("short_description"))
    messages = [NormalisedMessage(
        message_id=f"{sys_id}-description", author_role=AuthorRole.customer, author_id=caller,
        sent_at=opened, body_text=body_text(_value(doc.get("description")) or short or ""),
    )]
    comments = _value(doc.get("comments")) or _display(doc.get("comments"))
    if comments:
        messages.extend(_journal(comments, caller_name=caller_name, record_id=sys_id))
    state = _value(doc.get("state"))
    tags = _value(doc.get("sys_tags")) or ""
    updated = _value(doc.get("sys_updated_on"))
    attributes_out = {k: v for k, v in (("account", _value(doc.get("account"))), ("company", _value(doc.get("company"))),
                                        ("urgency", _value(doc.get("urgency"))), ("impact", _value(doc.get("impact")))) if v}
    return NormalisedTicket(
        source=SOURCE, external_id=str(number), channel=CHANNEL.get(str(_value(doc.get("contact_type")) or "web").lower(), "web"),
        subject=short, messages=non_empty(messages, source=SOURCE),
        customer=CustomerInfo(customer_id=caller, names=(caller_name,) if caller_name else (), attributes=attributes_out),
        source_priority=_display(doc.get("priority")) or _value(doc.get("priority")),
        tags=[t.strip() for t in tags.split(",") if t.strip()],
        status=INCIDENT_STATE.get(state or "", state), created_at=opened,
        updated_at=optional_time(updated, field_name="sys_updated_on", source=SOURCE),
        update_stamp=(f"{updated}#{_value(doc.get('sys_mod_count'))}" if updated else None),
    )


CONNECTOR = FunctionConnector(SOURCE, parse)
