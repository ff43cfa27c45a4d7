"""Audit configuration: hashed tokens only, retention per tenant, clear errors."""

import datetime as dt
import json

import pytest

from services.audit.config import AuditConfigError, hash_token, load_config, new_token, parse_retention


def test_tokens_are_matched_by_hash_and_plaintext_is_never_configured(tmp_path, monkeypatch):
    token, digest = new_token()
    assert token not in digest and len(digest) == 64
    path = tmp_path / "audit.yaml"
    path.write_text(f"tokens:\n  - {{name: a, tenant: acme-shop, role: qa, sha256: '{digest}'}}\n")
    monkeypatch.delenv("CASETRAIL_AUDIT_TOKENS", raising=False)
    config = load_config(path)
    assert config.token(token).tenant == "acme-shop"
    assert config.token(token + "x") is None


def test_tokens_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CASETRAIL_AUDIT_TOKENS", json.dumps(
        [{"name": "e", "tenant": "globex", "role": "auditor", "sha256": hash_token("s3cret")}]))
    assert load_config(tmp_path / "missing.yaml").token("s3cret").role == "auditor"


def test_invalid_entries_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("CASETRAIL_AUDIT_TOKENS", raising=False)
    path = tmp_path / "audit.yaml"
    path.write_text("tokens:\n  - {name: a, tenant: t, role: admin, sha256: 'nothex'}\nretention: {default: forever}\n")
    with pytest.raises(AuditConfigError, match=r"tokens\.0\.role"):
        load_config(path)


def test_retention_per_tenant(tmp_path, monkeypatch):
    monkeypatch.delenv("CASETRAIL_AUDIT_TOKENS", raising=False)
    path = tmp_path / "audit.yaml"
    path.write_text("retention: {default: 7y, tenants: {globex: 90d}}\n")
    config = load_config(path)
    assert config.retention.for_tenant("acme-shop") == dt.timedelta(days=7 * 365)
    assert config.retention.for_tenant("globex") == dt.timedelta(days=90)
    assert parse_retention("18m") == dt.timedelta(days=540)
