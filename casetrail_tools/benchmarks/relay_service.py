"""A passthrough service on the casetrail runtime: re-emits every ConversationReceived
from ``bench.in`` to ``bench.out`` with ``causation_id`` set to the input's event id.

Used by ``casetrail bench hop`` and by the foundation's integration tests (kill
-9 and restart: every input must have its output). Run it with
``python -m casetrail_tools.benchmarks.relay_service``.
"""

from __future__ import annotations

from casetrail.events import ConversationReceived
from casetrail.runtime import Output, RecordContext, Service
from casetrail.topics import TopicSpec

RELAY_IN = TopicSpec("bench.in", "conversation_id", "ConversationReceived", "hop benchmark / runtime test input")
RELAY_OUT = TopicSpec("bench.out", "conversation_id", "ConversationReceived", "hop benchmark / runtime test output")

svc = Service("relay")


@svc.processor(source=RELAY_IN, input_type=ConversationReceived)
def relay(event: ConversationReceived, ctx: RecordContext) -> list[Output]:
    if event.conversation.subject == "poison":  # lets tests exercise the unprocessable path
        raise ValueError("poison record")
    copy = event.model_copy(update={"event_id": f"relay-{event.event_id}", "causation_id": event.event_id})
    return [Output(RELAY_OUT, copy)]


if __name__ == "__main__":
    svc.run()
