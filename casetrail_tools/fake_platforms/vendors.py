"""Local servers that speak the vendors' documented APIs (the subset delivery uses).

Each vendor is an aiohttp sub-application under its own prefix (``/zendesk``,
``/intercom``, ``/freshdesk``, ``/servicenow``), so one process serves all of
them. They check the authentication header each vendor documents, answer
with the vendor's response shapes, paginate the way the vendor does, answer
errors with the vendor's error bodies and rate-limit headers, and serve the
faults a test schedules (``Fault``; the checks around every handler are in
``guard.py``). Sources: see services/delivery/README.md.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from casetrail_tools.fake_platforms.guard import JSON_BODY, PAGE, error_response, guarded, iso_time
from casetrail_tools.fake_platforms.state import Fault, PlatformState


# -- Zendesk ---------------------------------------------------------------------------
def zendesk_app(state: PlatformState) -> web.Application:
    app = web.Application()

    @guarded(state, "zendesk", writes=True)
    async def update_ticket(request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        body = (request[JSON_BODY] or {}).get("ticket") or {}
        events = []
        with state.lock:
            ticket = state.ticket("zendesk", ticket_id)
            comment = body.get("comment")
            if comment:
                message = state.add_message("zendesk", ticket_id, comment["body"], bool(comment.get("public", True)))
                events.append({"id": message.id, "type": "Comment", "body": message.body, "public": message.public})
            for tag in body.get("additional_tags") or []:
                if tag not in ticket.tags:
                    ticket.tags.append(tag)
            if "group_id" in body:
                ticket.group = str(body["group_id"])
            if "priority" in body:
                ticket.priority = body["priority"]
            audit_id = state.next_id()
        return web.json_response({"ticket": {"id": int(ticket_id) if ticket_id.isdigit() else ticket_id,
                                             "tags": ticket.tags, "group_id": ticket.group, "priority": ticket.priority},
                                  "audit": {"id": audit_id, "ticket_id": ticket_id, "events": events}})

    @guarded(state, "zendesk", writes=False)
    async def list_comments(request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        with state.lock:
            messages = list(state.ticket("zendesk", ticket_id).messages)
        if request.query.get("sort_order") == "desc":
            messages.reverse()
        size = min(int(request.query.get("page[size]", PAGE)), PAGE)
        start = int(request.query.get("page[after]", "0") or 0)
        page = messages[start:start + size]
        more = start + size < len(messages)
        after = str(start + size) if more else None
        url = f"{request.url.with_query(None)}?sort_order={request.query.get('sort_order', 'asc')}&page[size]={size}&page[after]={after}"
        return web.json_response({
            "comments": [{"id": m.id, "type": "Comment", "body": m.body, "html_body": f"<p>{m.body}</p>",
                          "plain_body": m.body, "public": m.public, "created_at": iso_time(m.created_at)} for m in page],
            "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
            "links": {"next": url if more else None, "prev": None},
        })

    @guarded(state, "zendesk", writes=False)
    async def me(request: web.Request) -> web.Response:
        return web.json_response({"user": {"id": 9001, "name": "casetrail bot", "role": "agent",
                                           "email": "bot@acme.example"}})

    app.router.add_put(r"/api/v2/tickets/{id}.json", update_ticket)
    app.router.add_get(r"/api/v2/tickets/{id}/comments.json", list_comments)
    app.router.add_get("/api/v2/users/me.json", me)
    return app


# -- Intercom --------------------------------------------------------------------------
def _conversation(state: PlatformState, conversation_id: str) -> dict:
    ticket = state.ticket("intercom", conversation_id)
    return {
        "type": "conversation", "id": conversation_id, "state": "open",
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": t, "name": t} for t in ticket.tags]},
        "admin_assignee_id": None, "team_assignee_id": ticket.assignee,
        "conversation_parts": {"type": "conversation_part.list", "total_count": len(ticket.messages),
                               "conversation_parts": [
                                   {"type": "conversation_part", "id": str(m.id),
                                    "part_type": "comment" if m.public else "note", "body": m.body,
                                    "created_at": int(m.created_at), "author": {"type": "admin", "id": "7"}}
                                   for m in ticket.messages]},
    }


def intercom_app(state: PlatformState) -> web.Application:
    app = web.Application()

    def version_ok(request: web.Request) -> bool:
        return request.headers.get("Intercom-Version", "2.11") in ("2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15")

    @guarded(state, "intercom", writes=True)
    async def reply(request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        if not version_ok(request) or body.get("type") != "admin" or not body.get("admin_id") or \
                body.get("message_type") not in ("comment", "note"):
            return error_response("intercom", 400)
        conversation_id = request.match_info["id"]
        with state.lock:
            state.add_message("intercom", conversation_id, body["body"], body["message_type"] == "comment")
            return web.json_response(_conversation(state, conversation_id))

    @guarded(state, "intercom", writes=True)
    async def parts(request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        if body.get("message_type") != "assignment" or not body.get("assignee_id"):
            return error_response("intercom", 400)
        conversation_id = request.match_info["id"]
        with state.lock:
            state.ticket("intercom", conversation_id).assignee = str(body["assignee_id"])
            return web.json_response(_conversation(state, conversation_id))

    @guarded(state, "intercom", writes=True)
    async def create_tag(request: web.Request) -> web.Response:
        name = (request[JSON_BODY] or {}).get("name")
        return web.json_response({"type": "tag", "id": name, "name": name})

    @guarded(state, "intercom", writes=True)
    async def tag_conversation(request: web.Request) -> web.Response:
        tag_id = (request[JSON_BODY] or {}).get("id")
        with state.lock:
            ticket = state.ticket("intercom", request.match_info["id"])
            if tag_id not in ticket.tags:
                ticket.tags.append(tag_id)
        return web.json_response({"type": "tag", "id": tag_id, "name": tag_id})

    @guarded(state, "intercom", writes=False)
    async def get_conversation(request: web.Request) -> web.Response:
        with state.lock:
            return web.json_response(_conversation(state, request.match_info["id"]))

    @guarded(state, "intercom", writes=False)
    async def me(request: web.Request) -> web.Response:
        return web.json_response({"type": "admin", "id": "7", "email": "bot@acme.example",
                                  "app": {"type": "app", "id_code": "fakeapp"}})

    app.router.add_post("/conversations/{id}/reply", reply)
    app.router.add_post("/conversations/{id}/parts", parts)
    app.router.add_post("/conversations/{id}/tags", tag_conversation)
    app.router.add_get("/conversations/{id}", get_conversation)
    app.router.add_post("/tags", create_tag)
    app.router.add_get("/me", me)
    return app


# -- Freshdesk -------------------------------------------------------------------------
_FD_PRIORITY = {1: "low", 2: "normal", 3: "high", 4: "urgent"}


def freshdesk_app(state: PlatformState) -> web.Application:
    app = web.Application()

    def conversation(message, ticket_id: str, private: bool) -> dict:
        return {"id": message.id, "body": message.body, "body_text": re.sub(r"<[^>]+>", " ", message.body),
                "ticket_id": int(ticket_id) if ticket_id.isdigit() else ticket_id, "private": private,
                "incoming": False, "source": 2 if private else 0, "created_at": iso_time(message.created_at)}

    @guarded(state, "freshdesk", writes=True)
    async def reply(request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        if not body.get("body"):
            return web.json_response({"description": "Validation failed", "errors": [
                {"field": "body", "message": "It should not be blank", "code": "missing_field"}]}, status=400)
        ticket_id = request.match_info["id"]
        with state.lock:
            message = state.add_message("freshdesk", ticket_id, body["body"], True)
        return web.json_response(conversation(message, ticket_id, False), status=201)

    @guarded(state, "freshdesk", writes=True)
    async def note(request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        ticket_id = request.match_info["id"]
        with state.lock:
            message = state.add_message("freshdesk", ticket_id, body["body"], not body.get("private", True))
        return web.json_response(conversation(message, ticket_id, bool(body.get("private", True))), status=201)

    @guarded(state, "freshdesk", writes=False)
    async def get_ticket(request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        with state.lock:
            ticket = state.ticket("freshdesk", ticket_id)
            return web.json_response({"id": int(ticket_id) if ticket_id.isdigit() else ticket_id, "tags": ticket.tags,
                                      "group_id": ticket.group, "status": 2})

    @guarded(state, "freshdesk", writes=True)
    async def update_ticket(request: web.Request) -> web.Response:
        body = request[JSON_BODY] or {}
        ticket_id = request.match_info["id"]
        if "priority" in body and body["priority"] not in _FD_PRIORITY:
            return web.json_response({"description": "Validation failed", "errors": [
                {"field": "priority", "message": "It should be one of these values: '1,2,3,4'",
                 "code": "invalid_value"}]}, status=400)
        with state.lock:
            ticket = state.ticket("freshdesk", ticket_id)
            if "tags" in body:
                ticket.tags = list(body["tags"])  # Freshdesk replaces the list
            if "group_id" in body:
                ticket.group = str(body["group_id"])
            if "priority" in body:
                ticket.priority = _FD_PRIORITY[body["priority"]]
            return web.json_response({"id": ticket_id, "tags": ticket.tags, "group_id": ticket.group,
                                      "priority": body.get("priority")})

    @guarded(state, "freshdesk", writes=False)
    async def list_conversations(request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = int(request.query.get("page", 1))
        with state.lock:
            messages = list(state.ticket("freshdesk", ticket_id).messages)
        chunk = messages[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(messages):
            headers["Link"] = f'<{request.url.with_query({"per_page": per_page, "page": page + 1})}>; rel="next"'
        return web.json_response([conversation(m, ticket_id, not m.public) for m in chunk], headers=headers)

    @guarded(state, "freshdesk", writes=False)
    async def me(request: web.Request) -> web.Response:
        return web.json_response({"id": 4242, "available": True, "contact": {"name": "casetrail bot"}})

    app.router.add_post("/api/v2/tickets/{id}/reply", reply)
    app.router.add_post("/api/v2/tickets/{id}/notes", note)
    app.router.add_get("/api/v2/tickets/{id}/conversations", list_conversations)
    app.router.add_get("/api/v2/tickets/{id}", get_ticket)
    app.router.add_put("/api/v2/tickets/{id}", update_ticket)
    app.router.add_get("/api/v2/agents/me", me)
    return app


# -- ServiceNow ------------------------------------------------------------------------
def _sys_id(number: str) -> str:
    return (number.encode().hex() + "0" * 32)[:32]


def servicenow_app(state: PlatformState) -> web.Application:
    app = web.Application()
    numbers: dict[str, str] = {}

    @guarded(state, "servicenow", writes=False)
    async def query_table(request: web.Request) -> web.Response:
        table = request.match_info["table"]
        query = request.query.get("sysparm_query", "")
        if table == "sys_user":
            return web.json_response({"result": [{"sys_id": "6816f79cc0a8016401c5a33be04be441",
                                                  "user_name": "casetrail.integration"}]})
        if table == "sys_journal_field":
            element_id = re.search(r"element_id=([0-9a-f]{32})", query)
            marker = re.search(r"valueLIKE(\S+)", query)
            number = numbers.get(element_id.group(1)) if element_id else None
            with state.lock:
                messages = state.ticket("servicenow", number).messages if number else []
                rows = [{"sys_id": f"j{m.id:031d}"} for m in messages if marker and marker.group(1) in m.body]
            return web.json_response({"result": rows[:int(request.query.get("sysparm_limit", 10))]})
        found = re.fullmatch(r"number=(\S+)", query)
        if not found:
            return error_response("servicenow", 400)
        number = found.group(1)
        numbers[_sys_id(number)] = number
        return web.json_response({"result": [{"sys_id": _sys_id(number), "number": number}]})

    @guarded(state, "servicenow", writes=True)
    async def patch_record(request: web.Request) -> web.Response:
        sys_id = request.match_info["sys_id"]
        number = numbers.get(sys_id)
        if number is None:
            return web.json_response({"error": {"message": "No Record found",
                                                "detail": "Record doesn't exist or ACL restricts the record retrieval"},
                                      "status": "failure"}, status=404)
        body = request[JSON_BODY] or {}
        with state.lock:
            ticket = state.ticket("servicenow", number)
            if body.get("comments"):
                state.add_message("servicenow", number, body["comments"], True)
            if body.get("work_notes"):
                state.add_message("servicenow", number, body["work_notes"], False)
            if "assignment_group" in body:
                ticket.group = body["assignment_group"]
            if "urgency" in body:
                ticket.priority = {("1", "1"): "urgent", ("1", "2"): "high", ("2", "2"): "normal",
                                   ("3", "3"): "low"}.get((body["urgency"], body.get("impact")), "normal")
            mods = len(ticket.messages)
        return web.json_response({"result": {"sys_id": sys_id, "number": number, "sys_mod_count": str(mods)}})

    app.router.add_get("/api/now/table/{table}", query_table)
    app.router.add_patch("/api/now/table/{table}/{sys_id}", patch_record)
    return app


def control_app(state: PlatformState) -> web.Application:
    """``/_fake``: what the platforms received, and faults to schedule."""
    app = web.Application()

    async def snapshot(request: web.Request) -> web.Response:
        with state.lock:
            return web.json_response(state.snapshot())

    async def requests_(request: web.Request) -> web.Response:
        with state.lock:
            return web.json_response(state.requests)

    async def add_fault(request: web.Request) -> web.Response:
        doc = await request.json()
        with state.lock:
            state.faults.append(Fault(**doc))
        return web.json_response({"scheduled": doc})

    app.router.add_get("/state", snapshot)
    app.router.add_get("/requests", requests_)
    app.router.add_post("/faults", add_fault)
    return app


def application(state: PlatformState) -> web.Application:
    root = web.Application()
    root.add_subapp("/zendesk", zendesk_app(state))
    root.add_subapp("/intercom", intercom_app(state))
    root.add_subapp("/freshdesk", freshdesk_app(state))
    root.add_subapp("/servicenow", servicenow_app(state))
    root.add_subapp("/_fake", control_app(state))
    return root


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
