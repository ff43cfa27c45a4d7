"""Query API: authentication, tenant isolation, role views (FastAPI TestClient, SQLite store)."""

import random

import pytest
from fastapi.testclient import TestClient

from services.audit.offline import synthetic
from services.audit.api import create_app
from services.audit.config import AuditConfig, TokenEntry, hash_token
from tests.unit.audit.conftest import ORIGINAL_TEXT, START, sealed_conversation

TOKENS = {"auditor": "t-auditor-acme", "qa": "t-qa-acme", "other": "t-auditor-globex"}


@pytest.fixture
def client(store, keystore):
    acme = sealed_conversation(keystore)
    globex = synthetic.conversation_events(random.Random(2), "globex", START)
    store.ingest(acme + globex)
    config = AuditConfig(tokens=[
        TokenEntry(name="a", tenant="acme-shop", role="auditor", sha256=hash_token(TOKENS["auditor"])),
        TokenEntry(name="q", tenant="acme-shop", role="qa", sha256=hash_token(TOKENS["qa"])),
        TokenEntry(name="g", tenant="globex", role="auditor", sha256=hash_token(TOKENS["other"])),
    ])
    c = TestClient(create_app(store, config, keystore))
    c.acme_id = acme[1][1]["conversation_id"]
    c.globex_id = globex[1][1]["conversation_id"]
    return c


def _auth(role):
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@pytest.mark.parametrize("path", ["/v1/conversations", "/v1/export.jsonl", "/v1/reports/2026-11",
                                  "/v1/conversations/x/lineage", "/v1/whoami"])
def test_no_anonymous_access(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_other_tenants_conversation_is_not_found(client):
    assert client.get(f"/v1/conversations/{client.globex_id}/lineage", headers=_auth("auditor")).status_code == 404
    assert client.get(f"/v1/conversations/{client.acme_id}/lineage", headers=_auth("other")).status_code == 404
    ids = [i["conversation_id"] for i in client.get("/v1/conversations", headers=_auth("other")).json()["items"]]
    assert ids == [client.globex_id]


def test_auditor_sees_the_decrypted_original(client):
    body = client.get(f"/v1/conversations/{client.acme_id}/lineage", headers=_auth("auditor")).json()
    received = next(s["record"] for s in body["steps"] if s["stage"] == "received")
    assert received["conversation"]["original_text"] == {"status": "ok", "text": ORIGINAL_TEXT}
    assert body["customer_id"] == "cust-jane"


def test_qa_never_sees_unredacted_text(client):
    body = client.get(f"/v1/conversations/{client.acme_id}/lineage", headers=_auth("qa")).text
    assert "jane@example.com" not in body and "Jane Doe" not in body and "12345" not in body
    assert "ciphertext" not in body and "cust-jane" not in body
    assert "[ORDER_1]" in body  # the redacted text is there
    export = client.get("/v1/export.jsonl", headers=_auth("qa")).text
    assert export.count("\n") == 1 and "jane@example.com" not in export and "ciphertext" not in export


def test_search_filters_and_report(client):
    lineage = client.get(f"/v1/conversations/{client.acme_id}/lineage", headers=_auth("auditor")).json()
    category = lineage["summary"]["category"]
    hits = client.get("/v1/conversations", params={"category": category, "model": "triage-logreg-2026.11",
                                                   "since": "2026-11-01T00:00:00Z"}, headers=_auth("qa")).json()
    assert [h["conversation_id"] for h in hits["items"]] == [client.acme_id]
    assert hits["items"][0]["customer_id"] is None
    none = client.get("/v1/conversations", params={"category": "no-such"}, headers=_auth("qa")).json()
    assert none["items"] == []
    report = client.get("/v1/reports/2026-11", headers=_auth("auditor")).json()
    assert report["conversations"] == 1 and report["tenant"] == "acme-shop"
    md = client.get("/v1/reports/2026-11", params={"format": "markdown"}, headers=_auth("qa"))
    assert md.headers["content-type"].startswith("text/markdown") and "Compliance report" in md.text
    assert client.get("/v1/reports/nonsense", headers=_auth("qa")).status_code == 422


def test_openapi_is_published(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/conversations/{conversation_id}/lineage" in spec["paths"]
