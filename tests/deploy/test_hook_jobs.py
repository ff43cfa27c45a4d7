"""The chart's hook jobs (issue 21): the schema registration before install and upgrade, and the egress each hook
job needs while the deny-all policy covers its pods."""

from __future__ import annotations

import yaml

from tests.deploy.conftest import CI_VALUES, render
from tests.deploy.test_chart import by_kind


def test_schemas_are_registered_before_install_and_upgrade_when_a_registry_is_used(rendered, tools):
    """`casetrail schemas register` (issue 21) runs as a hook before the gate and before any pod, with the
    registry's URL and credentials, the topic prefix and the compatibility level; no registry, no job."""
    job = by_kind(rendered["full-values.yaml"], "Job")["ct-casetrail-schemas"]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    gate = by_kind(rendered["full-values.yaml"], "Job")["ct-casetrail-gate"]
    assert int(annotations["helm.sh/hook-weight"]) < int(gate["metadata"]["annotations"]["helm.sh/hook-weight"])
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["schemas", "register", "--compatibility", "FULL_TRANSITIVE"]
    assert container["image"] == "registry.example.com/casetrail:0.1.0"  # the service image has the command
    env = {e["name"]: e for e in container["env"]}
    assert env["SCHEMA_REGISTRY_URL"]["value"] == "http://schema-registry.kafka:8081"
    assert env["CASETRAIL_SCHEMA_REGISTRY_BASIC_AUTH"]["valueFrom"]["secretKeyRef"] == {
        "name": "schema-registry-auth", "key": "basic-auth"}
    assert "CASETRAIL_TOPIC_PREFIX" in env
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and pod["automountServiceAccountToken"] is False
    assert "ct-casetrail-schemas" not in by_kind(rendered["minimal-values.yaml"], "Job")
    off = render(tools, "full-values.yaml", set_values=("schemaRegistry.register=false",))
    assert "ct-casetrail-schemas" not in by_kind(off, "Job")


def test_hook_jobs_get_their_egress_before_they_run(rendered):
    """The default-deny policy covers the hook jobs' pods too, and is in place on an upgrade: each hook job has
    its own egress policy, itself a hook that runs first (the gate had none: denied Kafka on every upgrade)."""
    docs = rendered["full-values.yaml"]
    policies = by_kind(docs, "NetworkPolicy")
    jobs = by_kind(docs, "Job")
    kafka = set(yaml.safe_load((CI_VALUES / "full-values.yaml").read_text())["kafka"]["networkPolicy"]["ports"])
    for name, ports in (("gate", {53, 8081, 5432} | kafka), ("schemas", {53, 8081})):  # 5432: the key store
        policy = policies[f"ct-casetrail-{name}-hook"]
        job = jobs[f"ct-casetrail-{name}"]
        assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == name
        assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == name
        assert "pre-upgrade" in policy["metadata"]["annotations"]["helm.sh/hook"]
        assert int(policy["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]} == ports
        assert "ingress" not in policy["spec"]

