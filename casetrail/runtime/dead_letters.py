"""The dead-letter record of an input the worker could not handle (the dead-letter contract).

Its id is a function of the input's position and the reason, so handling the same input again
(after an aborted transaction, a restart, a replay) writes the same dead letter, not a second one.
"""

from __future__ import annotations

from typing import Optional

from casetrail.events import DeadLetter, ProducerInfo
from casetrail.events.identity import dead_letter_id
from casetrail.runtime.contract import Output, RecordContext
from casetrail.topics import DEADLETTER


def dead_letter_output(ctx: RecordContext, producer: ProducerInfo, reason_code: str, reason: str,
                       exception_type: Optional[str]) -> Output:
    record = DeadLetter(
        event_id=dead_letter_id(ctx.topic, ctx.partition, ctx.offset, reason_code),
        producer=producer, reason_code=reason_code, reason=reason[:1000],
        exception_type=exception_type, source_topic=ctx.topic, source_partition=ctx.partition,
        source_offset=ctx.offset, original_key=ctx.key, original_value=ctx.value,
        original_headers={k: v for k, v in ctx.headers.items() if v is not None},
    )
    # the input's own key keeps a source's dead letters together; a keyless input is named by position
    key = ctx.key.decode("utf-8", "replace") if ctx.key else f"{ctx.topic}:{ctx.partition}:{ctx.offset}"
    return Output(DEADLETTER, record, key=key)
