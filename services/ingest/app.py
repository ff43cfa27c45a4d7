"""Ingest's Kafka wiring: intake records in, redacted conversations (and re-contacts) out.

Pure logic lives in ``processing`` / ``normalise`` / ``idempotency`` /
``recontact``; this module only connects it to the runtime:

* ``support.intake.v1`` (raw bytes: Avro IntakeTicket, or source bytes with a
  ``casetrail-source`` header) -> ``conversations.received.v1`` and, when a
  customer came back within 7 days of an answer, ``conversations.recontacts.v1``;
  bad input -> dead-letter record with a reason code.
* ``replies.outbound.v1`` -> who answered which conversation (for attribution).

State: the tables ``seen_deliveries`` and ``answered_conversations``
(compacted changelogs, see casetrail/topics.py). Both processors share the
tables, which are only complete on a worker that holds every partition: run
ingest as a single replica (see README, "Scaling").
"""

from __future__ import annotations

import logging

from casetrail import topics
from casetrail.events import ReplyOutbound
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from services.ingest import metrics
from services.ingest.intake_decoding import intake_record
from services.ingest.locale_detection import LocaleDetector
from services.ingest.normalise import Normaliser
from services.ingest.processing import IngestProcessor
from services.ingest.rejections import Rejected
from services.ingest.settings import IngestSettings

log = logging.getLogger("casetrail.ingest")

svc = Service("ingest", config=IngestSettings())
config: IngestSettings = svc.config
svc.default_tenant = config.default_tenant  # the tenant a dead letter of a record naming none is sealed under


seen_deliveries = svc.table("seen_deliveries")
answered_conversations = svc.table("answered_conversations")

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
    return IngestProcessor(normaliser, seen_deliveries, answered_conversations)


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


@svc.processor(source=topics.INTAKE, input_type=None)
async def ingest_intake(value: bytes, ctx: RecordContext) -> list[Output]:
    source = "unknown"
    try:
        record = intake_record(value, ctx.headers, svc.codec, config.default_tenant, ctx.timestamp, svc.keystore)
        ctx.owned_by(record.tenant)  # a dead letter of it is sealed under this tenant
        source = record.source
        outcome = processor().process(record, position=f"{ctx.topic}:{ctx.partition}:{ctx.offset}")
    except Rejected as rejected:
        metrics.REJECTED.labels(metrics.source_label(source), rejected.reason_code).inc()
        log.info("intake record dead-lettered",
                 extra={"reason_code": rejected.reason_code, "partition": ctx.partition, "offset": ctx.offset})
        ctx.dead_letter(rejected.reason_code, rejected.reason)
        return []
    except Exception as exc:
        from casetrail.privacy.keystore import KeyStoreBusy  # loaded already whenever it can be raised

        if isinstance(exc, KeyStoreBusy):  # transient: retried with back-off, then parked for replay
            raise RetryableError(str(exc)) from exc
        raise
    outputs: list[Output] = []
    if outcome.conversation is not None:
        outputs.append(Output(topics.CONVERSATIONS_RECEIVED, outcome.conversation))
    if outcome.recontact is not None:
        outputs.append(Output(topics.RECONTACTS, outcome.recontact))
    return outputs


@svc.processor(source=topics.REPLIES_OUTBOUND, input_type=ReplyOutbound)
async def learn_answers(reply: ReplyOutbound, ctx: RecordContext) -> list[Output]:
    processor().record_reply(reply)
    return []
