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


def test_a_malformed_token_list_names_its_variable_and_hides_its_value(monkeypatch):
    from casetrail.settings import InvalidSettings
    from services.audit.settings import AuditSettings

    monkeypatch.setenv("CASETRAIL_AUDIT_TOKENS", '[{"name": "e", "sha256": "s3cret-ish"')
    with pytest.raises(InvalidSettings, match="CASETRAIL_AUDIT_TOKENS: .*not JSON") as caught:
        AuditSettings()
    assert "s3cret" not in str(caught.value)
    monkeypatch.setenv("CASETRAIL_AUDIT_TOKENS", json.dumps([{"name": "e", "tenant": "t", "role": "admin",
                                                              "sha256": hash_token("x")}]))
    with pytest.raises(InvalidSettings, match=r"CASETRAIL_AUDIT_TOKENS\[0\]\.role: "):
        AuditSettings()


def test_the_file_is_where_the_settings_say(tmp_path, monkeypatch):
    from services.audit.settings import AuditSettings

    monkeypatch.delenv("CASETRAIL_AUDIT_TOKENS", raising=False)
    monkeypatch.delenv("CASETRAIL_AUDIT_CONFIG", raising=False)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path))
    assert AuditSettings().audit_config_path == tmp_path / "audit" / "audit.yaml"
    (tmp_path / "elsewhere.yaml").write_text("retention: {default: 90d}\n")
    monkeypatch.setenv("CASETRAIL_AUDIT_CONFIG", str(tmp_path / "elsewhere.yaml"))
    assert load_config().retention.default == "90d"


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
