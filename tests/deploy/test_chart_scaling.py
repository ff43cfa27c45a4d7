"""The chart's values schema, and replicas that follow the partition counts: KEDA per input topic,
caps refused above the partitions, spread and anti-affinity by default."""

from __future__ import annotations

import json

import pytest
import yaml

from casetrail.topics import ALL_TOPICS
from casetrail_tools.kafka_access import component_access
from tests.deploy.conftest import CHART, helm, render

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
BASE = ("kafka.bootstrapServers=k:9092", "secrets.keystoreMasterKey.name=casetrail-keystore",
        "secrets.keystoreUrl.name=casetrail-keystore-db")
PARTITIONS = {spec.name: spec.partitions for spec in ALL_TOPICS}


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def refused(tools, *sets: str) -> str:
    args = ["template", "ct", str(CHART)]
    for item in BASE + sets:
        args += ["--set", item]
    result = helm(tools, *args, check=False)
    assert result.returncode != 0, f"helm rendered {sets} without complaint"
    return result.stderr


def schema_at(schema: dict, path: tuple[str, ...]) -> dict:
    """The sub-schema for a values path (following $ref); fails when the schema does not describe it.
    An object schema without properties (a Kubernetes-shaped object) describes everything below it."""
    node = schema
    for depth, part in enumerate(path):
        while "$ref" in node:
            node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[1]]
        if part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        elif node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node:
            return node
        else:
            raise AssertionError(f"values.schema.json does not describe {'.'.join(path[:depth + 1])}")
    while "$ref" in node:
        node = SCHEMA["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def leaf_paths(values: dict, prefix: tuple[str, ...] = ()):
    for key, value in values.items():
        path = prefix + (key,)
        yield path
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, path)


# -- 1. values.schema.json ----------------------------------------------------------------------
def test_schema_describes_every_value_of_values_yaml():
    for path in leaf_paths(VALUES):
        if path[0] in ("tenantPolicies", "deliveryConfig") and "files" in path[:-1]:
            continue  # file names -> contents: free keys by design
        schema_at(SCHEMA, path)


def test_schema_closes_the_shapes_the_chart_owns():
    assert SCHEMA["additionalProperties"] is False
    for path in (("kafka",), ("strimzi",), ("components",), ("componentDefaults",), ("componentDefaults", "keda"),
                 ("componentDefaults", "topologySpread"), ("componentDefaults", "podAntiAffinity"), ("gate",)):
        assert schema_at(SCHEMA, path).get("additionalProperties") is False, path


@pytest.mark.parametrize("sets, message", [
    (("components.trige.replicas=2",), "additional properties 'trige' not allowed"),
    (("components.triage.replicas=two",), "at '/components/triage/replicas': got string, want integer"),
    (("kafka.securityProtocol=SCRAM",), "at '/kafka/securityProtocol'"),
    (("componentDefaults.keda.lagThreshold=0",), "at '/componentDefaults/keda/lagThreshold'"),
    (("componentDefaults.podAntiAffinity.type=sometimes",), "at '/componentDefaults/podAntiAffinity/type'"),
    (("kafka.bootstrap=k:9092",), "additional properties 'bootstrap' not allowed"),
    (("strimzi.partitions.deadletter\\.v1=0",), "at '/strimzi/partitions/deadletter.v1'"),
])
def test_wrong_types_and_unknown_keys_are_refused_by_the_schema(tools, sets, message):
    stderr = refused(tools, *sets)
    assert "values don't meet the specifications of the schema" in stderr
    assert message in stderr


