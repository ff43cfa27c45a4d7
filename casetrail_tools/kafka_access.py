"""What each chart component reads and writes on Kafka, derived from ``casetrail/topics.py``.

The chart uses it twice: the KEDA triggers and replica caps follow a component's *inputs*
(the topics it consumes in its group), and the Strimzi ``KafkaUser`` of each component gets
least-privilege ACLs from all of it. ``deploy_resources`` writes it to the chart's
``files/kafka-access.yaml``; nothing in that file is written by hand.

Where ``topics.py`` names a producer in prose (a component that is not a ``Service``: the
webhook bridge, the review console, audit's erasures) or a tool that is no chart component
(``casetrail kb publish``, ``casetrail gate``), ``NON_SERVICE_WRITERS`` says which component
that is; ``accounted_for`` fails on a producer nobody has mapped, so a new topic cannot slip
past the ACLs unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from casetrail.topics import (
    ALL_TOPICS, DEADLETTER, DELIVERY_ATTEMPTS, ERASURES, FEEDBACK_AGENT, GATE_DECISIONS, INTAKE, KB_PUBLISHED,
    REPARTITIONS, STATE_CHANGELOGS, TopicSpec,
)

# Chart component key -> the casetrail ``Service`` it runs (``casetrail run <service>``):
# transactional producer ``casetrail-<service>-<pod>``, group ``casetrail-<service>``.
SERVICES = {"ingest": "ingest", "triage": "triage", "drafter": "drafter", "verifier": "verifier",
            "router": "router", "delivery": "delivery"}
# Components with their own confluent-kafka clients (no transactions); their groups are the services' own
# (``services.audit.consumer.GROUP``, ``services.review.app.GROUP``), read in ``_own_client_access``.
OWN_CLIENTS = ("audit", "review", "webhookBridge")

# Topics whose producer in topics.py is not a Service: the component that writes them, or None
# when a command outside the chart does (it runs with the operator's own credentials).
NON_SERVICE_WRITERS: dict[str, str | None] = {
    INTAKE.name: "webhookBridge",        # also `casetrail send`, a client tool
    FEEDBACK_AGENT.name: "review",       # agents' verdicts from the console
    ERASURES.name: "audit",              # crypto-shredding through audit's API
    KB_PUBLISHED.name: None,             # casetrail kb publish
    GATE_DECISIONS.name: "gate",         # casetrail gate, the chart's pre-upgrade hook job
}
# The chart's hook jobs that use Kafka (not components: no Deployment, no group): each gets a KafkaUser
# with exactly what it writes, and its pod those credentials.
HOOK_JOBS = ("gate",)
# Read outside any consumer group (assign), so topics.py lists no consumer; the topics a service reads
# as broadcasts (``broadcast_to`` in topics.py, every worker reads them whole) are added from topics.py.
UNGROUPED_READERS = {DELIVERY_ATTEMPTS.name: ("delivery",)}


@dataclass(frozen=True)
class ComponentAccess:
    component: str
    group: str                      # consumer group without the topic prefix; "" when it consumes nothing
    transactional_id_prefix: str    # "" when the component does not use transactions
    inputs: tuple[str, ...]         # consumed in the group: KEDA triggers, the replica cap
    reads: tuple[str, ...]          # every topic read (inputs, changelogs on restore, ungrouped reads)
    writes: tuple[str, ...]
    groups: tuple[str, ...]         # every consumer group id it joins
    # Its tables' changelogs and repartition topics: co-partitioned with its inputs, with the
    # partition counts of topics.py (the runtime places keys by them), so never overridden.
    internal: tuple[str, ...] = ()

    def entry(self) -> dict:
        return {"group": self.group, "transactionalIdPrefix": self.transactional_id_prefix,
                "inputs": list(self.inputs), "reads": list(self.reads), "writes": list(self.writes),
                "groups": list(self.groups), "internal": list(self.internal)}


def _names(specs: Iterable[TopicSpec]) -> tuple[str, ...]:
    return tuple(spec.name for spec in specs)


def _service_access(component: str, service: str) -> ComponentAccess:
    app_id = f"casetrail-{service}"
    inputs = _names(spec for spec in ALL_TOPICS if service in spec.consumers and spec not in STATE_CHANGELOGS)
    internal = _names(spec for spec in STATE_CHANGELOGS + REPARTITIONS if spec.producer == service)
    ungrouped = tuple(name for name, readers in UNGROUPED_READERS.items() if service in readers)
    broadcasts = _names(spec for spec in ALL_TOPICS if service in spec.broadcast_to)
    writes = _names(spec for spec in ALL_TOPICS if spec.producer == service) + (DEADLETTER.name,)
    return ComponentAccess(
        component, app_id, f"{app_id}-", inputs,
        reads=tuple(dict.fromkeys(inputs + internal + ungrouped + broadcasts)),
        writes=tuple(dict.fromkeys(writes)),
        # the restore consumer reads the changelogs under its own group (casetrail/runtime/restore.py),
        # the broadcast reader the broadcast topics under its own (casetrail/runtime/broadcast.py)
        groups=(app_id,) + ((f"{app_id}-restore",) if internal else ()) + ((f"{app_id}-broadcast",) if broadcasts else ()),
        internal=internal,
    )


def _own_client_access(component: str) -> ComponentAccess:
    from services.audit.consumer import GROUP as AUDIT_GROUP, topic_names as audit_topics
    from services.review.app import GROUP as REVIEW_GROUP, topic_names as review_topics

    inputs = {"audit": tuple(audit_topics("")), "review": tuple(review_topics("")), "webhookBridge": ()}[component]
    writes = tuple(name for name, writer in NON_SERVICE_WRITERS.items() if writer == component)
    group = {"audit": AUDIT_GROUP, "review": REVIEW_GROUP, "webhookBridge": ""}[component]
    return ComponentAccess(component, group, "", inputs, inputs, writes, (group,) if group else ())


def component_access() -> dict[str, ComponentAccess]:
    """Chart component key -> its Kafka access (the order of values.yaml's components)."""
    access = {component: _service_access(component, service) for component, service in SERVICES.items()}
    access.update({component: _own_client_access(component) for component in OWN_CLIENTS})
    return access


def hook_job_access() -> dict[str, ComponentAccess]:
    """Hook job key -> its Kafka access: writes only (an idempotent producer, no group, no transactions)."""
    return {job: ComponentAccess(job, "", "", (), (), tuple(n for n, w in NON_SERVICE_WRITERS.items() if w == job), ())
            for job in HOOK_JOBS}


def unaccounted_producers() -> list[str]:
    """Topics whose producer no component or mapped tool accounts for (should be empty)."""
    services = set(SERVICES.values())
    return [spec.name for spec in ALL_TOPICS
            if spec.producer not in services and spec is not DEADLETTER and spec.name not in NON_SERVICE_WRITERS]
