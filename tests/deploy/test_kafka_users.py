"""Strimzi KafkaUsers: one per component, least-privilege ACLs generated from casetrail/topics.py,
and each component's pods authenticate as their own user."""

from __future__ import annotations

import importlib

import pytest

from casetrail.topics import ALL_TOPICS
from casetrail_tools.kafka_access import SERVICES, component_access
from tests.deploy.conftest import CHART, helm, render

USERS_ON = ("kafka.bootstrapServers=k:9093", "secrets.keystoreMasterKey.name=casetrail-keystore",
            "secrets.keystoreUrl.name=casetrail-keystore-db",
            "strimzi.enabled=true", "topics.createOnStart=false", "strimzi.users.enabled=true")
SCRAM = ("kafka.securityProtocol=SASL_SSL", "kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.tls.caSecret.name=ca")


def users_of(docs: list[dict]) -> dict[str, dict]:
    """component label -> its KafkaUser."""
    return {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in docs if d["kind"] == "KafkaUser"}


def allowed(user: dict, resource_type: str, name: str, operation: str) -> bool:
    """Whether the user's simple-authorization ACLs allow the operation (literal and prefix patterns;
    Read, Write imply Describe as in Kafka's authorizer)."""
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        if resource["type"] != resource_type:
            continue
        if resource_type != "cluster":
            pattern = resource.get("patternType", "literal")
            matches = name == resource["name"] if pattern == "literal" else name.startswith(resource["name"])
            if not matches:
                continue
        operations = set(acl["operations"])
        if operation in operations or (operation == "Describe" and operations & {"Read", "Write"}):
            return True
    return False


@pytest.fixture(scope="module")
def users(rendered) -> dict[str, dict]:
    return users_of(rendered["full-values.yaml"])


def test_one_user_per_component_with_kafka_access(users):
    # every component of files/kafka-access.yaml; the API-only pod (no Kafka egress) has none
    assert set(users) == {"ingest", "triage", "drafter", "verifier", "router", "audit", "delivery",
                          "webhook-bridge", "review", "gate"}  # gate: the pre-upgrade hook job (gate.enabled)
    for component, user in users.items():
        assert user["metadata"]["name"] == f"ct-casetrail-{component}"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "my-cluster"
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"


def test_acls_name_only_casetrail_topics_and_never_broad_rights(users):
    topics = {spec.name for spec in ALL_TOPICS}
    for component, user in users.items():
        for acl in user["spec"]["authorization"]["acls"]:
            assert not set(acl["operations"]) & {"All", "Create", "Delete", "Alter", "AlterConfigs"}, component
            resource = acl["resource"]
            if resource["type"] == "topic":
                assert resource["patternType"] == "literal" and resource["name"] in topics, (component, resource)
            if resource["type"] == "cluster":
                assert acl["operations"] == ["IdempotentWrite"]


def test_router_reads_and_writes_its_own_topics_only(users):
    router = users["router"]
    assert not allowed(router, "topic", "support.intake.v1", "Write"), "an ingest-only topic"
    assert not allowed(router, "topic", "support.intake.v1", "Read")
    assert not allowed(router, "topic", "conversations.received.v1", "Write")
    assert not allowed(router, "topic", "casetrail-triage-customer_history-changelog", "Read"), "another's table"
    for topic in ("drafts.verified.v1", "feedback.agent.v1", "sla.events.v1", "replies.outbound.v1"):
        assert allowed(router, "topic", topic, "Read"), topic
    for topic in ("decisions.routed.v1", "replies.outbound.v1", "sla.events.v1", "deadletter.v1",
                  "casetrail-router-sla_timers-changelog"):
        assert allowed(router, "topic", topic, "Write"), topic
    assert not allowed(router, "topic", "drafts.verified.v1", "Write")
    assert allowed(router, "group", "casetrail-router", "Read")
    assert not allowed(router, "group", "casetrail-ingest", "Read")
    assert allowed(router, "transactionalId", "casetrail-router-ct-casetrail-router-7d9f-abcde", "Write")
    assert not allowed(router, "transactionalId", "casetrail-ingest-pod", "Write")
    assert allowed(router, "cluster", "", "IdempotentWrite")


