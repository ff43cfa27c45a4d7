"""The Helm chart: lint, render for each values file, validate against the Kubernetes
schemas (kubernetes-validate, offline), and check what the issue promises of every pod."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import CHART, CI_VALUES, KUBERNETES_VERSION, VALUES_FILES, helm, render
CORE_SERVICES = ("ingest", "triage", "drafter", "verifier", "router", "audit", "delivery")
CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule", "KafkaTopic", "KafkaUser"}


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def component(doc: dict) -> str:
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


@pytest.mark.parametrize("values", VALUES_FILES)
def test_helm_lint_strict(tools, values):
    result = helm(tools, "lint", "--strict", "--kube-version", KUBERNETES_VERSION, str(CHART),
                  "-f", str(CI_VALUES / values), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", VALUES_FILES)
@pytest.mark.parametrize("kubernetes_version", [KUBERNETES_VERSION, "1.34.0"])
def test_rendered_manifests_match_kubernetes_schemas(rendered, values, kubernetes_version):
    import kubernetes_validate  # installed by deploy/tools/install.sh (the `tools` fixture)

    problems = []
    for doc in rendered[values]:
        if doc["kind"] in CRD_KINDS:
            continue  # custom resources: checked field by field below
        try:
            kubernetes_validate.validate(doc, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_schema_validation_can_fail(tools):
    import kubernetes_validate

    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "x", "imagePullPolicy": 3}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_minimal_values_render_every_service_with_hardened_pods(rendered):
    docs = rendered["minimal-values.yaml"]
    deployments = by_kind(docs, "Deployment")
    assert {component(d) for d in deployments.values()} == set(CORE_SERVICES) | {"webhook-bridge", "review"}
    accounts = by_kind(docs, "ServiceAccount")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name and name in accounts, "one ServiceAccount per component"
        assert accounts[name]["automountServiceAccountToken"] is False
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for path in ("/tmp", "/var/lib/casetrail"):
            assert "emptyDir" in volumes[mounts[path]], f"{name}: {path} must be a writable emptyDir"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # ready = consuming (the services, audit's consumer); the bridge: its secrets and the intake topic
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["resources"]["requests"] and container["resources"]["limits"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka-bootstrap.kafka:9092"
        assert env["CASETRAIL_HTTP_HOST"] == "0.0.0.0"
        assert env["CASETRAIL_HTTP_PORT"] == str(container["ports"][0]["containerPort"])
    for service in CORE_SERVICES:
        container = deployments[f"ct-casetrail-{service}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["run", service], "entry point is `casetrail run <service>`"
        if service != "audit":
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_services_and_disruption_budgets(rendered):
    docs = rendered["minimal-values.yaml"]
    deployments = by_kind(docs, "Deployment")
    services = by_kind(docs, "Service")
    assert set(services) == set(deployments), "every component has a Service for its HTTP port"
    for name, service in services.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
        assert service["metadata"]["labels"]["casetrail.io/job"] == f"casetrail-{component(service)}"
    pdbs = by_kind(docs, "PodDisruptionBudget")
    # single-replica audit and review (SQLite projections): no PDB blocking drains
    assert set(pdbs) == set(deployments) - {"ct-casetrail-audit", "ct-casetrail-review"}


def test_network_policies_deny_by_default_and_allow_what_each_needs(rendered):
    docs = rendered["full-values.yaml"]
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies.pop("ct-casetrail-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    deployments = by_kind(docs, "Deployment")
    hooks = {name for name in policies if name.endswith("-hook")}  # the hook jobs' (tested below)
    assert hooks == {"ct-casetrail-gate-hook", "ct-casetrail-schemas-hook"}
    policies = {name: policy for name, policy in policies.items() if name not in hooks}
    expiry = policies.pop("ct-casetrail-deadletter-keys")  # the CronJob's pods: DNS and the key store only
    assert {p["port"] for rule in expiry["spec"]["egress"] for p in rule["ports"]} == {53, 5432}
    assert "ingress" not in expiry["spec"]
    assert set(policies) == set(deployments)
    for name, policy in policies.items():
        egress = policy["spec"]["egress"]
        ports = {(p["port"], p.get("protocol")) for rule in egress for p in rule.get("ports", [])}
        assert (53, "UDP") in ports, f"{name}: DNS"
        if name != "ct-casetrail-audit-api":
            assert (9093, "TCP") in ports, f"{name}: Kafka"
        else:
            assert (9093, "TCP") not in ports, "the API-only pod needs no Kafka"
        qdrant = (6333, "TCP") in ports
        assert qdrant == (component(policy) in ("drafter", "verifier", "audit", "audit-api")), f"{name}: Qdrant"
        # every component reaches the shared key store (PostgreSQL); audit also its own database
        assert (5432, "TCP") in ports, f"{name}: the key store's database"
        sources = [rule["from"] for rule in policy["spec"]["ingress"]]
        prometheus_allowed = any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "prometheus"
            for peers in sources for peer in peers)
        assert prometheus_allowed, f"{name}: Prometheus scrape"
        if component(policy) in ("webhook-bridge", "audit", "audit-api"):
            assert any("ingress-nginx" in str(peers) for peers in sources), f"{name}: its HTTP clients"
        platforms = any(p.get("port") == 443 and "ipBlock" in str(rule.get("to"))
                        for rule in egress for p in rule.get("ports", []))
        assert platforms == (component(policy) == "delivery"), f"{name}: egress to the ticketing platforms"


def test_delivery_mounts_its_configuration_and_credentials(rendered):
    docs = rendered["full-values.yaml"]
    pod = by_kind(docs, "Deployment")["ct-casetrail-delivery"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/var/run/secrets/casetrail-delivery"]]["secret"]["secretName"] == "casetrail-delivery"
    assert "configMap" in volumes[mounts["/etc/casetrail/delivery"]]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CASETRAIL_DELIVERY_SECRETS_DIR"] == "/var/run/secrets/casetrail-delivery"
    assert env["CASETRAIL_DELIVERY_CONFIG_DIR"] == "/etc/casetrail/delivery"
    config = by_kind(docs, "ConfigMap")["ct-casetrail-delivery-config"]
    assert "acme-shop.yaml" in config["data"] and "api_token" not in config["data"]["acme-shop.yaml"]


def test_sasl_ssl_wires_secrets_and_ca(rendered):
    docs = rendered["full-values.yaml"]
    for deployment in by_kind(docs, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
        # strimzi.users: each component with Kafka access authenticates as its own KafkaUser (the User
        # Operator's Secret is named like the user); the API-only pod has no user (tests/deploy/test_kafka_users.py)
        own_user = deployment["metadata"]["name"] != "ct-casetrail-audit-api"
        user = deployment["metadata"]["name"] if own_user else "casetrail"
        assert env["KAFKA_SASL_USERNAME"]["value"] == user
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": user if own_user else "casetrail-kafka-user", "key": "password"}
        assert env["KAFKA_SSL_CA_LOCATION"]["value"] == "/etc/casetrail/kafka-ca/ca.crt"
        assert "value" not in env["KAFKA_SASL_PASSWORD"], "no secret value in the manifest"
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == "my-cluster-cluster-ca-cert"
        assert env["CASETRAIL_CREATE_TOPICS"]["value"] == "false"
        assert env["CASETRAIL_TENANTS_DIR"]["value"] == "/etc/casetrail/tenants"
        assert volumes["tenant-policies"]["configMap"]["name"] == "ct-casetrail-tenant-policies"
    bridge = by_kind(docs, "Deployment")["ct-casetrail-webhook-bridge"]["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "casetrail-webhook-secrets"}} in bridge["envFrom"]


def test_mutual_tls_mounts_client_certificate(rendered):
    docs = rendered["mtls-values.yaml"]
    container = by_kind(docs, "Deployment")["ct-casetrail-triage"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SSL"
    assert env["KAFKA_SSL_CERTIFICATE_LOCATION"] == "/etc/casetrail/kafka-client/user.crt"
    assert env["KAFKA_SSL_KEY_LOCATION"] == "/etc/casetrail/kafka-client/user.key"
    assert "KAFKA_SASL_MECHANISM" not in env
    auth = by_kind(docs, "TriggerAuthentication")["ct-casetrail-kafka"]["spec"]
    assert {ref["parameter"] for ref in auth["secretTargetRef"]} == {"ca", "cert", "key"}
    for trigger in by_kind(docs, "ScaledObject")["ct-casetrail-triage"]["spec"]["triggers"]:
        assert trigger["metadata"]["tls"] == "enable" and "sasl" not in trigger["metadata"]


def test_tenant_policy_configmap_holds_a_valid_policy(rendered, tmp_path):
    from casetrail.policy.tenant import load_policy

    configmap = by_kind(rendered["full-values.yaml"], "ConfigMap")["ct-casetrail-tenant-policies"]
    assert set(configmap["data"]) == {"acme-shop.yaml"}
    path = tmp_path / "acme-shop.yaml"
    path.write_text(configmap["data"]["acme-shop.yaml"])
    policy = load_policy(path)
    assert policy.tenant == "acme-shop"


def test_keda_scales_consumers_on_their_group_lag(rendered):
    docs = rendered["full-values.yaml"]
    scaled = by_kind(docs, "ScaledObject")
    deployments = by_kind(docs, "Deployment")
    assert {component(s) for s in scaled.values()} == {"ingest", "triage", "drafter", "verifier"}
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        spec = obj["spec"]
        assert spec["scaleTargetRef"]["name"] == name and name in deployments
        assert "replicas" not in deployments[name]["spec"], "KEDA owns the replica count"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["triggers"], "one trigger per input topic (tests/deploy/test_chart_scaling.py)"
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka"
            meta = trigger["metadata"]
            assert meta["consumerGroup"] == f"casetrail-{component(obj)}"
            assert meta["bootstrapServers"] == "my-cluster-kafka-bootstrap.kafka:9093"
            assert meta["sasl"] == "scram_sha512" and meta["tls"] == "enable"
            assert all(isinstance(v, str) for v in meta.values()), "KEDA metadata values are strings"
            assert trigger["authenticationRef"]["name"] == f"{name}-kafka", "the scaled pods' own KafkaUser"
        auth = by_kind(docs, "TriggerAuthentication")[f"{name}-kafka"]["spec"]
        assert {ref["parameter"]: ref["name"] for ref in auth["secretTargetRef"]} == {
            "password": name, "ca": "my-cluster-cluster-ca-cert"}
        assert auth["env"] == [{"parameter": "username", "name": "KAFKA_SASL_USERNAME"}]
    assert "ct-casetrail-kafka" not in by_kind(docs, "TriggerAuthentication"), "no shared credentials left unused"


def test_keda_group_follows_the_topic_prefix(tools):
    docs = render(tools, "minimal-values.yaml", set_values=("topics.prefix=staging-", "components.router.keda.enabled=true"))
    (obj,) = by_kind(docs, "ScaledObject").values()
    for trigger in obj["spec"]["triggers"]:
        assert trigger["metadata"]["consumerGroup"] == "staging-casetrail-router"
        assert trigger["metadata"]["topic"].startswith("staging-")


def test_service_monitor_and_rules_and_dashboard(rendered):
    import json
    from casetrail_tools.dashboard import dashboard
    from casetrail_tools.deploy_resources import ALERTS_SOURCE

    docs = rendered["full-values.yaml"]
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["jobLabel"] == "casetrail.io/job"
    assert monitor["spec"]["selector"]["matchLabels"]["casetrail.io/metrics"] == "true"
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    scraped = [s for s in by_kind(docs, "Service").values() if s["metadata"]["labels"]["casetrail.io/metrics"] == "true"]
    assert {component(s) for s in scraped} >= set(CORE_SERVICES)
    (rule,) = by_kind(docs, "PrometheusRule").values()
    import re
    import yaml
    readme = (CHART.parents[1] / "README.md").read_text()
    # GitHub's anchors: a heading lower-cased, punctuation dropped, spaces as hyphens
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#{1,6} (.+)$", readme, re.M)}
    base = "https://git.example.com/platform/casetrail/-/blob/v0.1.0/deploy/README.md#"  # ci/full-values.yaml
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert alerts
    for alert in alerts:
        url = alert["annotations"].pop("runbook_url")
        assert url == base + alert["alert"].lower(), "runbook_url: the published README plus the alert's section"
        assert url.removeprefix(base) in anchors, f"{alert['alert']}: deploy/README.md has no section {url}"
    assert rule["spec"] == yaml.safe_load(ALERTS_SOURCE.read_text()), "otherwise the rule file unchanged"
    (board,) = [c for c in by_kind(docs, "ConfigMap").values() if "casetrail.json" in c.get("data", {})]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(board["data"]["casetrail.json"]) == dashboard()


def test_minimal_values_leave_optional_resources_out(rendered):
    kinds = {doc["kind"] for doc in rendered["minimal-values.yaml"]}
    assert not kinds & CRD_KINDS, "no CRD-backed resource unless asked for"
    assert "ConfigMap" not in kinds


@pytest.mark.parametrize("sets, message", [
    ((), "kafka.bootstrapServers is required"),
    (("kafka.bootstrapServers=k:9092", "kafka.securityProtocol=SASL_SSL"), "kafka.sasl.mechanism is required"),
    (("kafka.bootstrapServers=k:9092", "kafka.securityProtocol=SCRAM"), "at '/kafka/securityProtocol': value must be one of"),
    (("kafka.bootstrapServers=k:9092", "strimzi.enabled=true"), "set topics.createOnStart=false"),
    (("kafka.bootstrapServers=k:9092", "components.webhookBridge.keda.enabled=true"), "consumes no topic"),
    (("kafka.bootstrapServers=k:9092", "secrets.keystoreMasterKey.name="), "secrets.keystoreMasterKey.name is required"),
    (("kafka.bootstrapServers=k:9092", "secrets.keystoreUrl.name="), "secrets.keystoreUrl.name is required"),
    (("kafka.bootstrapServers=k:9092", "prometheusRule.enabled=true"), "prometheusRule.runbookBaseUrl is required"),
    (("kafka.bootstrapServers=k:9092", "environment=staging"), "at '/environment': value must be one of 'production', 'development'"),
])
def test_bad_values_are_refused_with_a_message_naming_them(tools, sets, message):
    args = ["template", "ct", str(CHART), "--set", "secrets.keystoreMasterKey.name=casetrail-keystore",
            "--set", "secrets.keystoreUrl.name=casetrail-keystore-db"]
    for item in sets:
        args += ["--set", item]
    result = helm(tools, *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_pods_say_so_and_development_needs_no_master_key(rendered, tools):
    for values_file, manifests in rendered.items():
        for deployment in (m for m in manifests if m["kind"] == "Deployment"):
            env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env["CASETRAIL_ENVIRONMENT"] == "production", (values_file, deployment["metadata"]["name"])
    development = render(tools, set_values=("kafka.bootstrapServers=k:9092", "environment=development"))
    ingest = next(m for m in development if m["kind"] == "Deployment" and m["metadata"]["name"].endswith("ingest"))
    env = {e["name"]: e.get("value") for e in ingest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CASETRAIL_ENVIRONMENT"] == "development" and "CASETRAIL_KEYSTORE_MASTER_KEY" not in env
    assert "CASETRAIL_KEYSTORE_URL" not in env  # a SQLite file per pod, for a developer's cluster


def test_dead_letter_keys_past_the_retention_are_destroyed_daily(rendered, tools):
    for values_file, manifests in rendered.items():
        [cron] = by_kind(manifests, "CronJob").values()
        container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["deadletter", "expire-keys", "--older-than-days", "365"], values_file
        env = {e["name"]: e for e in container["env"]}
        assert env["CASETRAIL_KEYSTORE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "casetrail-keystore-db"
        assert "CASETRAIL_KEYSTORE_MASTER_KEY" in env and env["CASETRAIL_ENVIRONMENT"]["value"] == "production"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    development = render(tools, set_values=("kafka.bootstrapServers=k:9092", "environment=development"))
    assert not by_kind(development, "CronJob"), "no shared key store: nothing for the job to reach"


def test_every_pod_shares_one_key_store_and_may_reach_it(rendered):
    """Issue 17: with a key store per pod, `audit erase` did not destroy the key ingest sealed with; every
    component seals (dead letters everywhere, intake in the bridge), so every one gets the shared store."""
    for values_file, manifests in rendered.items():
        deployments = by_kind(manifests, "Deployment")
        policies = by_kind(manifests, "NetworkPolicy")
        for name, deployment in deployments.items():
            env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env["CASETRAIL_KEYSTORE_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": "casetrail-keystore-db", "key": "url"}, (values_file, name)
            assert "CASETRAIL_KEYSTORE_MASTER_KEY" in env, (values_file, name)
            if name in policies:
                ports = {p["port"] for rule in policies[name]["spec"]["egress"] for p in rule.get("ports", [])}
                assert 5432 in ports, (values_file, name)
        gate = by_kind(manifests, "Job").get("ct-casetrail-gate")  # the schemas job opens no sealed data
        if gate is not None:
            job_env = {e["name"] for e in gate["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert "CASETRAIL_KEYSTORE_URL" in job_env, values_file


def test_http_facing_components_accept_their_clients_by_default(rendered):
    docs = rendered["minimal-values.yaml"]
    policies = by_kind(docs, "NetworkPolicy")
    for name in ("ct-casetrail-webhook-bridge", "ct-casetrail-audit"):
        peers = [peer for rule in policies[name]["spec"]["ingress"] for peer in rule["from"]]
        assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in peers
    for name in ("ct-casetrail-triage", "ct-casetrail-router"):
        assert len(policies[name]["spec"]["ingress"]) == 1, "consumers accept Prometheus only"
    deployments = by_kind(docs, "Deployment")
    assert deployments["ct-casetrail-audit"]["spec"]["strategy"] == {"type": "Recreate"}
    assert deployments["ct-casetrail-triage"]["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_review_console_has_its_ingress_secrets_and_the_gate_runs_before_an_upgrade(rendered):
    docs = rendered["full-values.yaml"]
    [ingress] = by_kind(docs, "Ingress").values()
    assert ingress["spec"]["rules"][0]["host"] == "review.support.example.com"
    assert ingress["spec"]["tls"][0]["secretName"] == "review-tls"
    review = by_kind(docs, "Deployment")["ct-casetrail-review"]
    container = review["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["run", "review"]
    assert {"secretRef": {"name": "casetrail-review"}} in container["envFrom"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    job = by_kind(docs, "Job")["ct-casetrail-gate"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-upgrade"
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["gate", "--candidate", "kb-2026-12-05"]
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/casetrail-gate:0.1.0"

