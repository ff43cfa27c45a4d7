import datetime as dt
import random

import pytest

from casetrail.privacy.keystore import KeyStore
from services.audit.offline import synthetic
from services.audit.store import AuditStore

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
ORIGINAL_TEXT = "Hello, where is my order 12345? I paid on Monday. Regards, Jane Doe jane@example.com"


@pytest.fixture
def store(tmp_path):
    s = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def keystore(tmp_path):
    ks = KeyStore(tmp_path / "keys.sqlite")
    yield ks
    ks.close()


def sealed_conversation(keystore, tenant="acme-shop", customer="cust-jane", seed=11, **kwargs):
    """All events of one conversation whose original text is sealed with the customer's real key."""
    sealed = keystore.seal(tenant, customer, ORIGINAL_TEXT).model_dump()
    return synthetic.conversation_events(random.Random(seed), tenant, START, customer_id=customer, sealed=sealed,
                                         **kwargs)


def erasure_event(key_id, tenant="acme-shop", customer="cust-jane"):
    """The audited erasure of ``customer`` (its key already destroyed in the key store)."""
    return ("PersonalDataErased", {
        "event_id": "erase-p", "occurred_at": "2026-12-01T00:00:00.000Z", "producer": {"service": "audit", "version": "t"},
        "tenant": tenant, "customer_id": customer, "key_id": key_id, "requested_by": "dpo", "reason": "",
    })


def log_with_erasure(keystore):
    """900 synthetic events, one sealed conversation of cust-jane, then her erasure."""
    log = list(synthetic.event_log(900, seed=4)) + sealed_conversation(keystore)
    log.append(erasure_event(keystore.erase("acme-shop", "cust-jane")))
    return log
