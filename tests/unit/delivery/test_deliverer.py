"""Retries, rate limits, ambiguous failures and permanent refusals against the fake platforms."""

from __future__ import annotations

import asyncio
import uuid

from casetrail.events.delivery import DeliveryEffect
from services.delivery.adapters import make_adapter
from services.delivery.deliverer import Delivered, Failed, Parked, Policy, deliver
from services.delivery.lanes import Lane
from tests.unit.delivery.conftest import make_effect


def _run(config, effect, lane=None, **kwargs):
    async def scenario():
        adapter = make_adapter(config)
        try:
            return await deliver(effect, None, adapter, lane or Lane("acme-shop", effect.platform, 6000, 4), **kwargs)
        finally:
            await adapter.close()
    return asyncio.run(scenario())


def _public_messages(fakes, platform, ticket):
    return [m for t in fakes.state.snapshot()["tickets"] if t["platform"] == platform and t["external_id"] == ticket
            for m in t["messages"]]


def test_a_short_503_is_retried_in_line(fakes, tenant_config):
    ticket = str(uuid.uuid4().int % 10**6)
    fakes.fault("zendesk", 503, count=2)
    result = _run(tenant_config.platform("zendesk"), make_effect(DeliveryEffect.public_reply, "zendesk", ticket, "k1"))
    assert isinstance(result, Delivered)
    assert result.attempts == 3
    assert len(_public_messages(fakes, "zendesk", ticket)) == 1


def test_a_reply_lost_after_the_write_is_found_not_posted_again(fakes, tenant_config):
    ticket = str(uuid.uuid4().int % 10**6)
    fakes.fault("freshdesk", 502, count=1, after_write=True)  # the platform wrote it, the answer was lost
    result = _run(tenant_config.platform("freshdesk"), make_effect(DeliveryEffect.public_reply, "freshdesk", ticket, "k2"))
    assert isinstance(result, Delivered)
    assert result.recovered
    assert len(_public_messages(fakes, "freshdesk", ticket)) == 1


def test_a_long_retry_after_parks_the_effect_and_cools_the_lane(fakes, tenant_config):
    ticket = str(uuid.uuid4().int % 10**6)
    fakes.fault("intercom", 429, count=1, retry_after=30)
    lane = Lane("acme-shop", "intercom", 6000, 4)
    result = _run(tenant_config.platform("intercom"), make_effect(DeliveryEffect.public_reply, "intercom", ticket, "k3"),
                  lane=lane)
    assert isinstance(result, Parked)
    assert result.after_seconds >= 25
    assert not result.maybe_attempted  # a 429 was not processed: no lookup needed
    assert lane.cooling_for() > 25
    # While the lane cools down, nothing is sent to the platform.
    before = len(fakes.state.requests)
    again = _run(tenant_config.platform("intercom"), make_effect(DeliveryEffect.public_reply, "intercom", ticket, "k3"),
                 lane=lane)
    assert isinstance(again, Parked) and len(fakes.state.requests) == before
    assert _public_messages(fakes, "intercom", ticket) == []


def test_a_refusal_that_will_never_succeed_fails_at_once(fakes, tenant_config):
    effect = make_effect(DeliveryEffect.public_reply, "servicenow", "INC9", "k4")
    adapter_config = tenant_config.platform("servicenow")
    fakes.fault("servicenow", 403, count=1)
    result = _run(adapter_config, effect)
    assert isinstance(result, Failed)
    assert result.status == 403 and result.attempts == 1
    assert "fake servicenow answered 403" in result.body


def test_out_of_retries_fails(fakes, tenant_config):
    ticket = str(uuid.uuid4().int % 10**6)
    fakes.fault("zendesk", 500, count=5)
    result = _run(tenant_config.platform("zendesk"), make_effect(DeliveryEffect.public_reply, "zendesk", ticket, "k5"),
                  attempts_before=10, policy=Policy(max_attempts=12))
    assert isinstance(result, Failed)
    assert result.attempts == 12
    fakes.state.faults.clear()
