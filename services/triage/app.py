"""Triage's Kafka wiring: ConversationReceived in, ConversationTriaged out.

Pure logic is in ``triager`` (and the signal modules it calls); this module
connects it to the runtime:

* ``conversations.received.v1`` -> (re-keyed by customer) -> ``conversations.triaged.v1``;
* per-customer history (contact counts, sentiment trend, recent embeddings for
  near-duplicates) in the table ``customer_history`` (compacted
  changelog ``casetrail-triage-customer_history-changelog``), keyed
  ``<tenant>:<customer_id>``;
* each tenant's intent model is the one the gate promoted for it (the
  promotions file, read at start-up; ``services.triage.promoted_models``),
  else the default; a promoted model that cannot be loaded stops start-up;
* a conversation for a tenant without a policy is dead-lettered
  (``unknown_tenant``): without its SLA table and VIP rules triage cannot
  decide, and guessing would be worse than a visible dead letter.

Scaling: the table is keyed by customer while the input is keyed by
conversation, so triage first re-keys each conversation by customer through
its internal topic ``casetrail-triage-by_customer-repartition`` and triages
from there: a customer's conversations all reach the worker that holds the
partition of their history, however many workers run.
"""

from __future__ import annotations

import functools
import logging
import time

from casetrail import topics
from casetrail.events import ConversationReceived
from casetrail.policy.tenant import TenantPolicy, load_policies
from casetrail.runtime import Output, RecordContext, RetryableError, Service
from services.triage import metrics
from services.triage.settings import TriageSettings
from services.triage.triager import Triager, customer_history_key, history_customer, triaged_event

log = logging.getLogger("casetrail.triage")

svc = Service("triage", config=TriageSettings())


customer_history = svc.table("customer_history", erasable_by=history_customer)

_triager: Triager | None = None
_policies: dict[str, TenantPolicy] | None = None


def triager() -> Triager:
    global _triager
    if _triager is None:
        from casetrail.promotions import PromotedVersions

        # Read once: the gate's Helm hook writes the file before the pods roll (README, "The gate").
        _triager = Triager.with_promotions(PromotedVersions(svc.config.promotions_path).read(), policies(),
                                           settings=svc.config)
        log.info("triage models loaded", extra={"model": _triager.model_version})
        for tenant in sorted(_triager.promoted_intent_models):
            log.info("promoted intent model", extra={"tenant": tenant, "model": _triager.model_version_for(tenant)})
    return _triager


def policies() -> dict[str, TenantPolicy]:
    global _policies
    if _policies is None:
        _policies = load_policies(svc.config.tenants_dir)
    return _policies


@svc.warm_up
def load_models() -> None:
    # Fail fast (and before /readyz answers) on a missing model or an invalid tenant policy,
    # and pay the embedder's first-call cost before the first ticket does.
    triager()
    from casetrail.policy.calendar import preload_holidays

    for policy in policies().values():  # the SLA's holiday calendars cost ~1 s each on first use
        preload_holidays(policy)
    from casetrail.embeddings import default_embedder

    default_embedder().embed(["warm-up"], kind="query")


@svc.processor(source=topics.CONVERSATIONS_RECEIVED, input_type=ConversationReceived)
async def rekey_by_customer(event: ConversationReceived, ctx: RecordContext) -> list[Output]:
    # The same event, keyed like the table it updates (the transaction commits the copy with the offset).
    return [Output(topics.TRIAGE_BY_CUSTOMER, event, key=customer_history_key(event))]


@svc.processor(source=topics.TRIAGE_BY_CUSTOMER, input_type=ConversationReceived)
async def triage_conversation(event: ConversationReceived, ctx: RecordContext) -> list[Output]:
    policy = policies().get(event.tenant)
    if policy is None:
        ctx.after_commit(metrics.REJECTED.labels("unknown_tenant").inc)
        ctx.dead_letter("unknown_tenant", f"no tenant policy for tenant {event.tenant!r}")
        return []
    started = time.perf_counter()
    key = customer_history_key(event)
    try:
        outcome = triager().triage(event, customer_history.get(key), policy)
    except Exception as exc:
        from casetrail.embeddings.http import EmbeddingServerUnavailable  # loaded whenever it can be raised

        if isinstance(exc, EmbeddingServerUnavailable):  # transient: retried, then parked for replay
            raise RetryableError(str(exc)) from exc
        raise
    customer_history[key] = outcome.history
    triaged = triaged_event(event, outcome, policy, svc.producer_info)
    metrics.TRIAGE_SECONDS.observe(time.perf_counter() - started)
    ctx.after_commit(functools.partial(metrics.observe_triaged, True, event.tenant, outcome.result))
    return [Output(topics.CONVERSATIONS_TRIAGED, triaged)]


if __name__ == "__main__":
    svc.run()
