"""The router's SLA tick counts what it fired only once its transaction committed: a zombie's tick the broker
refuses (or an aborted one) fired nothing, so casetrail_router_sla_* do not move; the tick that runs again
and commits counts once. The worker's producer is a recorder whose commit answers as scripted."""

from __future__ import annotations

import asyncio
import datetime as dt

import orjson
import pytest

from casetrail import topics
from casetrail.runtime.ticks import run_due_timers
from casetrail.runtime.worker import Worker
from services.router import metrics
from services.router.sla import SlaTimer
from tests.support.transaction_fakes import COMMITTED, REFUSED, TIMED_OUT, PositionedConsumer, ScriptedProducer

NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
TENANT = "after-commit-tenant"  # a label of this test's own, so other tests' counts do not mix in


def _counts() -> tuple[float, float, float]:
    return (metrics.SLA_EVENTS.labels(TENANT, "breached")._value.get(),
            metrics.SLA_BREACHED.labels(TENANT)._value.get(),
            metrics.SLA_AT_RISK.labels(TENANT)._value.get())


@pytest.fixture
def router(monkeypatch):
    import services.router.app as router

    monkeypatch.setattr(router, "clock", lambda: NOW)
    worker = Worker(router.svc)
    worker.producer, worker.consumer = ScriptedProducer(COMMITTED), PositionedConsumer()
    worker.assigned = {(router.svc.topic_name(topics.SLA_EVENTS), 0)}
    monkeypatch.setattr(router.svc, "_worker", worker)
    timer = SlaTimer(conversation_id="conv-after-commit", tenant=TENANT, locale="en", started_at=NOW - dt.timedelta(hours=9),
                     due_at=NOW - dt.timedelta(hours=1), at_risk_at=NOW - dt.timedelta(hours=2), fraction=0.8,
                     draft_id="draft-1", partition=0)
    router.sla_timers.load(0, orjson.dumps(timer.conversation_id), orjson.dumps(timer.to_dict()))
    yield router, worker
    router.sla_timers.drop({0})


def _tick(router, worker) -> None:
    for timer in router.svc.timers:
        timer.due = 0.0
    asyncio.run(run_due_timers(worker))


@pytest.mark.parametrize("refusal", [REFUSED, TIMED_OUT])
def test_a_tick_whose_commit_is_refused_counts_no_sla_event(router, refusal):
    app, worker = router
    worker.producer.outcome = refusal
    before = _counts()
    _tick(app, worker)
    assert worker.producer.produced  # the tick did produce its at-risk and breached events...
    assert _counts() == before  # ...but they never became visible, so nothing is counted
    assert SlaTimer.from_dict(app.sla_timers.get("conv-after-commit")).fired == ()  # rolled back: fired again


def test_the_tick_that_commits_counts_each_fired_event_once(router):
    app, worker = router
    worker.producer.outcome = REFUSED
    before = _counts()
    _tick(app, worker)
    worker.producer.outcome = COMMITTED
    _tick(app, worker)
    _tick(app, worker)  # nothing left to fire: nothing counted again
    assert tuple(after - b for after, b in zip(_counts(), before)) == (1.0, 1.0, 1.0)


def _decisions(tenant: str) -> float:
    return sum(sample.value for metric in metrics.DECISIONS.collect() for sample in metric.samples
               if sample.name.endswith("_total") and sample.labels["tenant"] == tenant)


def test_an_aborted_batch_counts_no_decision_and_the_committed_one_counts_it_once(router, monkeypatch):
    from factories import OPEN_NOW, verified

    from tests.support.consumed_message import ConsumedMessage

    app, worker = router
    monkeypatch.setattr(app, "clock", lambda: OPEN_NOW)
    event = verified(conversation_id="conv-after-commit-batch", event_id="ev-after-commit-batch")
    name = app.svc.topic_name(topics.DRAFTS_VERIFIED)
    record = ConsumedMessage(name, 11, app.svc.codec.encode(event, topic=name))
    before = _decisions(event.tenant)
    worker.producer.outcome = TIMED_OUT
    assert not asyncio.run(worker._transaction([record])).committed
    assert worker.producer.produced and _decisions(event.tenant) == before
    worker.producer.outcome = COMMITTED
    assert asyncio.run(worker._transaction([record])).committed
    assert _decisions(event.tenant) - before == 1.0
