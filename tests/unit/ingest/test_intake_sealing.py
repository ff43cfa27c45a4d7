"""Intake payloads under the customer's key (issue 17): the webhook bridge seals ``IntakeTicket.payload``
with the customer's key before it is written, ingest opens it, and once the customer is erased the
record on the intake topic (kept 14 days) opens no more. Raw records that a platform publishes
directly stay accepted as they are.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web

from casetrail.codec import AvroCodec
from casetrail.events import IntakeTicket
from casetrail.privacy.keystore import KeyStore, KeyStoreBusy
from services.ingest.intake_decoding import intake_record
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import PAYLOAD_ERASED, REASON_CODES, Rejected
from services.ingest.signatures import Verifier, WebhookSecret, zendesk_signature
from services.ingest.webhooks import create_app
from tests.unit.ingest.test_webhook_bridge_security import ZENDESK, RecordingProducer

SECRETS = [WebhookSecret("acme-shop", "zendesk", "zd-acme")]
CODEC = AvroCodec()


def _post_zendesk(keystore) -> tuple[int, list[IntakeTicket]]:
    async def main():
        producer = RecordingProducer()
        runner = web.AppRunner(create_app(producer, Verifier(SECRETS), keystore=keystore))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        headers = {"X-Zendesk-Webhook-Signature": zendesk_signature("zd-acme", stamp, ZENDESK),
                   "X-Zendesk-Webhook-Signature-Timestamp": stamp}
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/webhooks/zendesk", data=ZENDESK, headers=headers) as r:
                    return r.status, producer.published
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def _customer_of(body: bytes) -> str:
    parsed = Normaliser(detect_locale=False).parse(IntakeRecord(tenant="acme-shop", source="zendesk", payload=body))
    return parsed.customer.customer_id


def test_the_bridge_seals_the_payload_with_the_customers_key_and_ingest_opens_it(tmp_path):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    status, [ticket] = _post_zendesk(keystore)
    assert status == 202
    encoded = CODEC.encode(ticket)
    assert ticket.payload == b"" and ZENDESK[40:120] not in encoded  # no raw payload bytes on the topic
    assert ticket.sealed_payload.key_id == keystore.key_id_for("acme-shop", _customer_of(ZENDESK))
    record = intake_record(encoded, {}, CODEC, "default", opener=keystore)
    assert record.payload == ZENDESK and record.tenant == "acme-shop" and record.source == "zendesk"


def test_after_erasure_the_intake_record_opens_no_more(tmp_path):
    keystore = KeyStore(tmp_path / "keys.sqlite")
    _, [ticket] = _post_zendesk(keystore)
    keystore.erase("acme-shop", _customer_of(ZENDESK))
    try:
        intake_record(CODEC.encode(ticket), {}, CODEC, "default", opener=keystore)
    except Rejected as rejected:
        assert rejected.reason_code == PAYLOAD_ERASED and PAYLOAD_ERASED in REASON_CODES
    else:
        raise AssertionError("an erased customer's intake payload was opened")


def test_a_key_store_that_is_away_makes_the_bridge_answer_503_so_the_platform_retries(tmp_path):
    class Away:
        def seal_bytes(self, *args):
            raise KeyStoreBusy("away")

    status, published = _post_zendesk(Away())
    assert status == 503 and published == []


def test_raw_intake_published_directly_stays_accepted():
    record = intake_record(ZENDESK, {"casetrail-source": b"zendesk", "casetrail-tenant": b"acme-shop"}, CODEC, "default")
    assert record.payload == ZENDESK
    unsealed = IntakeTicket(tenant="acme-shop", source="zendesk", payload=ZENDESK)
    assert intake_record(CODEC.encode(unsealed), {}, CODEC, "default").payload == ZENDESK
