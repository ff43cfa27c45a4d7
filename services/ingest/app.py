"""Ingest's Kafka wiring: intake records in, redacted conversations (and re-contacts) out.

Pure logic lives in ``processing`` / ``normalise`` / ``stages`` / ``idempotency`` /
``recontact``; this module only connects it to the runtime:

* ``support.intake.v1`` (raw bytes: Avro IntakeTicket, or source bytes with a
  ``casetrail-source`` header) -> normalised, re-keyed by conversation
  (``casetrail-ingest-by_conversation-repartition``); bad input -> dead-letter record
  with a reason code;
* that topic and ``replies.outbound.v1`` (both keyed by conversation) -> redeliveries
  dropped, answers learnt, reopens detected (tables ``conversation_deliveries``,
  ``conversation_answers``) -> ``conversations.received.v1`` and, for a reopen,
  ``conversations.recontacts.v1``; what a customer's state must learn is re-keyed by
  customer (``casetrail-ingest-by_customer-repartition``);
* that topic -> answered conversations per customer (table ``customer_answers``) and
  returns to an answered topic -> ``conversations.recontacts.v1``.

Scaling: every table key is written only from records keyed like it, on the partition
of the worker that owns it, so ingest runs as many workers as its topics have partitions
and decides as one worker would (``stages``).
"""

from __future__ import annotations

import functools
import logging
import time

from casetrail import topics
from casetrail.events import ConversationObserved, CustomerActivity, ReplyOutbound
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from services.ingest import metrics
from services.ingest.intake_decoding import intake_record
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import Normaliser
from services.ingest.processing import IngestProcessor
from services.ingest.rejections import Rejected
from services.ingest.settings import IngestSettings
from services.ingest.stages import answers_customer, customer_answers_customer, observed

log = logging.getLogger("casetrail.ingest")

svc = Service("ingest", config=IngestSettings())
config: IngestSettings = svc.config
svc.default_tenant = config.default_tenant  # the tenant a dead letter of a record naming none is sealed under


# Erasure deletes the customer's entries of the two answer tables; a delivery key's state holds only
# the source's update stamps and intake positions of a ticket (nothing of the customer's).
conversation_deliveries = svc.table("conversation_deliveries")
conversation_answers = svc.table("conversation_answers", erasable_by=answers_customer)
customer_answers = svc.table("customer_answers", erasable_by=customer_answers_customer)

_processor: IngestProcessor | None = None


def build_processor(settings: IngestSettings) -> IngestProcessor:
    """Everything ingest needs, from its settings (lingua models, the key store)."""
    sealer = None
    if settings.ingest_seal_originals:
        from casetrail.privacy.keystore import default_keystore

        sealer = default_keystore(settings)
    detector = LocaleDetector()
    detector.warm_up()
    normaliser = Normaliser(locale_detector=detector, sealer=sealer,
                            max_payload_bytes=settings.max_payload_bytes, version=svc.version,
                            default_locales=tenant_default_locales(), budget_seconds=settings.ingest_budget_seconds)
    return IngestProcessor(normaliser, conversation_deliveries, conversation_answers, customer_answers)


def tenant_default_locales() -> dict[str, str]:
    """Each tenant's default locale, the last fallback of locale detection. Without readable tenant
    policies ingest runs on without it (triage dead-letters conversations of unknown tenants anyway)."""
    from casetrail.policy.tenant import PolicyError, load_policies

    try:
        return {name: policy.default_locale for name, policy in load_policies(svc.config.tenants_dir).items()}
    except (PolicyError, OSError) as exc:
        log.warning("tenant policies not loaded: no default-locale fallback", extra={"error": str(exc)[:200]})
        return {}


def processor() -> IngestProcessor:
    global _processor
    if _processor is None:
        _processor = build_processor(config)
    return _processor


@svc.warm_up
def load_models() -> None:
    # Built before the worker starts (and before /readyz): loading inside the first handler
    # call would block the loop for seconds while records queue.
    processor()
    from services.ingest.connectors import registry

    registry()  # every connector imported now, not by the first ticket (~170 ms)


@svc.processor(source=topics.INTAKE, input_type=None)
async def ingest_intake(value: bytes, ctx: RecordContext) -> list[Output]:
    source = "unknown"
    try:
        record = intake_record(value, ctx.headers, svc.codec, config.default_tenant, ctx.timestamp, svc.keystore)
        ctx.owned_by(record.tenant)  # a dead letter of it is sealed under this tenant
        source = record.source
        result = processor().normalise(record)
    except Rejected as rejected:
        ctx.after_commit(metrics.REJECTED.labels(metrics.source_label(source), rejected.reason_code).inc)
        log.info("intake record dead-lettered",
                 extra={"reason_code": rejected.reason_code, "partition": ctx.partition, "offset": ctx.offset})
        ctx.dead_letter(rejected.reason_code, rejected.reason)
        return []
    except Exception as exc:
        from casetrail.privacy.keystore import KeyStoreBusy  # loaded already whenever it can be raised

        if isinstance(exc, KeyStoreBusy):  # transient: retried with back-off, then parked for replay
            raise RetryableError(str(exc)) from exc
        raise
    seen = observed(result, f"{ctx.topic}:{ctx.partition}:{ctx.offset}", time.time())
    return [Output(topics.INGEST_BY_CONVERSATION, seen, key=seen.received.conversation_id)]


@svc.processor(source=topics.INGEST_BY_CONVERSATION, input_type=ConversationObserved)
async def decide_conversation(seen: ConversationObserved, ctx: RecordContext) -> list[Output]:
    decided = processor().conversations.observe(seen)
    ctx.after_commit(functools.partial(metrics.count_observed, seen, decided))
    outputs: list[Output] = []
    if decided.conversation is not None:
        outputs.append(Output(topics.CONVERSATIONS_RECEIVED, decided.conversation))
    if decided.recontact is not None:
        outputs.append(Output(topics.RECONTACTS, decided.recontact))
    return outputs + _to_customer(decided.customer_activity)


@svc.processor(source=topics.REPLIES_OUTBOUND, input_type=ReplyOutbound)
async def learn_answers(reply: ReplyOutbound, ctx: RecordContext) -> list[Output]:
    who, activity = processor().conversations.reply(reply)
    if who is not None:
        ctx.after_commit(functools.partial(metrics.count_reply_answer, who))
    return _to_customer(activity)


@svc.processor(source=topics.INGEST_BY_CUSTOMER, input_type=CustomerActivity)
async def decide_customer(activity: CustomerActivity, ctx: RecordContext) -> list[Output]:
    returned = processor().customers.apply(activity)
    if returned is None:
        return []
    ctx.after_commit(functools.partial(metrics.count_recontact, "same_topic", returned))  # the customer's partition finds returns on a topic
    return [Output(topics.RECONTACTS, returned)]


def _to_customer(activity: CustomerActivity | None) -> list[Output]:
    return [] if activity is None else [Output(topics.INGEST_BY_CUSTOMER, activity, key=activity.customer_key)]
