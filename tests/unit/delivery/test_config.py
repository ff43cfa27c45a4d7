"""Delivery configuration: secrets from mounted files or the environment, never the file; a bad
entry refuses start-up with a message naming it."""

from __future__ import annotations

import pytest

from services.delivery.config import DeliveryConfigError, load_tenant


def _write(tmp_path, text: str):
    path = tmp_path / "acme-shop.yaml"
    path.write_text(text)
    return path


ZENDESK = "tenant: acme-shop\nplatforms:\n  zendesk:\n    base_url: https://acme.zendesk.com\n    email: bot@acme.example\n"


def test_secret_from_a_mounted_secret_file_is_a_secretstr(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "acme-shop.zendesk.api_token").write_text("s3cret\n")
    config = load_tenant(_write(tmp_path, ZENDESK), env={}, secrets=secrets)
    token = config.platform("zendesk").api_token
    assert token.get_secret_value() == "s3cret" and "s3cret" not in repr(config)


def test_secret_from_the_environment(tmp_path):
    config = load_tenant(_write(tmp_path, ZENDESK), env={"CASETRAIL_DELIVERY__ACME_SHOP__ZENDESK__API_TOKEN": "t"},
                         secrets=tmp_path / "none")
    assert config.platform("zendesk").api_token.get_secret_value() == "t"


def test_without_a_stand_in_the_referenced_variable_is_read_from_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DELIVERY__ACME_SHOP__ZENDESK__API_TOKEN", "from-the-environment")
    config = load_tenant(_write(tmp_path, ZENDESK), secrets=tmp_path / "none")
    assert config.platform("zendesk").api_token.get_secret_value() == "from-the-environment"


@pytest.mark.parametrize("text,message", [
    (ZENDESK, "acme-shop.zendesk.api_token: missing secret"),
    (ZENDESK + "    api_token: inline\n", "acme-shop.zendesk.api_token: secrets never go in the config file"),
    ("platforms:\n  jira:\n    base_url: https://x\n", "acme-shop.jira: unknown platform"),
    ("platforms:\n  zendesk:\n    base_url: ftp://acme\n", "acme-shop.zendesk.base_url: Value error, must start with https://"),
    ("platforms:\n  intercom:\n    base_url: https://api.intercom.io\n", "acme-shop.intercom.admin_id: Field required"),
    ("platforms:\n  email:\n    smtp_host: smtp\n    from_address: a@b\n    smtp_port: 99999\n",
     "acme-shop.email.smtp_port: Input should be less than or equal to 65535"),
])
def test_bad_entries_are_refused_by_name(tmp_path, text, message):
    with pytest.raises(DeliveryConfigError) as refused:
        load_tenant(_write(tmp_path, text), env={}, secrets=tmp_path / "none")
    assert str(refused.value).startswith(message), str(refused.value)
