"""What every platform adapter offers, and the HTTP plumbing they share.

An adapter turns an ``Effect`` into the platform's own requests. It raises
``PlatformError`` (the platform answered, not 2xx: status, headers, body),
``TransportError`` (no answer: timeout, refused or dropped connection) or
``NotApplicable`` (the platform has nothing that matches the effect, e.g. a
priority on a plain e-mail thread). ``find`` searches the ticket for the
effect's marker: the check-before-post after a crash or an ambiguous try.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

import httpx

from services.delivery.effects import Effect
from services.delivery.thread import Thread


class PlatformError(Exception):
    """The platform answered and refused. ``transient`` overrides the HTTP reading of ``status``
    for protocols that are not HTTP (SMTP: 4xx try again later, 5xx never)."""

    def __init__(self, status: int, headers: Mapping[str, str], body: str, what: str,
                 transient: Optional[bool] = None):
        super().__init__(f"{what}: status {status}")
        self.status, self.headers, self.body, self.what = status, dict(headers), body, what
        self.transient = transient


class TransportError(Exception):
    def __init__(self, what: str, *, request_sent: bool):
        super().__init__(what)
        self.request_sent = request_sent


class NotApplicable(Exception):
    """Nothing on this platform corresponds to the effect (receipt: suppressed, with this reason)."""


@dataclass(frozen=True)
class Written:
    platform_id: Optional[str]
    status: int
    requests: int = 1


class Adapter(Protocol):
    platform: str
    can_look_up: bool

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written: ...

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]: ...

    async def whoami(self) -> str: ...

    async def close(self) -> None: ...


def text_to_html(text: str) -> str:
    """Plain text as the simple HTML Intercom and Freshdesk bodies take (paragraphs, line breaks)."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


class HttpApi:
    """One platform's HTTP client: base URL, authentication, JSON in and out, errors as exceptions."""

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float,
                 transport: Optional[httpx.AsyncBaseTransport] = None):
        self.client = httpx.AsyncClient(base_url=base_url, headers=dict(headers), timeout=timeout, transport=transport)

    async def call(self, method: str, path: str, *, what: str, json: Any = None,
                   params: Optional[Mapping[str, Any]] = None) -> httpx.Response:
        try:
            response = await self.client.request(method, path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportError(f"{what}: {type(exc).__name__}", request_sent=False) from None
        except httpx.TransportError as exc:  # read timeout, dropped connection: the request may have landed
            raise TransportError(f"{what}: {type(exc).__name__}", request_sent=True) from None
        if not 200 <= response.status_code < 300:
            raise PlatformError(response.status_code, response.headers, response.text, what)
        return response

    async def json(self, method: str, path: str, *, what: str, json: Any = None,
                   params: Optional[Mapping[str, Any]] = None) -> tuple[Any, int]:
        response = await self.call(method, path, what=what, json=json, params=params)
        return (response.json() if response.content else None), response.status_code

    async def close(self) -> None:
        await self.client.aclose()
