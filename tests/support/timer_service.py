"""The router's SLA tick in miniature, on the casetrail runtime, for the zombie-tick test
(tests/integration/foundation/test_timer_fencing.py). Run it with ``python -m tests.support.timer_service``.

An ``SlaEvent`` of kind ``started`` on ``timers.in`` starts a timer (a table entry, owned by the
record's partition); a tick every 0.2 s fires the due timers of the partitions this worker owns:
one ``breached`` event on ``timers.fired`` (header ``fired-by``: the worker id) and the timer
marked fired, in the tick's transaction.

A zombie at the worst moment: when the file ``CASETRAIL_TEST_TIMER_STALL_MARKER`` names exists,
the tick that decided to fire a timer removes the file and stops its own process (SIGSTOP)
before it produces: its group session expires meanwhile, another worker takes the partition and
fires the timer, and the test resumes it (SIGCONT) to see whether the broker lets it fire too.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

from casetrail.events import SlaEvent, SlaEventKind
from casetrail.runtime import Output, RecordContext, Service
from casetrail.topics import TopicSpec

TIMERS_IN = TopicSpec("timers.in", "conversation_id", "SlaEvent", "zombie-tick test: timers started", partitions=1)
TIMERS_FIRED = TopicSpec("timers.fired", "conversation_id", "SlaEvent", "zombie-tick test: timers fired", partitions=1)

svc = Service("timers")
timers = svc.table("timers", partitions=TIMERS_IN.partitions)


@svc.processor(source=TIMERS_IN, input_type=SlaEvent)
def start_timer(event: SlaEvent, ctx: RecordContext) -> list[Output]:
    if event.kind == SlaEventKind.started and event.conversation_id not in timers:
        timers[event.conversation_id] = {"started": event.model_dump(mode="json"), "partition": ctx.partition,
                                         "fired": False}
    return []


def _stall_once() -> None:
    marker = os.environ.get("CASETRAIL_TEST_TIMER_STALL_MARKER")
    if marker and Path(marker).exists():
        Path(marker).unlink()
        os.kill(os.getpid(), signal.SIGSTOP)


@svc.timer(0.2)
async def fire_due_timers() -> None:
    owned = svc.owned_partitions(TIMERS_IN)
    now = dt.datetime.now(dt.timezone.utc)
    due = []
    for key, timer in list(timers.items()):
        started = SlaEvent.model_validate(timer["started"])
        if timer["partition"] in owned and not timer["fired"] and started.due_at <= now:
            timers[key] = {**timer, "fired": True}
            due.append(SlaEvent(**started.derive("breached", svc.producer_info), kind=SlaEventKind.breached,
                                due_at=started.due_at))
    if not due:
        return
    _stall_once()
    fired_by = svc.config.worker_id.encode()
    await svc.produce(*(Output(TIMERS_FIRED, event, headers={"fired-by": fired_by}) for event in due))


if __name__ == "__main__":
    svc.run()
