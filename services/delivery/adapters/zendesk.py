"""Zendesk Support (Ticketing API v2), as documented in Zendesk's API reference.

* Auth: ``Authorization: Basic base64("{email}/token:{api_token}")`` or ``Bearer {oauth_token}``.
* Public reply / internal note: ``PUT /api/v2/tickets/{id}.json`` with
  ``{"ticket": {"comment": {"body", "public": true|false}, "additional_tags": [...]}}``;
  the response's ``audit.events[]`` holds the ``Comment`` event, whose id is kept.
* Ticket update: the same endpoint with ``group_id``, ``priority``
  (low / normal / high / urgent) and ``additional_tags`` (adds, never replaces:
  setting the same values again changes nothing, so it is idempotent).
* Lookup: ``GET /api/v2/tickets/{id}/comments.json?sort_order=desc&page[size]=100``,
  cursor pagination (``meta.has_more``, ``links.next``), newest first; stops at
  comments older than the decision.
* Who am I: ``GET /api/v2/users/me.json``.
* Errors: ``{"error": "...", "description": "..."}``; 429 with ``Retry-After``;
  409 on a concurrent ticket update (retried). Zendesk's ``Idempotency-Key``
  header applies to ticket creation only, which casetrail never does: a
  comment is made exactly-once by the marker lookup instead.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Optional

import httpx

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters.base import HttpApi, NotApplicable, Written
from services.delivery.config import ZendeskConfig
from services.delivery.effects import Effect
from services.delivery.thread import Thread

LOOKBACK = dt.timedelta(minutes=10)  # clock skew between casetrail and Zendesk
PRIORITIES = ("low", "normal", "high", "urgent")


def auth_header(config: ZendeskConfig) -> str:
    if config.oauth_token is not None:
        return f"Bearer {config.oauth_token.get_secret_value()}"
    raw = f"{config.email}/token:{config.api_token.get_secret_value()}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def zendesk_tag(tag: str) -> str:
    return tag.strip().lower().replace(" ", "_")


class ZendeskAdapter:
    platform = "zendesk"
    can_look_up = True

    def __init__(self, config: ZendeskConfig, transport: Optional[httpx.AsyncBaseTransport] = None):
        self.config = config
        self.api = HttpApi(config.base_url, {"Authorization": auth_header(config), "Accept": "application/json"},
                           config.timeout_seconds, transport)

    def ticket_body(self, effect: Effect) -> dict:
        ticket: dict = {"additional_tags": [zendesk_tag(t) for t in effect.tags]}
        if effect.kind == DeliveryEffect.ticket_update:
            if effect.queue is not None:
                group = self.config.groups.get(effect.queue)
                if group is not None:
                    ticket["group_id"] = int(group) if group.isdigit() else group
            if effect.priority in PRIORITIES:
                ticket["priority"] = effect.priority
        else:
            ticket["comment"] = {"body": effect.body, "public": effect.kind == DeliveryEffect.public_reply}
        return {"ticket": ticket}

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written:
        body = self.ticket_body(effect)
        if effect.kind == DeliveryEffect.ticket_update and set(body["ticket"]) == {"additional_tags"} and not effect.tags:
            raise NotApplicable("nothing to update")
        doc, status = await self.api.json("PUT", f"/api/v2/tickets/{effect.external_id}.json",
                                          what="zendesk ticket update", json=body)
        audit = (doc or {}).get("audit") or {}
        comment = next((e for e in audit.get("events") or [] if e.get("type") == "Comment"), None)
        platform_id = comment.get("id") if comment else audit.get("id")
        return Written(str(platform_id) if platform_id is not None else None, status)

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]:
        oldest = effect.source_occurred_at - LOOKBACK
        path: Optional[str] = f"/api/v2/tickets/{effect.external_id}/comments.json"
        params: Optional[dict] = {"sort_order": "desc", "page[size]": 100}
        while path:
            doc, _ = await self.api.json("GET", path, what="zendesk list comments", params=params)
            for comment in doc.get("comments") or []:
                text = " ".join(str(comment.get(k) or "") for k in ("body", "html_body", "plain_body"))
                if effect.marker in text:
                    return str(comment.get("id"))
                created = comment.get("created_at")
                if created and dt.datetime.fromisoformat(created.replace("Z", "+00:00")) < oldest:
                    return None  # older than the decision: ours cannot be further back
            if not (doc.get("meta") or {}).get("has_more"):
                return None
            path, params = (doc.get("links") or {}).get("next"), None
        return None

    async def whoami(self) -> str:
        doc, _ = await self.api.json("GET", "/api/v2/users/me.json", what="zendesk users/me")
        user = doc.get("user") or {}
        if user.get("id") is None:
            raise NotApplicable("authenticated as the anonymous user: the credentials were not accepted")
        return f"user {user.get('id')} ({user.get('role')})"

    async def close(self) -> None:
        await self.api.close()
