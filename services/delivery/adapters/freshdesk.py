"""Freshdesk (API v2), as in Freshdesk's API reference.

* Auth: ``Authorization: Basic base64("{api_key}:X")``.
* Public reply: ``POST /api/v2/tickets/{id}/reply`` ``{"body": html}`` -> 201 with the conversation's ``id``.
* Internal note: ``POST /api/v2/tickets/{id}/notes`` ``{"body": html, "private": true}`` -> 201.
* Ticket update: ``PUT /api/v2/tickets/{id}`` with ``group_id``, ``priority``
  (1 low, 2 medium, 3 high, 4 urgent) and ``tags``. ``tags`` replaces the
  ticket's list, so the current tags are read first (``GET /api/v2/tickets/{id}``)
  and casetrail's are added to them: the same update twice changes nothing.
* Lookup: ``GET /api/v2/tickets/{id}/conversations?per_page=100&page=N``, following
  the ``Link: <...>; rel="next"`` header.
* Who am I: ``GET /api/v2/agents/me``.
* Errors: ``{"description": "Validation failed", "errors": [{"field", "message", "code"}]}``;
  429 with ``Retry-After`` (seconds); ``X-Ratelimit-Total`` / ``X-Ratelimit-Remaining``.
"""

from __future__ import annotations

import base64
from typing import Optional

import httpx

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters.base import HttpApi, Written, text_to_html
from services.delivery.config import FreshdeskConfig
from services.delivery.effects import Effect
from services.delivery.thread import Thread

PRIORITY = {"low": 1, "normal": 2, "high": 3, "urgent": 4}


class FreshdeskAdapter:
    platform = "freshdesk"
    can_look_up = True

    def __init__(self, config: FreshdeskConfig, transport: Optional[httpx.AsyncBaseTransport] = None):
        self.config = config
        token = base64.b64encode(f"{config.api_key.get_secret_value()}:X".encode()).decode("ascii")
        self.api = HttpApi(config.base_url, {"Authorization": f"Basic {token}", "Accept": "application/json"},
                           config.timeout_seconds, transport)

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written:
        ticket = f"/api/v2/tickets/{effect.external_id}"
        if effect.kind == DeliveryEffect.public_reply:
            doc, status = await self.api.json("POST", f"{ticket}/reply", what="freshdesk reply",
                                              json={"body": text_to_html(effect.body)})
            return Written(str(doc.get("id")), status)
        if effect.kind == DeliveryEffect.internal_note:
            doc, status = await self.api.json("POST", f"{ticket}/notes", what="freshdesk note",
                                              json={"body": text_to_html(effect.body), "private": True})
            return Written(str(doc.get("id")), status)
        current, _ = await self.api.json("GET", ticket, what="freshdesk get ticket")
        tags = list(current.get("tags") or [])
        tags += [t for t in effect.tags if t not in tags]
        update: dict = {"tags": tags}
        group = self.config.groups.get(effect.queue) if effect.queue else None
        if group is not None:
            update["group_id"] = int(group) if group.isdigit() else group
        if effect.priority in PRIORITY:
            update["priority"] = PRIORITY[effect.priority]
        _, status = await self.api.json("PUT", ticket, what="freshdesk update ticket", json=update)
        return Written(None, status, requests=2)

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]:
        path: Optional[str] = f"/api/v2/tickets/{effect.external_id}/conversations"
        params: Optional[dict] = {"per_page": 100, "page": 1}
        while path:
            response = await self.api.call("GET", path, what="freshdesk list conversations", params=params)
            for item in response.json() or []:
                if effect.marker in f"{item.get('body') or ''} {item.get('body_text') or ''}":
                    return str(item.get("id"))
            following = response.links.get("next", {}).get("url")
            path, params = following, None
        return None

    async def whoami(self) -> str:
        doc, _ = await self.api.json("GET", "/api/v2/agents/me", what="freshdesk agents/me")
        return f"agent {doc.get('id')}"

    async def close(self) -> None:
        await self.api.close()