def test_webhook_bridge_may_only_write_the_intake_topic(users):
    bridge = users["webhook-bridge"]
    resources = {(acl["resource"]["type"], acl["resource"].get("name")) for acl in bridge["spec"]["authorization"]["acls"]}
    assert resources == {("topic", "support.intake.v1"), ("cluster", None)}
    assert allowed(bridge, "topic", "support.intake.v1", "Write")
    assert not allowed(bridge, "topic", "support.intake.v1", "Read")


@pytest.mark.parametrize("component", sorted(SERVICES))
def test_each_service_may_do_what_its_code_registers(users, component, monkeypatch):
    """Checked against the services' own registrations, not the generated file: every processor's
    source is readable in the group, every table's changelog readable and writable, and the runtime's
    transactional.id (casetrail/runtime/service.py) is covered."""
    monkeypatch.setenv("CASETRAIL_WORKER_ID", "ct-casetrail-pod-0")
    svc = importlib.import_module(f"services.{SERVICES[component]}.app").svc
    user = users[component]
    for processor in svc.processors:
        assert allowed(user, "topic", processor.source.name, "Read"), processor.source.name
    for table in svc.tables:
        changelog = svc.changelog_spec(table).name
        assert allowed(user, "topic", changelog, "Read") and allowed(user, "topic", changelog, "Write"), changelog
    assert allowed(user, "group", svc.app_id, "Read")
    assert allowed(user, "topic", "deadletter.v1", "Write")
    transactional_id = f"{svc.app_id}-ct-casetrail-{component}-5c6b7-x2x9q"
    assert svc.producer_config()["transactional.id"].startswith(f"{svc.app_id}-")
    assert allowed(user, "transactionalId", transactional_id, "Write")
    writes = {spec.name for spec in ALL_TOPICS if spec.producer == SERVICES[component]}
    for topic in writes:
        assert allowed(user, "topic", topic, "Write"), topic
    others = {spec.name for spec in ALL_TOPICS} - writes - {"deadletter.v1"}
    assert not [topic for topic in others if allowed(user, "topic", topic, "Write")], "writes beyond its outputs"


def test_every_producer_in_topics_py_is_accounted_for():
    from casetrail_tools.kafka_access import unaccounted_producers

    assert unaccounted_producers() == []
    assert set(component_access()) <= set(__import__("yaml").safe_load((CHART / "values.yaml").read_text())["components"])


def test_names_follow_the_topic_prefix(tools):
    docs = render(tools, set_values=USERS_ON + SCRAM + ("topics.prefix=staging-", "strimzi.replicas=1"))
    triage = users_of(docs)["triage"]
    assert allowed(triage, "topic", "staging-conversations.received.v1", "Read")
    assert not allowed(triage, "topic", "conversations.received.v1", "Read")
    assert allowed(triage, "group", "staging-casetrail-triage", "Read")
    assert allowed(triage, "transactionalId", "staging-casetrail-triage-pod", "Write")


@pytest.fixture
def staging_prefix(monkeypatch):
    """CASETRAIL_TOPIC_PREFIX=staging- for the code under test (the settings are cached: cleared around it)."""
    from casetrail import settings as settings_module

    monkeypatch.setenv("CASETRAIL_TOPIC_PREFIX", "staging-")
    settings_module.settings.cache_clear()
    yield "staging-"
    settings_module.settings.cache_clear()


def test_audit_and_review_join_the_group_their_prefixed_user_may_read(tools, staging_prefix):
    """Audit and the review console run their own confluent-kafka consumers (not the runtime's app id):
    under a topic prefix their groups must carry it too, or the KafkaUser's ACL refuses them
    (GROUP_AUTHORIZATION_FAILED ends the consumer) and two deployments sharing a cluster share a group."""
    from services.audit.consumer import AuditConsumer
    from services.review.app import ProjectionConsumer

    users = users_of(render(tools, set_values=USERS_ON + SCRAM + ("topics.prefix=staging-", "strimzi.replicas=1")))
    groups = {"audit": AuditConsumer(None).group_id, "review": ProjectionConsumer(None).group_id}
    assert groups == {"audit": "staging-casetrail-audit", "review": "staging-casetrail-review"}
    for component, group in groups.items():
        assert allowed(users[component], "group", group, "Read"), component
        assert not allowed(users[component], "group", group.removeprefix(staging_prefix), "Read"), component


