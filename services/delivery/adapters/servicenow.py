"""ServiceNow (Table API ``/api/now/table``), as in ServiceNow's REST API reference.

* Auth: Basic (integration user) or ``Bearer {oauth_token}``.
* A ticket is named by its number (``INC0010001`` in ``incident``, ``CS0001001``
  in the CSM case table): ``GET /api/now/table/{table}?sysparm_query=number={n}&sysparm_fields=sys_id,number&sysparm_limit=1``
  gives the ``sys_id`` (cached).
* Public reply: ``PATCH /api/now/table/{table}/{sys_id}`` ``{"comments": text}``
  (Additional comments: customer-visible). Internal note: ``{"work_notes": text}``.
* Ticket update: ``{"assignment_group": <group sys_id>, "urgency", "impact"}`` (an
  incident's priority is computed from urgency x impact: urgent 1/1, high 1/2,
  normal 2/2, low 3/3). ServiceNow's tags (``label_entry``) are not written:
  casetrail's tags are listed in the work note instead.
* Lookup: ``GET /api/now/table/sys_journal_field?sysparm_query=element_id={sys_id}^elementINcomments,work_notes^valueLIKE{marker}``.
* Who am I: ``GET /api/now/table/sys_user?sysparm_query=user_name={username}``.
* Errors: ``{"error": {"message", "detail"}, "status": "failure"}``; 429 with
  ``Retry-After`` and ``X-RateLimit-Reset`` (epoch).
"""

from __future__ import annotations

import base64
import re
from typing import Optional

import httpx

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters.base import HttpApi, NotApplicable, PlatformError, Written
from services.delivery.config import ServiceNowConfig
from services.delivery.effects import Effect
from services.delivery.thread import Thread

URGENCY_IMPACT = {"urgent": ("1", "1"), "high": ("1", "2"), "normal": ("2", "2"), "low": ("3", "3")}
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


class ServiceNowAdapter:
    platform = "servicenow"
    can_look_up = True

    def __init__(self, config: ServiceNowConfig, transport: Optional[httpx.AsyncBaseTransport] = None):
        self.config = config
        if config.oauth_token is not None:
            auth = f"Bearer {config.oauth_token.get_secret_value()}"
        else:
            raw = f"{config.username}:{config.password.get_secret_value()}".encode()
            auth = "Basic " + base64.b64encode(raw).decode("ascii")
        self.api = HttpApi(config.base_url, {"Authorization": auth, "Accept": "application/json"},
                           config.timeout_seconds, transport)
        self._records: dict[str, tuple[str, str]] = {}

    def table_of(self, number: str) -> str:
        return self.config.case_table if number.upper().startswith("CS") else "incident"

    async def _record(self, number: str) -> tuple[str, str]:
        """(table, sys_id) of a ticket number."""
        if number in self._records:
            return self._records[number]
        table = self.table_of(number)
        if _SYS_ID.match(number):
            found = (table, number)
        else:
            doc, _ = await self.api.json("GET", f"/api/now/table/{table}", what="servicenow find record", params={
                "sysparm_query": f"number={number}", "sysparm_fields": "sys_id,number", "sysparm_limit": 1})
            rows = (doc or {}).get("result") or []
            if not rows:
                raise PlatformError(404, {}, '{"error": {"message": "No Record found"}, "status": "failure"}',
                                    "servicenow find record")
            found = (table, rows[0]["sys_id"])
        self._records[number] = found
        return found

    def patch_body(self, effect: Effect) -> dict:
        if effect.kind == DeliveryEffect.public_reply:
            return {"comments": effect.body}
        if effect.kind == DeliveryEffect.internal_note:
            tags = f"\nTags: {', '.join(effect.tags)}" if effect.tags else ""
            return {"work_notes": effect.body + tags}
        body: dict = {}
        group = self.config.groups.get(effect.queue) if effect.queue else None
        if group is not None:
            body["assignment_group"] = group
        if effect.priority in URGENCY_IMPACT:
            body["urgency"], body["impact"] = URGENCY_IMPACT[effect.priority]
        return body

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written:
        body = self.patch_body(effect)
        if not body:
            raise NotApplicable("no assignment group or priority to set (tags are not written to ServiceNow)")
        table, sys_id = await self._record(effect.external_id)
        doc, status = await self.api.json("PATCH", f"/api/now/table/{table}/{sys_id}", what="servicenow update",
                                          json=body, params={"sysparm_fields": "sys_id,sys_mod_count"})
        result = (doc or {}).get("result") or {}
        return Written(f"{sys_id}#{result.get('sys_mod_count', '?')}", status, requests=2)

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]:
        _, sys_id = await self._record(effect.external_id)
        doc, _ = await self.api.json("GET", "/api/now/table/sys_journal_field", what="servicenow journal lookup", params={
            "sysparm_query": f"element_id={sys_id}^elementINcomments,work_notes^valueLIKE{effect.marker}",
            "sysparm_fields": "sys_id", "sysparm_limit": 1})
        rows = (doc or {}).get("result") or []
        return str(rows[0]["sys_id"]) if rows else None

    async def whoami(self) -> str:
        query = {"sysparm_fields": "sys_id,user_name", "sysparm_limit": 1}
        if self.config.username:
            query["sysparm_query"] = f"user_name={self.config.username}"
        doc, _ = await self.api.json("GET", "/api/now/table/sys_user", what="servicenow sys_user", params=query)
        rows = (doc or {}).get("result") or []
        if not rows:
            raise NotApplicable(f"user {self.config.username!r} is not visible to these credentials")
        return f"user {rows[0].get('user_name')} ({rows[0].get('sys_id')})"

    async def close(self) -> None:
        await self.api.close()
