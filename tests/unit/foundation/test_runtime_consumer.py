"""The runtime's Kafka consumer settings that Faust does not expose."""

import asyncio

import pytest

from casetrail.runtime import Service
from casetrail.settings import CasetrailSettings


def _worker_consumer(settings: CasetrailSettings):
    async def build():
        app = Service("fetchwait", config=settings).app
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        try:
            return consumer._fetch_max_wait_ms
        finally:
            await consumer.stop()  # never started: releases its client

    return asyncio.run(build())


def test_fetch_wait_defaults_to_fausts_and_can_be_lowered():
    assert _worker_consumer(CasetrailSettings()) == 1500
    assert _worker_consumer(CasetrailSettings(fetch_max_wait_ms=100)) == 100


def test_fetch_wait_from_the_environment(monkeypatch):
    monkeypatch.setenv("CASETRAIL_FETCH_MAX_WAIT_MS", "250")
    assert _worker_consumer(CasetrailSettings()) == 250
    monkeypatch.setenv("CASETRAIL_FETCH_MAX_WAIT_MS", "0")
    with pytest.raises(ValueError):
        CasetrailSettings()