def test_mutual_tls_users_give_each_pod_its_own_certificate(tools):
    docs = render(tools, set_values=USERS_ON + ("kafka.securityProtocol=SSL", "kafka.tls.caSecret.name=ca"))
    assert {u["spec"]["authentication"]["type"] for u in users_of(docs).values()} == {"tls"}
    triage = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "ct-casetrail-triage")
    volumes = {v["name"]: v for v in triage["spec"]["template"]["spec"]["volumes"]}
    assert volumes["kafka-client"]["secret"]["secretName"] == "ct-casetrail-triage"
    assert [item["key"] for item in volumes["kafka-client"]["secret"]["items"]] == ["user.crt", "user.key"]


@pytest.mark.parametrize("sets, message", [
    (USERS_ON, "kafka.securityProtocol PLAINTEXT has no authentication"),
    (USERS_ON[:2] + ("strimzi.users.enabled=true",) + SCRAM, "strimzi.users.enabled needs strimzi.enabled"),
    (USERS_ON + SCRAM[:1] + ("kafka.sasl.mechanism=SCRAM-SHA-256",), "set kafka.sasl.mechanism to SCRAM-SHA-512"),
    (USERS_ON + ("kafka.securityProtocol=SASL_SSL", "kafka.sasl.mechanism=SCRAM-SHA-512",
                 "strimzi.users.authentication=tls"), "strimzi.users.authentication tls: set kafka.securityProtocol to SSL"),
])
def test_inconsistent_user_settings_are_refused(tools, sets, message):
    args = ["template", "ct", str(CHART)]
    for item in sets:
        args += ["--set", item]
    result = helm(tools, *args, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


GATE_ON = ("gate.enabled=true", "gate.candidate=kb-2", "gate.existingClaim=gate-data")


def test_the_gate_job_publishes_its_verdict_as_its_own_user(users, tools):
    """The gate's hook job writes versions.gate.v1 and nothing else, and its pod authenticates as that user
    (it had no Kafka credentials at all: on a SASL or mTLS cluster the verdict could not be published)."""
    gate = users["gate"]
    assert allowed(gate, "topic", "versions.gate.v1", "Write")
    assert allowed(gate, "cluster", "", "IdempotentWrite")
    assert not [a for a in gate["spec"]["authorization"]["acls"] if a["resource"]["type"] in ("group", "transactionalId")]
    assert not [t.name for t in ALL_TOPICS if t.name != "versions.gate.v1" and allowed(gate, "topic", t.name, "Write")]
    assert not [t.name for t in ALL_TOPICS if allowed(gate, "topic", t.name, "Read")]
    docs = render(tools, set_values=USERS_ON + SCRAM + GATE_ON)
    [job] = [d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "ct-casetrail-gate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["KAFKA_SASL_USERNAME"]["value"] == "ct-casetrail-gate"
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "ct-casetrail-gate", "key": "password"}
    assert env["KAFKA_SSL_CA_LOCATION"]["value"].startswith("/etc/casetrail/kafka-ca/")
    assert "ct-casetrail-gate" in {u["metadata"]["name"] for u in users_of(docs).values()}


def test_the_gate_job_uses_the_shared_credentials_without_strimzi_users(tools):
    docs = render(tools, set_values=("kafka.bootstrapServers=k:9093", "secrets.keystoreMasterKey.name=ks",
                                     "secrets.keystoreUrl.name=ks-db",
                                     "kafka.securityProtocol=SSL", "kafka.tls.caSecret.name=ca",
                                     "kafka.tls.clientCertSecret.name=shared-client") + GATE_ON)
    [job] = [d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "ct-casetrail-gate"]
    pod = job["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["kafka-client"]["secret"]["secretName"] == "shared-client"
    assert volumes["kafka-ca"]["secret"]["secretName"] == "ca"
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["kafka-client"] == "/etc/casetrail/kafka-client" and mounts["kafka-ca"] == "/etc/casetrail/kafka-ca"
    assert not users_of(docs)
