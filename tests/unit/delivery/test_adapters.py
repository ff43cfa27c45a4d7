"""Every adapter against a local server speaking its platform's API (casetrail_tools.fake_platforms):
request shapes, authentication, pagination of lookups, error bodies and rate-limit headers."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters import PlatformError, make_adapter
from services.delivery.adapters.base import NotApplicable
from services.delivery.config import load_tenant
from tests.unit.delivery.conftest import TENANT, make_effect

HTTP_PLATFORMS = ("zendesk", "intercom", "freshdesk", "servicenow")
TICKETS = {"zendesk": "4242", "intercom": "215471", "freshdesk": "77", "servicenow": "INC0010042"}


def run(coro):
    return asyncio.run(coro)


def with_adapter(config, step, **kwargs):
    """Run ``step(adapter)`` in one event loop and close the adapter's client in it."""
    async def scenario():
        adapter = make_adapter(config, **kwargs)
        try:
            return await step(adapter)
        finally:
            await adapter.close()
    return asyncio.run(scenario())


def _messages(fakes, platform, external_id):
    snapshot = fakes.state.snapshot()
    for ticket in snapshot["tickets"]:
        if ticket["platform"] == platform and ticket["external_id"] == external_id:
            return ticket
    return {"messages": [], "tags": [], "group": None, "priority": None, "assignee": None}


def _unique(platform: str) -> str:
    base = TICKETS[platform]
    return f"{base}{uuid.uuid4().int % 10_000:04d}" if platform != "servicenow" else f"INC{uuid.uuid4().int % 10**7:07d}"


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_public_reply_is_posted_once_and_found_by_its_marker(fakes, tenant_config, platform):
    ticket = _unique(platform)
    adapter = make_adapter(tenant_config.platform(platform))
    effect = make_effect(DeliveryEffect.public_reply, platform, ticket, f"conv-{platform}:draft-1")

    async def scenario():
        try:
            assert await adapter.find(effect, None) is None
            written = await adapter.write(effect, None)
            found = await adapter.find(effect, None)
            return written, found
        finally:
            await adapter.close()

    written, found = run(scenario())
    state = _messages(fakes, platform, ticket)
    assert [m["public"] for m in state["messages"]] == [True]
    assert effect.marker in state["messages"][0]["body"]
    assert found is not None
    if platform != "servicenow":  # ServiceNow's PATCH does not return the journal entry's id
        assert found == written.platform_id


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_internal_note_is_private(fakes, tenant_config, platform):
    ticket = _unique(platform)
    effect = make_effect(DeliveryEffect.internal_note, platform, ticket, f"decision-{platform}:note",
                         queue="fraud-team", priority="urgent", tags=("casetrail:escalated",))
    with_adapter(tenant_config.platform(platform), lambda adapter: adapter.write(effect, None))
    assert [m["public"] for m in _messages(fakes, platform, ticket)["messages"]] == [False]


@pytest.mark.parametrize("platform", ("zendesk", "intercom", "freshdesk"))
def test_ticket_update_assigns_the_group_and_adds_tags_idempotently(fakes, tenant_config, platform):
    ticket = _unique(platform)
    adapter = make_adapter(tenant_config.platform(platform))
    effect = make_effect(DeliveryEffect.ticket_update, platform, ticket, f"decision-{platform}:update",
                         queue="fraud-team", priority="urgent",
                         tags=("casetrail:escalated", "casetrail:category:fraud", "casetrail:locale:en"))

    async def twice():
        try:
            await adapter.write(effect, None)
            await adapter.write(effect, None)
        finally:
            await adapter.close()

    run(twice())
    state = _messages(fakes, platform, ticket)
    expected_tags = ["casetrail:escalated", "casetrail:category:fraud", "casetrail:locale:en"]
    if platform == "intercom":
        expected_tags.append("casetrail:priority:urgent")  # Intercom's priority travels as a tag
        assert state["assignee"] == "360002"
    else:
        assert state["group"] == "360002"
        assert state["priority"] == "urgent"
    assert state["tags"] == expected_tags


def test_freshdesk_update_keeps_the_tickets_own_tags(fakes, tenant_config):
    ticket = _unique("freshdesk")
    with fakes.state.lock:
        fakes.state.ticket("freshdesk", ticket).tags = ["vip", "billing"]
    effect = make_effect(DeliveryEffect.ticket_update, "freshdesk", ticket, "d:update", tags=("casetrail:review",))
    with_adapter(tenant_config.platform("freshdesk"), lambda adapter: adapter.write(effect, None))
    assert _messages(fakes, "freshdesk", ticket)["tags"] == ["vip", "billing", "casetrail:review"]


