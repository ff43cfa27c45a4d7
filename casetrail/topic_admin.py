"""Create missing topics and report drift from ``casetrail.topics``, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from casetrail.settings import KafkaSettings, kafka_settings, settings
from casetrail.topics import ALL_TOPICS, TopicSpec


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # human-readable differences, not auto-fixed

    def lines(self) -> list[str]:
        out = [f"created   {name}" for name in self.created]
        out += [f"ok        {name}" for name in self.unchanged]
        out += [f"DRIFT     {line}" for line in self.drift]
        return out


def resolved_name(spec: TopicSpec, prefix: str | None = None) -> str:
    """The topic's name on the cluster (``CASETRAIL_TOPIC_PREFIX`` isolates tests and demos)."""
    return prefixed(spec.name, prefix)


def prefixed(name: str, prefix: str | None = None) -> str:
    """A topic's or consumer group's name on the cluster: ``CASETRAIL_TOPIC_PREFIX`` (or ``prefix``) + ``name``.

    Consumer groups take the prefix too, so that two deployments sharing a cluster under different
    prefixes never share a group, and the chart's KafkaUser ACLs (``topics.prefix`` + the group) match."""
    return f"{settings().topic_prefix if prefix is None else prefix}{name}"


def admin_client(kafka: KafkaSettings | None = None) -> AdminClient:
    return AdminClient((kafka or kafka_settings()).librdkafka_config())


def delete_run_topics(prefix: str, *, kafka: KafkaSettings | None = None, timeout: float = 30.0) -> list[str]:
    """Delete every topic whose name starts with ``prefix``: what one benchmark run created under its
    own prefix (its event topics, the services' changelog and repartition topics). Returns the names.

    Without it each run left ~40 topics and their data on the cluster (several GB on a developer's
    broker after a day of runs, which then loads, and stops, ever more slowly). A prefix must end in
    ``.`` or ``-``, as a run's does: ``bench`` would also delete ``benchmarks.…`` and ``bench-other.…``."""
    if not prefix or prefix[-1] not in ".-":
        raise ValueError(f"refusing to delete topics by the prefix {prefix!r}: a run prefix ends in '.' or '-'")
    admin = admin_client(kafka)
    names = sorted(name for name in admin.list_topics(timeout=timeout).topics if name.startswith(prefix))
    if not names:
        return []
    for name, future in admin.delete_topics(names, operation_timeout=timeout).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "UNKNOWN_TOPIC_OR_PART":  # deleted meanwhile: the outcome wanted
                raise
    return names


def apply_topics(
    specs: Iterable[TopicSpec] = ALL_TOPICS,
    *,
    prefix: str | None = None,
    kafka: KafkaSettings | None = None,
    timeout: float = 30.0,
) -> ApplyReport:
    """Create missing topics; compare existing ones (partitions, retention, cleanup) and report drift.

    Drift is reported, not fixed: shrinking partitions is impossible and
    changing retention on a live cluster is a decision for its operators.
    """
    admin = admin_client(kafka)
    specs = list(specs)
    by_name = {resolved_name(spec, prefix): spec for spec in specs}
    metadata = admin.list_topics(timeout=timeout)
    report = ApplyReport()
    missing = [name for name in by_name if name not in metadata.topics]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(name, num_partitions=by_name[name].partitions,
                         replication_factor=by_name[name].replication_factor, config=by_name[name].config())
                for name in missing
            ],
            operation_timeout=timeout,
        )
        for name, future in futures.items():
            try:
                future.result()
                report.created.append(name)
            except KafkaException as exc:
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":  # a concurrent apply won the race
                    raise
                report.unchanged.append(name)
    existing = [name for name in by_name if name in metadata.topics]
    if existing:
        configs = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name) for name in existing])
        for resource, future in configs.items():
            name = resource.name
            spec = by_name[name]
            actual = future.result()
            differences = []
            partitions = len(metadata.topics[name].partitions)
            if partitions != spec.partitions:
                differences.append(f"partitions {partitions} (spec {spec.partitions})")
            for key, wanted in spec.config().items():
                have = actual.get(key)
                if have is not None and have.value != wanted:
                    differences.append(f"{key}={have.value} (spec {wanted})")
            if differences:
                report.drift.append(f"{name}: " + ", ".join(differences))
            else:
                report.unchanged.append(name)
    return report
