"""What a consumer's error means for the runtime's readers (the group worker, ``worker.py``, and the
whole-topic reader, ``topic_reader.py``): one rule for both.

* an end-of-partition event is not a record (the whole-topic reader looks at it before asking here);
* a fatal error leaves the consumer unusable: the reader stops, naming its source, and the process
  exits so that the platform restarts it;
* any other error is librdkafka telling us something it retries by itself (a broker away, a
  coordinator moving): logged, and there is no record to handle.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, Message

log = logging.getLogger("casetrail.runtime")


def usable(message: Message, source: str) -> bool:
    """Whether ``message`` is a record to handle. ``source`` names the reader (``"consumer"``,
    ``"reader of erasures"``) in the error a fatal consumer error raises and in the warning logged
    for any other error."""
    error = message.error()
    if error is None:
        return True
    if error.code() != KafkaError._PARTITION_EOF:
        if error.fatal():
            raise RuntimeError(f"{source} failed: {error.str()}")
        log.warning("consumer error", extra={"source": source, "error": error.name()})
    return False
