"""A zombie worker's timer tick is refused by the broker (issue 21: timers owned by exactly one
worker per partition across rebalances).

Worker ``a`` owns the only partition and holds a due timer; its tick decides to fire it and then
the process stops (SIGSTOP, from inside the tick: the worst moment, every time) for longer than
the group session. Worker ``b`` joins, takes the partition, restores the table and fires the timer.
Then ``a`` is resumed and finishes its tick. Its transaction carries its consumer positions and the
group metadata of the generation it acted on (casetrail/runtime/ticks.py), so the broker refuses
it: a ``read_committed`` reader sees the timer fired exactly once, by ``b``.

Before the fence the tick's transaction carried no offsets, and ``a``'s ``breached`` event became
visible beside ``b``'s: two records.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import pytest

from casetrail.events import ProducerInfo, SlaEvent, SlaEventKind
from tests.support.kafka import consume, consume_until_quiet, create_topics, produce_events
from tests.support.processes import ServiceProcess, free_port, module_process
from tests.support.timer_service import TIMERS_FIRED, TIMERS_IN, svc as timer_service

pytestmark = pytest.mark.integration
SESSION_TIMEOUT_MS = 6000  # the broker's group.min.session.timeout.ms: the partition moves as soon as it may


def _worker(prefix: str, tmp_path: Path, worker_id: str, stall_marker: Path | None = None) -> ServiceProcess:
    env = {"CASETRAIL_CREATE_TOPICS": "false", "CASETRAIL_WORKER_ID": worker_id,
           "CASETRAIL_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS), "CASETRAIL_DATA_DIR": str(tmp_path / "data")}
    if stall_marker is not None:
        env["CASETRAIL_TEST_TIMER_STALL_MARKER"] = str(stall_marker)
    return module_process("tests.support.timer_service", f"timers-{worker_id}", prefix=prefix, port=free_port(),
                          log_dir=tmp_path, env=env)


def _stopped(process: ServiceProcess) -> bool:
    """The process is stopped by a signal (state ``T`` in /proc)."""
    stat = Path(f"/proc/{process.process.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_zombie_workers_tick_is_refused_and_the_timer_fires_exactly_once(kafka_bootstrap, topic_prefix, tmp_path):
    create_topics(topic_prefix, [TIMERS_IN, TIMERS_FIRED, timer_service.changelog_spec("timers")])
    fired_topic = f"{topic_prefix}{TIMERS_FIRED.name}"
    stall_marker = tmp_path / "stall-once"
    stall_marker.touch()
    zombie, successor = _worker(topic_prefix, tmp_path, "a", stall_marker), _worker(topic_prefix, tmp_path, "b")
    now = dt.datetime.now(dt.timezone.utc)
    started = SlaEvent(conversation_id="conv-zombie", tenant="acme-shop", locale="en",
                       producer=ProducerInfo(service="test", version="0"), kind=SlaEventKind.started,
                       due_at=now + dt.timedelta(seconds=2))
    try:
        zombie.start().wait_ready(timeout=120)
        produce_events(f"{topic_prefix}{TIMERS_IN.name}", [started])
        _wait(lambda: _stopped(zombie), 60, "worker a to stop inside its tick")
        assert stall_marker.exists() is False

        successor.start().wait_ready(timeout=120)  # ready once a's session expired and b holds the partition
        [first] = consume([fired_topic], expected=1, timeout=60)
        assert dict(first.headers())["fired-by"] == b"b", "the timer fired before worker b held the partition"

        os.kill(zombie.process.pid, signal.SIGCONT)
        # its tick ends before its next poll, which serves the lost assignment
        _wait(lambda: "partitions lost" in zombie.log_tail(50_000), 60, "worker a to learn it lost its partition")
        fired = consume_until_quiet([fired_topic], quiet=3.0)
        zombie_log = zombie.log_tail(50_000)
        assert zombie.process.poll() is None, zombie_log  # the zombie lives on and rejoins
    finally:
        if zombie.process is not None and zombie.process.poll() is None:
            os.kill(zombie.process.pid, signal.SIGCONT)
        zombie.stop()
        successor.stop()
    assert [(dict(m.headers())["fired-by"], m.key()) for m in fired] == [(b"b", b"conv-zombie")], zombie_log
    assert "timer tick refused" in zombie_log
