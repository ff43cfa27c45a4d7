"""The dead-letter record of an input the worker could not handle (the dead-letter contract).

Its id is a function of the input's position and the reason, so handling the same input again
(after an aborted transaction, a restart, a replay) writes the same dead letter, not a second one.

The original bytes are sealed before they are written (a dead letter is kept a year and holds
whatever the input held, personal data included): with the customer's key when the record's
tenant and customer are known (``RecordContext.owned_by``, or read from the decoded event), so
erasing the customer erases its dead letters too; otherwise with a key of the dead letter's own,
registered under the tenant, which ``casetrail deadletter expire-keys`` destroys after the retention.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional

from casetrail.events import DeadLetter, ProducerInfo
from casetrail.events.identity import dead_letter_id
from casetrail.runtime import metrics
from casetrail.runtime.contract import Output, RecordContext
from casetrail.topics import DEADLETTER

if TYPE_CHECKING:
    from casetrail.privacy.keystore import KeyStore
    from casetrail.runtime.service import Service

TENANT_HEADER = "casetrail-tenant"  # what a raw intake record may name its tenant with


def record_owner(event: Any) -> tuple[Optional[str], Optional[str]]:
    """The (tenant, customer id) a decoded event is about, as far as it says."""
    tenant = getattr(event, "tenant", None)
    customer = getattr(event, "customer_id", None)
    if customer is None:
        conversation = getattr(event, "conversation", None)
        holder = conversation if conversation is not None else event
        customer = getattr(getattr(holder, "customer", None), "customer_id", None)
    return (tenant if isinstance(tenant, str) else None), (customer if isinstance(customer, str) else None)


def header_tenant(headers: Mapping[str, Optional[bytes]]) -> Optional[str]:
    for name, value in headers.items():
        if name.lower() == TENANT_HEADER and value:
            return value.decode("utf-8", "replace").strip() or None
    return None


def dead_letter_output(ctx: RecordContext, producer: ProducerInfo, reason_code: str, reason: str,
                       exception_type: Optional[str], keystore: Optional["KeyStore"] = None,
                       default_tenant: str = "default") -> Output:
    """The dead letter of ``ctx``'s record; its original bytes sealed with ``keystore`` (None: kept raw,
    for tests of the contract only: every service passes its key store)."""
    event_id = dead_letter_id(ctx.topic, ctx.partition, ctx.offset, reason_code)
    tenant = ctx.tenant or header_tenant(ctx.headers) or default_tenant
    original, sealed = ctx.value, None
    if keystore is not None and ctx.value is not None:
        if ctx.customer_id:
            sealed = keystore.seal_bytes(tenant, ctx.customer_id, ctx.value)
        else:
            sealed = keystore.seal_record(tenant, event_id, ctx.value)
        original = None
    record = DeadLetter(
        event_id=event_id,
        producer=producer, reason_code=reason_code, reason=reason[:1000],
        exception_type=exception_type, source_topic=ctx.topic, source_partition=ctx.partition,
        source_offset=ctx.offset, original_key=ctx.key, original_value=original,
        original_headers={k: v for k, v in ctx.headers.items() if v is not None},
        tenant=tenant, sealed_original_value=sealed,
    )
    # the input's own key keeps a source's dead letters together; a keyless input is named by position
    key = ctx.key.decode("utf-8", "replace") if ctx.key else f"{ctx.topic}:{ctx.partition}:{ctx.offset}"
    return Output(DEADLETTER, record, key=key)


def send_dead_letters(ctx: RecordContext, service: "Service") -> None:
    """Seal ``ctx``'s dead letters with the service's key store and send them into its open transaction;
    ``KeyStoreBusy`` propagates (the worker aborts: nothing raw is written)."""
    for reason_code, reason, exception_type in ctx._dead_letters:
        service.send(dead_letter_output(ctx, service.producer_info, reason_code, reason, exception_type,
                                        service.keystore, service.default_tenant))
        ctx.after_commit(_counter(service.name, ctx.topic, reason_code))  # counted once the dead letter is visible
    ctx._dead_letters.clear()


def _counter(service: str, topic: str, reason_code: str):
    def count_dead_letter() -> None:
        metrics.DEAD_LETTERED.labels(service, topic, reason_code).inc()
        metrics.EVENTS_FAILED.labels(service, topic, reason_code).inc()

    return count_dead_letter