# -- 2. replicas and KEDA follow the partition counts -------------------------------------------------
def test_keda_has_one_trigger_per_input_topic_capped_by_its_partitions(rendered):
    docs = rendered["full-values.yaml"]
    overrides = {"conversations.triaged.v1": 12}  # ci/full-values.yaml strimzi.partitions
    access = component_access()
    scaled = by_kind(docs, "ScaledObject")
    assert set(scaled) == {f"ct-casetrail-{name}" for name in ("ingest", "triage", "drafter", "verifier")}
    for name, obj in scaled.items():
        inputs = access[name.removeprefix("ct-casetrail-")].inputs
        triggers = {t["metadata"]["topic"]: t["metadata"] for t in obj["spec"]["triggers"]}
        assert list(triggers) == list(inputs), f"{name}: a trigger per input topic"
        cap = max(overrides.get(topic, PARTITIONS[topic]) for topic in inputs)
        assert obj["spec"]["maxReplicaCount"] == cap, f"{name}: maxReplicas defaults to the partition count"
        for meta in triggers.values():
            assert meta["limitToPartitionsWithLag"] == "true" and meta["allowIdleConsumers"] == "false"
    drafter = by_kind(docs, "ScaledObject")["ct-casetrail-drafter"]["spec"]
    assert drafter["maxReplicaCount"] == 12, "conversations.triaged.v1 raised to 12 partitions"
    triage = {t["metadata"]["topic"]: t["metadata"]["lagThreshold"]
              for t in by_kind(docs, "ScaledObject")["ct-casetrail-triage"]["spec"]["triggers"]}
    assert triage == {"conversations.received.v1": "200", "casetrail-triage-by_customer-repartition": "400"}


def test_more_replicas_than_partitions_are_refused(tools):
    assert "components.triage.replicas 4: its input topics have at most 3 partitions" in refused(
        tools, "components.triage.replicas=4")
    assert "components.router.keda.maxReplicas 4: its input topics have at most 3 partitions" in refused(
        tools, "components.router.keda.enabled=true", "components.router.keda.maxReplicas=4")
    assert "components.triage.keda.minReplicas 5 is above its maxReplicas 3" in refused(
        tools, "components.triage.keda.enabled=true", "components.triage.keda.minReplicas=5")
    assert "components.drafter.keda.lagThresholds.drafts.proposed.v1: not an input topic of drafter" in refused(
        tools, "components.drafter.keda.enabled=true", "components.drafter.keda.lagThresholds.drafts\\.proposed\\.v1=5")


def test_raised_partitions_raise_the_cap_of_a_stateless_consumer_only(tools):
    docs = render(tools, set_values=BASE + ("strimzi.partitions.conversations\\.triaged\\.v1=6",
                                            "components.drafter.replicas=6"))
    assert by_kind(docs, "Deployment")["ct-casetrail-drafter"]["spec"]["replicas"] == 6
    stderr = refused(tools, "strimzi.partitions.drafts\\.proposed\\.v1=12")
    assert "strimzi.partitions.drafts.proposed.v1 12: verifier keeps tables co-partitioned with this topic" in stderr
    assert "strimzi.partitions.nope: no such topic" in refused(tools, "strimzi.partitions.nope=3")


# -- 3. spread and anti-affinity by default -------------------------------------------------------------
def test_every_component_spreads_over_zones_and_nodes_with_soft_anti_affinity(rendered):
    for deployment in by_kind(rendered["minimal-values.yaml"], "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        (term,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert term["podAffinityTerm"] == {"labelSelector": {"matchLabels": selector},
                                           "topologyKey": "kubernetes.io/hostname"}
        spread = pod["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        for constraint in spread:
            assert constraint["labelSelector"] == {"matchLabels": selector}
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway" and constraint["maxSkew"] == 1
            assert constraint["matchLabelKeys"] == ["pod-template-hash"]


def test_spread_and_anti_affinity_follow_values(tools):
    docs = by_kind(render(tools, set_values=BASE + (
        "components.router.podAntiAffinity.type=hard", "components.triage.podAntiAffinity.type=none",
        "components.triage.topologySpread.enabled=false",
        "components.drafter.topologySpreadConstraints[0].maxSkew=2",
        "components.drafter.topologySpreadConstraints[0].topologyKey=zone",
        "components.drafter.topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule",
        "components.verifier.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].key=pool",
        "components.verifier.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
    )), "Deployment")
    pod = lambda name: docs[f"ct-casetrail-{name}"]["spec"]["template"]["spec"]  # noqa: E731
    (term,) = pod("router")["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert "affinity" not in pod("triage") and "topologySpreadConstraints" not in pod("triage")
    assert pod("drafter")["topologySpreadConstraints"] == [
        {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]
    verifier = pod("verifier")["affinity"]
    assert set(verifier) == {"nodeAffinity", "podAntiAffinity"}, "own affinity merged with the default"
