"""The console's settings: where its file is, and what a deployment's Secret adds over it."""

from __future__ import annotations

import json

import pytest

from casetrail.settings import InvalidSettings
from services.review.config import load_config
from services.review.settings import ReviewSettings

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
REVIEW_VARIABLES = ("CASETRAIL_REVIEW_CONFIG", "CASETRAIL_REVIEW_ACCOUNTS", "CASETRAIL_REVIEW_SECRET_KEY",
                    "CASETRAIL_REVIEW_SECURE_COOKIES", "CASETRAIL_REVIEW_OIDC_CLIENT_SECRET")


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in REVIEW_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_defaults(env, tmp_path):
    settings = ReviewSettings(_env_file=None)
    assert settings.review_config_path == tmp_path / "review" / "review.yaml"
    assert settings.review_accounts == [] and settings.review_secure_cookies is None
    config = load_config(settings=settings)
    assert config.accounts == [] and config.secure_cookies is True and config.oidc is None


def test_the_secret_adds_accounts_and_overrides_the_file(env, tmp_path):
    path = tmp_path / "console.yaml"
    path.write_text("secure_cookies: true\n"
                    f"accounts:\n  - {{username: ana, tenant: acme-shop, role: agent, password_hash: '{HASH}'}}\n"
                    "oidc: {issuer: 'https://id.example', client_id: console, redirect_url: 'https://c.example/cb'}\n")
    env.setenv("CASETRAIL_REVIEW_CONFIG", str(path))
    env.setenv("CASETRAIL_REVIEW_ACCOUNTS", json.dumps(
        [{"username": "bo", "tenant": "acme-shop", "role": "lead", "password_hash": HASH}]))
    env.setenv("CASETRAIL_REVIEW_SECRET_KEY", "k" * 40)
    env.setenv("CASETRAIL_REVIEW_SECURE_COOKIES", "false")
    env.setenv("CASETRAIL_REVIEW_OIDC_CLIENT_SECRET", "oidc-secret")
    config = load_config(settings=ReviewSettings(_env_file=None))
    assert [a.username for a in config.accounts] == ["ana", "bo"] and config.account("bo").role == "lead"
    assert config.secret_key.get_secret_value() == "k" * 40
    assert config.secure_cookies is False
    assert config.oidc.client_secret.get_secret_value() == "oidc-secret"


@pytest.mark.parametrize("variable, value, where", [
    ("CASETRAIL_REVIEW_SECURE_COOKIES", "sometimes", "CASETRAIL_REVIEW_SECURE_COOKIES: "),
    ("CASETRAIL_REVIEW_ACCOUNTS", '{"username": "bo"}', "CASETRAIL_REVIEW_ACCOUNTS: Value error, not a JSON list"),
    ("CASETRAIL_REVIEW_ACCOUNTS", json.dumps([{"username": "bo", "tenant": "t", "role": "agent",
                                               "password_hash": "plain-password"}]),
     "CASETRAIL_REVIEW_ACCOUNTS[0].password_hash: "),
])
def test_a_bad_value_names_its_variable(env, variable, value, where):
    env.setenv(variable, value)
    with pytest.raises(InvalidSettings) as caught:
        ReviewSettings(_env_file=None)
    assert where in str(caught.value)
    assert "plain-password" not in str(caught.value)