def test_servicenow_priority_is_urgency_and_impact(fakes, tenant_config):
    ticket = _unique("servicenow")
    adapter = make_adapter(tenant_config.platform("servicenow"))
    body = adapter.patch_body(make_effect(DeliveryEffect.ticket_update, "servicenow", ticket, "d:u",
                                          queue="fraud-team", priority="high"))
    assert body == {"assignment_group": "360002", "urgency": "1", "impact": "2"}
    with pytest.raises(NotApplicable):
        with_adapter(tenant_config.platform("servicenow"), lambda adapter: adapter.write(
            make_effect(DeliveryEffect.ticket_update, "servicenow", ticket, "d:u2", tags=("casetrail:answered",)), None))


@pytest.mark.parametrize("platform", ("zendesk", "freshdesk"))
def test_lookup_pages_through_long_tickets(fakes, tenant_config, platform):
    ticket = _unique(platform)
    effect = make_effect(DeliveryEffect.public_reply, platform, ticket, f"long-{platform}:draft")
    async def step(adapter):
        await adapter.write(effect, None)
        for n in range(230):  # agents wrote after us: newest first, ours is on the third page
            fakes.state.add_message(platform, ticket, f"agent message {n}", True)
        return await adapter.find(effect, None)

    assert with_adapter(tenant_config.platform(platform), step) is not None


def test_wrong_credentials_are_refused_with_the_vendors_error(fakes, tenant_config, tmp_path):
    from casetrail_tools.fake_platforms import delivery_config_yaml

    path = tmp_path / "acme-shop.yaml"
    path.write_text(delivery_config_yaml(TENANT, fakes.http_url, fakes.smtp_port))
    env = {"CASETRAIL_DELIVERY__ACME_SHOP__ZENDESK__API_TOKEN": "wrong"}
    config = load_tenant(path, env={**env, "CASETRAIL_DELIVERY__ACME_SHOP__INTERCOM__ACCESS_TOKEN": "x",
                                    "CASETRAIL_DELIVERY__ACME_SHOP__FRESHDESK__API_KEY": "x",
                                    "CASETRAIL_DELIVERY__ACME_SHOP__SERVICENOW__PASSWORD": "x"},
                         secrets=tmp_path / "none")
    with pytest.raises(PlatformError) as refused:
        with_adapter(config.platform("zendesk"), lambda adapter: adapter.whoami())
    assert refused.value.status == 401
    assert '"error"' in refused.value.body


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_whoami(fakes, tenant_config, platform):
    assert with_adapter(tenant_config.platform(platform), lambda adapter: adapter.whoami())


def test_email_reply_is_threaded_marked_and_addressed_from_the_sealed_original(fakes, tenant_config, sealed_thread):
    thread, store = sealed_thread
    adapter = make_adapter(tenant_config.platform("email"), open_sealed=store.open)
    effect = make_effect(DeliveryEffect.public_reply, "email", thread.external_id, "conv-mail:draft-1")
    before = len(fakes.state.mail)
    written = run(adapter.write(effect, thread))
    mail = fakes.state.mail[before]
    headers = mail["headers"]
    assert mail["rcpt_tos"] == ["ann@example.org"]
    assert headers["Subject"] == "Re: Where is my order?"
    assert headers["In-Reply-To"] == "<second@mail.example.org>"
    assert headers["References"] == "<root@mail.example.org> <second@mail.example.org>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Casetrail-Ref"] == effect.marker
    assert headers["Message-ID"] == f"<{effect.marker}@casetrail.invalid>"
    assert written.platform_id == f"{effect.marker}@casetrail.invalid"
    assert effect.marker in mail["body"]


def test_email_to_an_erased_customer_is_refused_for_good(fakes, tenant_config, sealed_thread):
    thread, store = sealed_thread
    store.erase(TENANT, "email-abc")
    adapter = make_adapter(tenant_config.platform("email"), open_sealed=store.open)
    with pytest.raises(PlatformError) as refused:
        run(adapter.write(make_effect(DeliveryEffect.public_reply, "email", thread.external_id, "c:d"), thread))
    assert refused.value.transient is False


def test_email_handoff_goes_to_the_team_mailbox(fakes, tenant_config):
    adapter = make_adapter(tenant_config.platform("email"), open_sealed=lambda sealed: "{}")
    before = len(fakes.state.mail)
    run(adapter.write(make_effect(DeliveryEffect.internal_note, "email", "root@x", "d:note", queue="fraud-team",
                                  title="[casetrail] Escalated: fraud"), None))
    mail = fakes.state.mail[before]
    assert mail["rcpt_tos"] == ["fraud-team@acme.example"]
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
