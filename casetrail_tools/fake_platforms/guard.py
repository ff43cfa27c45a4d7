"""What every fake vendor server does around its handlers: the credentials each
vendor documents, request recording, scheduled faults (before or after the
write) and each vendor's error body and rate-limit headers.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from typing import Awaitable, Callable, Optional

from aiohttp import web

from casetrail_tools.fake_platforms.state import Fault, PlatformState

Handler = Callable[[web.Request], Awaitable[web.Response]]
CREDENTIALS = {
    "zendesk": "Basic " + base64.b64encode(b"bot@acme.example/token:zendesk-test-token").decode(),
    "intercom": "Bearer intercom-test-token",
    "freshdesk": "Basic " + base64.b64encode(b"freshdesk-test-key:X").decode(),
    "servicenow": "Basic " + base64.b64encode(b"casetrail.integration:servicenow-test-password").decode(),
}
PAGE = 100
JSON_BODY = web.RequestKey("json_body", object)


def iso_time(epoch: float) -> str:
    """An epoch as the ISO-8601 UTC form the vendors answer with."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_response(platform: str, status: int, fault: Optional[Fault] = None) -> web.Response:
    """The vendor's error body for ``status``, with its rate-limit headers on a 429."""
    headers: dict[str, str] = {}
    if status == 429:
        wait = fault.retry_after if fault and fault.retry_after is not None else 1
        headers["Retry-After"] = str(int(wait) if float(wait).is_integer() else wait)
        if platform == "intercom":
            headers.update({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(time.time() + wait))})
        elif platform == "freshdesk":
            headers.update({"X-Ratelimit-Total": "200", "X-Ratelimit-Remaining": "0"})
        elif platform == "servicenow":
            headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Reset": str(int(time.time() + wait))})
    bodies = {
        "zendesk": {"error": "TooManyRequests" if status == 429 else "ServiceUnavailable" if status >= 500 else "InvalidEndpoint",
                    "description": f"fake zendesk answered {status}"},
        "intercom": {"type": "error.list", "request_id": "fake-request",
                     "errors": [{"code": "rate_limit_exceeded" if status == 429 else "service_unavailable" if status >= 500
                                 else "parameter_invalid", "message": f"fake intercom answered {status}"}]},
        "freshdesk": {"description": f"fake freshdesk answered {status}", "errors": []},
        "servicenow": {"error": {"message": f"fake servicenow answered {status}", "detail": ""}, "status": "failure"},
    }
    return web.json_response(bodies[platform], status=status, headers=headers)


def guarded(state: PlatformState, platform: str, writes: bool) -> Callable[[Handler], Handler]:
    """Authentication, request recording and scheduled faults around a vendor handler."""
    def wrap(handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.Response:
            if request.headers.get("Authorization") != CREDENTIALS[platform]:
                return error_response(platform, 401)
            body = await request.json() if request.can_read_body else None
            request[JSON_BODY] = body
            fault = None
            if writes:
                with state.lock:
                    state.record(platform, request.method, request.path, body)
                    fault = state.take_fault(platform)
                    if fault is not None:
                        state.requests[-1]["fault"] = fault.status
                        state.requests[-1]["after_write"] = fault.after_write
                if fault is not None and not fault.after_write:
                    return error_response(platform, fault.status, fault)
                if state.latency:
                    await asyncio.sleep(state.latency)
            response = await handler(request)
            if fault is not None:  # the write happened; the answer is lost
                return error_response(platform, fault.status, fault)
            return response
        return run
    return wrap
