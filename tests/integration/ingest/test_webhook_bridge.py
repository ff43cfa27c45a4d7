"""The webhook bridge against the real broker: 2xx only after the ack, precise 4xx otherwise."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from casetrail.codec import AvroCodec
from casetrail.events import IntakeTicket
from casetrail.settings import kafka_settings
from casetrail.topics import INTAKE
from services.ingest.signatures import Verifier, WebhookSecret, intercom_signature, zendesk_signature
from services.ingest.webhooks import IntakeProducer, create_app
from tests.support.kafka import consume, create_topics

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[2] / "unit" / "ingest" / "fixtures"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhooks_publish_after_ack_and_refuse_bad_requests(kafka_bootstrap, topic_prefix):
    kafka_settings.cache_clear()
    create_topics(topic_prefix, [INTAKE])
    topic = f"{topic_prefix}{INTAKE.name}"
    codec = AvroCodec()
    verifier = Verifier([WebhookSecret("acme-shop", "zendesk", "zd-secret"), WebhookSecret("other", "intercom", "ic-secret"),
                         WebhookSecret("acme-shop", "freshdesk", "fd-token", scheme="token")])
    zendesk = (FIXTURES / "zendesk_event_comment_added.json").read_bytes()
    notification = json.loads((FIXTURES / "intercom_conversation_user_replied.json").read_text())
    # Freshness is read from first_sent_at (else created_at): both as if Intercom sent it just now.
    notification["created_at"] = notification["first_sent_at"] = int(time.time())
    intercom = json.dumps(notification).encode()
    port = _free_port()

    async def scenario() -> dict:
        producer = IntakeProducer(kafka_settings().librdkafka_config(), topic, codec)
        runner = web.AppRunner(create_app(producer, verifier))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}/webhooks"
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        results = {}
        try:
            async with aiohttp.ClientSession() as http:
                async def post(name, path, body, headers):
                    async with http.post(f"{base}/{path}", data=body, headers=headers) as response:
                        results[name] = (response.status, await response.json())

                await post("zendesk_ok", "zendesk", zendesk, {
                    "X-Zendesk-Webhook-Signature": zendesk_signature("zd-secret", stamp, zendesk),
                    "X-Zendesk-Webhook-Signature-Timestamp": stamp})
                await post("intercom_ok", "intercom", intercom,
                           {"X-Hub-Signature": intercom_signature("ic-secret", intercom)})
                await post("bad_signature", "zendesk", zendesk, {
                    "X-Zendesk-Webhook-Signature": zendesk_signature("wrong", stamp, zendesk),
                    "X-Zendesk-Webhook-Signature-Timestamp": stamp})
                await post("no_token", "freshdesk", b"{}", {})
                await post("bad_json", "freshdesk", b'{"id": ', {"X-Casetrail-Token": "fd-token"})
                await post("unknown", "jira", b"{}", {})
                await post("too_large", "freshdesk", b"x" * (1024 * 1024 + 10), {"X-Casetrail-Token": "fd-token"})
        finally:
            await runner.cleanup()
            producer.close()
        return results

    results = asyncio.run(scenario())
    assert results["zendesk_ok"][0] == 202 and results["zendesk_ok"][1]["external_id"] == "35440"
    assert results["intercom_ok"][0] == 202
    assert results["bad_signature"] == (401, {"status": 401, "message": "X-Zendesk-Webhook-Signature does not match the body"})
    assert results["no_token"][0] == 401 and "X-Casetrail-Token" in results["no_token"][1]["message"]
    assert results["zendesk_ok"][1]["tenant"] == "acme-shop" and results["intercom_ok"][1]["tenant"] == "other"
    assert results["bad_json"][0] == 400 and results["bad_json"][1]["reason_code"] == "invalid_json"
    assert results["unknown"][0] == 404
    assert results["too_large"][0] == 413
    published = [codec.decode(m.value(), expected=IntakeTicket) for m in consume([topic], expected=2, timeout=30)]
    assert sorted((t.source, t.tenant, t.external_id) for t in published) == [
        ("intercom", "other", "147258369"), ("zendesk", "acme-shop", "35440")]
    assert {t.source: t.payload for t in published} == {"zendesk": zendesk, "intercom": intercom}
