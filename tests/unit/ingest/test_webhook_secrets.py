"""The webhook bridge's secrets: the file the settings name, plus one variable per source."""

from __future__ import annotations

import os

from services.ingest.settings import IngestSettings, webhook_secret_variables
from services.ingest.signatures import load_secrets


def test_per_source_variables_and_the_secrets_file(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("CASETRAIL_WEBHOOK_SECRET")]:
        monkeypatch.delenv(name)
    secrets_file = tmp_path / "webhooks.yaml"
    secrets_file.write_text("- {tenant: globex, source: Freshdesk, secret: f-secret}\n")
    monkeypatch.setenv("CASETRAIL_WEBHOOK_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv("CASETRAIL_WEBHOOK_SECRET_ZENDESK", "z-secret")
    monkeypatch.setenv("CASETRAIL_WEBHOOK_SECRET_GENERIC", "")  # empty: no secret for that source
    settings = IngestSettings(_env_file=None)
    assert settings.webhook_secrets_file == secrets_file
    assert webhook_secret_variables() == {"zendesk": "z-secret"}
    entries = load_secrets(settings.webhook_secrets_file, webhook_secret_variables(), settings.default_tenant)
    assert [(e.tenant, e.source, e.secret, e.scheme) for e in entries] == [
        ("globex", "freshdesk", "f-secret", "hmac"), ("default", "zendesk", "z-secret", "hmac")]
