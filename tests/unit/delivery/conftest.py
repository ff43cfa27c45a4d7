"""Fixtures for delivery's unit tests: the fake platforms (local HTTP + SMTP servers speaking the
vendors' APIs), a tenant configuration pointing at them, and effects to deliver."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casetrail.events.conversation import EncryptedText
from casetrail.events.decision import ReplyKind
from casetrail.events.delivery import DeliveryEffect
from casetrail.own_messages import marker_for
from casetrail_tools.fake_platforms import FakePlatforms, delivery_config_yaml, delivery_secrets_env
from services.delivery.config import load_tenant
from services.delivery.effects import Effect
from services.delivery.thread import Thread

TENANT = "acme-shop"


@pytest.fixture(scope="module")
def fakes():
    with FakePlatforms() as running:
        yield running


@pytest.fixture
def tenant_config(fakes, tmp_path):
    path = tmp_path / f"{TENANT}.yaml"
    path.write_text(delivery_config_yaml(TENANT, fakes.http_url, fakes.smtp_port))
    return load_tenant(path, env=delivery_secrets_env(TENANT), secrets=tmp_path / "no-secrets")


def make_effect(kind: DeliveryEffect, platform: str, external_id: str, key: str, **extra) -> Effect:
    marker = marker_for(key)
    body = extra.pop("body", f"Hello, here is your answer.\n\nref {marker}")
    return Effect(key=key, kind=kind, conversation_id="c-1", tenant=TENANT, locale="en", platform=platform,
                  external_id=external_id, source_event_id="e-1",
                  source_occurred_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1),
                  marker=marker, body=body, reply_kind=ReplyKind.answer if kind == DeliveryEffect.public_reply else None,
                  sent_by="bot", **extra)


@pytest.fixture
def sealed_thread(tmp_path):
    """An e-mail thread whose original (with the customer's address) is sealed in a real key store."""
    from casetrail.privacy.keystore import KeyStore

    store = KeyStore(tmp_path / "keys.sqlite")
    sealed: EncryptedText = store.seal(TENANT, "email-abc", json.dumps(
        {"subject": "Where is my order?", "messages": [], "customer": {"names": ["Ann"], "emails": ["ann@example.org"]}}))
    thread = Thread(tenant=TENANT, source="email", external_id="root@mail.example.org", channel="email", locale="en",
                    customer_id="email-abc", message_ids=("root@mail.example.org", "second@mail.example.org"),
                    latest_customer_message_id="second@mail.example.org",
                    sealed={"key_id": sealed.key_id, "algorithm": sealed.algorithm,
                            "nonce": __import__("base64").b64encode(sealed.nonce).decode(),
                            "ciphertext": __import__("base64").b64encode(sealed.ciphertext).decode()})
    return thread, store
