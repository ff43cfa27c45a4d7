"""Fake Zendesk, Intercom, Freshdesk, ServiceNow and SMTP for tests, the demo and the benchmark.

    with FakePlatforms() as fakes:          # a background thread: HTTP on fakes.http_url, SMTP on fakes.smtp_port
        fakes.http_url + "/zendesk"         # base_url for the Zendesk adapter
        fakes.state.snapshot()              # what every platform received

``python -m casetrail_tools.fake_platforms --port P --smtp-port S`` runs the
same as a process (``GET /_fake/state``, ``POST /_fake/faults``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from typing import Optional

from aiohttp import web

from casetrail_tools.fake_platforms.state import Fault, PlatformState
from casetrail_tools.fake_platforms.guard import CREDENTIALS
from casetrail_tools.fake_platforms.vendors import application


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _MailHandler:
    """aiosmtpd handler: keep every message (and serve SMTP faults scheduled for "email")."""

    def __init__(self, state: PlatformState):
        self.state = state

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.state.lock:
            fault = self.state.take_fault("email")
        if fault is not None:
            return f"{fault.status} fake SMTP fault"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.state.lock:
            self.state.record("email", "DATA", ",".join(envelope.rcpt_tos), None)
            self.state.mail.append({
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "headers": {k: str(v) for k, v in message.items()},
                "body": message.get_body(("plain",)).get_content() if message.get_body(("plain",)) else "",
            })
        return "250 Message accepted for delivery"


class FakePlatforms:
    def __init__(self, port: Optional[int] = None, smtp_port: Optional[int] = None, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or free_port()
        self.smtp_port = smtp_port or free_port()
        self.state = PlatformState()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._smtp = None
        self._ready = threading.Event()

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fault(self, platform: str, status: int, *, count: int = 1, seconds: Optional[float] = None,
              retry_after: Optional[float] = None, after_write: bool = False) -> None:
        import time

        with self.state.lock:
            self.state.faults.append(Fault(platform, status, count=count, retry_after=retry_after,
                                           until=time.time() + seconds if seconds else None, after_write=after_write))

    async def _start(self) -> None:
        from aiosmtpd.controller import Controller

        self._runner = web.AppRunner(application(self.state), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self._smtp = Controller(_MailHandler(self.state), hostname=self.host, port=self.smtp_port)
        self._smtp.start()

    def start(self) -> "FakePlatforms":
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            self._ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-platforms", daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the fake platforms did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._smtp is not None:
            self._smtp.stop()
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> "FakePlatforms":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def delivery_config_yaml(tenant: str, http_url: str, smtp_port: int, *, rate_per_minute: float = 6000,
                         groups: Optional[dict[str, str]] = None) -> str:
    """A tenant's delivery configuration pointing every platform at the fakes."""
    import yaml

    groups = groups or {"general-support": "360001", "fraud-team": "360002", "vip-support": "360003",
                        "senior-support": "360004", "payments-team": "360005", "engineering-oncall": "360006",
                        "customer-success": "360007", "lt-support": "360008"}
    common = {"rate_per_minute": rate_per_minute, "concurrency": 8, "timeout_seconds": 5, "groups": groups}
    doc = {"tenant": tenant, "platforms": {
        "zendesk": {**common, "base_url": f"{http_url}/zendesk", "email": "bot@acme.example"},
        "intercom": {**common, "base_url": f"{http_url}/intercom", "admin_id": "7"},
        "freshdesk": {**common, "base_url": f"{http_url}/freshdesk"},
        "servicenow": {**common, "base_url": f"{http_url}/servicenow", "username": "casetrail.integration"},
        "email": {**common, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "starttls": False,
                  "from_address": "support@acme.example",
                  "groups": {q: f"{q}@acme.example" for q in groups}},
    }}
    return yaml.safe_dump(doc, sort_keys=False)


def delivery_secrets_env(tenant: str) -> dict[str, str]:
    """The environment that hands the fakes' credentials to delivery (as a Kubernetes Secret would)."""
    prefix = "CASETRAIL_DELIVERY__" + tenant.upper().replace("-", "_")
    return {f"{prefix}__ZENDESK__API_TOKEN": "zendesk-test-token", f"{prefix}__INTERCOM__ACCESS_TOKEN": "intercom-test-token",
            f"{prefix}__FRESHDESK__API_KEY": "freshdesk-test-key",
            f"{prefix}__SERVICENOW__PASSWORD": "servicenow-test-password"}


__all__ = ["CREDENTIALS", "FakePlatforms", "Fault", "PlatformState", "delivery_config_yaml", "delivery_secrets_env",
           "free_port"]
