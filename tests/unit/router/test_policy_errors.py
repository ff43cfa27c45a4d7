"""A rule that does not parse, or reads a field nobody provides, refuses start-up with its name."""

from __future__ import annotations

import pytest
import yaml

from casetrail.policy.tenant import PolicyError, load_policies, load_policy
from factories import ACME


def write_policy(tmp_path, rule: dict):
    raw = yaml.safe_load(ACME.read_text())
    raw["routing"].append(rule)
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"name": "broken-syntax", "condition": "sentiment < ", "queue": "x"}, "routing[broken-syntax]: does not parse"),
        ({"name": "unknown-field", "condition": "mood == 'angry'", "queue": "x"}, "routing[unknown-field]: unknown field 'mood'"),
        ({"name": "empty", "condition": "  ", "queue": "x"}, "routing[empty]: empty condition"),
    ],
)
def test_bad_rule_refuses_the_policy_with_its_name(tmp_path, rule, message):
    with pytest.raises(PolicyError) as error:
        load_policy(write_policy(tmp_path, rule))
    assert message in str(error.value)


def test_router_start_up_refuses_bad_rule(tmp_path, monkeypatch):
    """Importing the router app loads every tenant: an invalid one stops it before any consumer starts."""
    import importlib
    import sys

    write_policy(tmp_path, {"name": "oops", "condition": "customer.tier ==", "queue": "x"})
    monkeypatch.setenv("CASETRAIL_TENANTS_DIR", str(tmp_path))
    from casetrail import settings as settings_module

    settings_module.settings.cache_clear()
    sys.modules.pop("services.router.app", None)
    try:
        with pytest.raises(PolicyError, match=r"routing\[oops\]"):
            importlib.import_module("services.router.app")
    finally:
        settings_module.settings.cache_clear()
        sys.modules.pop("services.router.app", None)


def test_sample_tenant_loads_with_every_example_rule():
    names = [rule.name for rule in load_policies(ACME.parent)["acme-shop"].routing]
    for expected in ("fraud-immediately", "critical-bug-on-call", "very-negative-sentiment", "vip-support",
                     "payment-issues", "enterprise-waiting"):
        assert expected in names
