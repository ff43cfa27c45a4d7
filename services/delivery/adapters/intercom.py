"""Intercom (REST API 2.11, ``Intercom-Version: 2.11``), as in Intercom's API reference / OpenAPI file.

* Auth: ``Authorization: Bearer {access_token}``.
* Public reply / note: ``POST /conversations/{id}/reply`` with
  ``{"message_type": "comment" | "note", "type": "admin", "admin_id", "body"}``
  (HTML body); the response is the conversation, whose newest part is ours.
* Ticket update: assignment to the queue's team
  ``POST /conversations/{id}/parts`` ``{"message_type": "assignment", "type": "admin",
  "admin_id", "assignee_id"}``; tags are created by name (``POST /tags`` ``{"name"}``,
  which returns the existing tag when the name exists) and attached with
  ``POST /conversations/{id}/tags`` ``{"id", "admin_id"}``. Intercom's
  conversation priority has no field in this API version: casetrail's priority
  travels as the tag ``casetrail:priority:<p>``. All of it is idempotent.
* Lookup: ``GET /conversations/{id}`` (its ``conversation_parts``).
* Who am I: ``GET /me``.
* Errors: ``{"type": "error.list", "request_id", "errors": [{"code", "message"}]}``;
  429 with ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (epoch).
"""

from __future__ import annotations

from typing import Optional

import httpx

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters.base import HttpApi, Written, text_to_html
from services.delivery.config import IntercomConfig
from services.delivery.effects import Effect
from services.delivery.thread import Thread


class IntercomAdapter:
    platform = "intercom"
    can_look_up = True

    def __init__(self, config: IntercomConfig, transport: Optional[httpx.AsyncBaseTransport] = None):
        self.config = config
        self.api = HttpApi(config.base_url, {
            "Authorization": f"Bearer {config.access_token.get_secret_value()}",
            "Accept": "application/json", "Intercom-Version": config.api_version,
        }, config.timeout_seconds, transport)
        self._tag_ids: dict[str, str] = {}

    def _admin(self) -> dict:
        return {"type": "admin", "admin_id": self.config.admin_id}

    async def _tag_id(self, name: str) -> str:
        if name not in self._tag_ids:
            doc, _ = await self.api.json("POST", "/tags", what="intercom create tag", json={"name": name})
            self._tag_ids[name] = str(doc["id"])
        return self._tag_ids[name]

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written:
        path = f"/conversations/{effect.external_id}"
        if effect.kind != DeliveryEffect.ticket_update:
            message_type = "comment" if effect.kind == DeliveryEffect.public_reply else "note"
            doc, status = await self.api.json("POST", f"{path}/reply", what="intercom reply", json={
                "message_type": message_type, **self._admin(), "body": text_to_html(effect.body)})
            parts = ((doc or {}).get("conversation_parts") or {}).get("conversation_parts") or []
            mine = next((p for p in reversed(parts) if effect.marker in (p.get("body") or "")), None)
            return Written(str(mine["id"]) if mine else None, status)
        requests, status = 0, 200
        team = self.config.groups.get(effect.queue) if effect.queue else None
        if team is not None:
            _, status = await self.api.json("POST", f"{path}/parts", what="intercom assign", json={
                "message_type": "assignment", **self._admin(), "assignee_id": team})
            requests += 1
        tags = list(effect.tags) + ([f"casetrail:priority:{effect.priority}"] if effect.priority else [])
        for tag in tags:
            tag_id = await self._tag_id(tag)
            _, status = await self.api.json("POST", f"{path}/tags", what="intercom tag conversation",
                                            json={"id": tag_id, "admin_id": self.config.admin_id})
            requests += 1
        return Written(None, status, requests=max(1, requests))

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]:
        doc, _ = await self.api.json("GET", f"/conversations/{effect.external_id}", what="intercom get conversation")
        for part in ((doc or {}).get("conversation_parts") or {}).get("conversation_parts") or []:
            if effect.marker in (part.get("body") or ""):
                return str(part.get("id"))
        return None

    async def whoami(self) -> str:
        doc, _ = await self.api.json("GET", "/me", what="intercom me")
        return f"admin {doc.get('id')} of app {(doc.get('app') or {}).get('id_code', '?')}"

    async def close(self) -> None:
        await self.api.close()
