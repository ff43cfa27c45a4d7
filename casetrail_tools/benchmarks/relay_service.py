"""A passthrough service on the casetrail runtime: re-emits every ConversationReceived
from ``bench.in`` to ``bench.out`` with ``causation_id`` set to the input's event id.

Used by ``casetrail bench hop`` and by the runtime's fault tests: subject
``poison`` raises (dead letter), ``needs-dependency`` raises ``RetryableError`` while
the file ``CASETRAIL_RELAY_DEPENDENCY_DOWN`` names exists, subject ``crash`` SIGKILLs the worker once when
``CASETRAIL_RELAY_CRASH_MARKER`` names a file that does not exist yet — after the
outputs of the batch's earlier records were produced, before their commit; subject ``slow``
takes a second (so an earlier output's delivery report arrives before the next produce). Run it with
``python -m casetrail_tools.benchmarks.relay_service``.
"""

from __future__ import annotations

import os
import signal
import time

from casetrail.events import ConversationReceived
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from casetrail.topics import TopicSpec
from casetrail_tools.settings import ToolingSettings

RELAY_IN = TopicSpec("bench.in", "conversation_id", "ConversationReceived", "hop benchmark / runtime test input")
RELAY_OUT = TopicSpec("bench.out", "conversation_id", "ConversationReceived", "hop benchmark / runtime test output")

svc = Service("relay", config=ToolingSettings())


@svc.processor(source=RELAY_IN, input_type=ConversationReceived)
def relay(event: ConversationReceived, ctx: RecordContext) -> list[Output]:
    if event.conversation.subject == "poison":  # lets tests exercise the unprocessable path
        raise ValueError("poison record")
    if event.conversation.subject == "needs-dependency":  # a dependency is down while the named file exists
        down = svc.config.relay_dependency_down
        if down and down.exists():
            raise RetryableError("dependency unavailable")
    if event.conversation.subject == "crash":  # lets tests crash the worker between produce and commit
        marker = svc.config.relay_crash_marker
        if marker and not marker.exists():
            marker.touch()  # once: the restarted worker handles the record
            os.kill(os.getpid(), signal.SIGKILL)
    if event.conversation.subject == "slow":
        time.sleep(1.0)
    copy = event.model_copy(update={"event_id": f"relay-{event.event_id}", "causation_id": event.event_id})
    return [Output(RELAY_OUT, copy)]


if __name__ == "__main__":
    svc.run()
