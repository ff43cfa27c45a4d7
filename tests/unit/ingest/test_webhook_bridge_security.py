"""The webhook bridge under attack (issue 17): the signature decides the tenant, replays are refused,
malformed signatures are 401, bodies are read whole and oversize ones are 413, odd JSON is 400.

The HTTP server is real (aiohttp on a local port); the intake producer is an in-memory recorder
(this is the unit tier: the bridge against the real broker is tests/integration/ingest/test_webhook_bridge.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from services.ingest.signatures import (
    Verifier, WebhookSecret, casetrail_signature, intercom_signature, zendesk_signature,
)
from services.ingest.webhooks import create_app

FIXTURES = Path(__file__).parent / "fixtures"
ZENDESK = (FIXTURES / "zendesk_event_comment_added.json").read_bytes()
GENERIC = (FIXTURES / "generic_chat.json").read_bytes()
SECRETS = [
    WebhookSecret("acme-shop", "zendesk", "zd-acme"), WebhookSecret("other-co", "zendesk", "zd-other"),
    WebhookSecret("acme-shop", "intercom", "ic-acme"), WebhookSecret("acme-shop", "generic", "gen-acme"),
    WebhookSecret("acme-shop", "freshdesk", "fd-token", scheme="token"),
]


class RecordingProducer:
    def __init__(self):
        self.published = []

    async def publish(self, ticket):
        self.published.append(ticket)

    def ready(self, timeout: float = 2.0) -> bool:
        return True


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _zendesk_headers(secret: str, body: bytes = ZENDESK, stamp: str | None = None) -> dict:
    stamp = stamp or _stamp()
    return {"X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp}


def _intercom_body(created_at: int, notification_id: str = "notif_1") -> bytes:
    doc = json.loads((FIXTURES / "intercom_conversation_user_replied.json").read_text())
    doc.update({"created_at": created_at, "first_sent_at": created_at, "id": notification_id})
    return json.dumps(doc).encode()


def run(scenario):
    async def main():
        producer = RecordingProducer()
        runner = web.AppRunner(create_app(producer, Verifier(SECRETS), max_payload_bytes=64 * 1024))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            async with aiohttp.ClientSession() as http:
                return await scenario(http, f"http://127.0.0.1:{port}", port, producer)
        finally:
            await runner.cleanup()
    return asyncio.run(main())


async def _post(http, url, body, headers):
    async with http.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


def test_the_signature_decides_the_tenant_and_a_hint_cannot_move_it():
    async def scenario(http, base, port, producer):
        moved = await _post(http, f"{base}/webhooks/zendesk?tenant=other-co", ZENDESK, _zendesk_headers("zd-acme"))
        own = await _post(http, f"{base}/webhooks/zendesk", ZENDESK, _zendesk_headers("zd-other"))
        return moved, own, [t.tenant for t in producer.published]

    moved, own, tenants = run(scenario)
    assert moved[0] == 401
    assert own[0] == 202 and own[1]["tenant"] == "other-co"
    assert tenants == ["other-co"]


def test_a_replayed_zendesk_request_is_refused_within_the_window():
    async def scenario(http, base, port, producer):
        headers = _zendesk_headers("zd-acme")
        first = await _post(http, f"{base}/webhooks/zendesk", ZENDESK, headers)
        again = await _post(http, f"{base}/webhooks/zendesk", ZENDESK, headers)
        stale = await _post(http, f"{base}/webhooks/zendesk", ZENDESK, _zendesk_headers("zd-acme", stamp="2020-01-01T00:00:00Z"))
        return first, again, stale

    first, again, stale = run(scenario)
    assert first[0] == 202
    assert again == (401, {"status": 401, "message": "this signed request was already accepted (replay)"})
    assert stale[0] == 401 and "from now" in stale[1]["message"]


def test_intercom_freshness_comes_from_the_signed_body():
    async def scenario(http, base, port, producer):
        fresh = _intercom_body(int(time.time()), "notif_fresh")
        old = _intercom_body(int(time.time()) - 86_400, "notif_old")
        results = [await _post(http, f"{base}/webhooks/intercom", body, {"X-Hub-Signature": intercom_signature("ic-acme", body)})
                   for body in (fresh, fresh, old)]
        return results

    fresh, replay, old = run(scenario)
    assert fresh[0] == 202
    assert replay[0] == 401 and "replay" in replay[1]["message"]
    assert old[0] == 401 and "created_at" in old[1]["message"]


def test_generic_sources_use_the_timestamped_hmac_scheme():
    async def scenario(http, base, port, producer):
        now = int(time.time())
        ok = await _post(http, f"{base}/webhooks/generic", GENERIC, {"X-Casetrail-Signature": casetrail_signature("gen-acme", now, GENERIC)})
        wrong_body = await _post(http, f"{base}/webhooks/generic", GENERIC + b" ",
                                 {"X-Casetrail-Signature": casetrail_signature("gen-acme", now, GENERIC)})
        malformed = await _post(http, f"{base}/webhooks/generic", GENERIC, {"X-Casetrail-Signature": "t=abc,v9"})
        return ok, wrong_body, malformed

    ok, wrong_body, malformed = run(scenario)
    assert ok[0] == 202
    assert wrong_body[0] == 401 and malformed[0] == 401


async def _raw(port: int, parts: list[bytes], pause: float = 0.2) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for part in parts:
        writer.write(part)
        await writer.drain()
        await asyncio.sleep(pause)
    response = await reader.read(65536)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


def test_a_non_ascii_signature_header_is_401_not_500():
    async def scenario(http, base, port, producer):
        head = (b"POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"X-Zendesk-Webhook-Signature: \xc3\xa9\xc3\xa9==\r\nX-Zendesk-Webhook-Signature-Timestamp: " + _stamp().encode()
                + b"\r\nContent-Length: " + str(len(ZENDESK)).encode() + b"\r\nConnection: close\r\n\r\n")
        return await _raw(port, [head + ZENDESK])

    status, body = run(scenario)
    assert status == 401 and b"not ASCII" in body


def test_a_body_that_arrives_in_two_writes_is_read_whole():
    async def scenario(http, base, port, producer):
        headers = _zendesk_headers("zd-acme")
        head = (b"POST /webhooks/zendesk HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
                + b"Content-Length: " + str(len(ZENDESK)).encode() + b"\r\nConnection: close\r\n\r\n")
        half = len(ZENDESK) // 2
        return await _raw(port, [head + ZENDESK[:half], ZENDESK[half:]])

    status, body = run(scenario)
    assert status == 202, body


def test_an_oversize_chunked_body_is_413():
    async def scenario(http, base, port, producer):
        async def chunks():
            for _ in range(100):
                yield b"x" * 1024
        async with http.post(f"{base}/webhooks/zendesk", data=chunks(), headers=_zendesk_headers("zd-acme")) as response:
            return response.status

    assert run(scenario) == 413


def test_a_five_thousand_digit_integer_is_400():
    body = b'{"type": "zen:event-type:ticket.created", "id": ' + b"9" * 5000 + b"}"

    async def scenario(http, base, port, producer):
        return await _post(http, f"{base}/webhooks/zendesk", body, _zendesk_headers("zd-acme", body))

    status, answer = run(scenario)
    assert status == 400 and answer["reason_code"] == "invalid_json"


def test_metrics_and_readyz():
    async def scenario(http, base, port, producer):
        async with http.get(f"{base}/readyz") as ready:
            ready_status = ready.status
        async with http.get(f"{base}/metrics") as metrics:
            text = await metrics.text()
        return ready_status, text

    ready_status, text = run(scenario)
    assert ready_status == 200 and "casetrail_ingest_webhook_requests_total" in text


def test_two_tenants_sharing_a_secret_is_a_configuration_error():
    with pytest.raises(ValueError, match="share a zendesk webhook secret"):
        Verifier([WebhookSecret("a", "zendesk", "same"), WebhookSecret("b", "zendesk", "same")])
