"""The gate's promotions reach the services that obey them (issue 20): with `gate.existingClaim`
set, triage and the drafter mount that claim's versions/ folder read-only and are pointed at its
promoted.json; no other component gets the claim, and without the claim nobody does."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import render
from tests.deploy.test_chart import by_kind, component

GATE_CLAIM = "casetrail-gate-data"  # gate.existingClaim in ci/full-values.yaml
PROMOTIONS_DIR = "/var/lib/casetrail-versions"
PROMOTION_READERS = {"triage", "drafter"}


def container_of(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def env_of(deployment: dict) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container_of(deployment)["env"]}


def claim_mounts(deployment: dict, claim: str) -> dict[str, dict]:
    """mount path -> volumeMount, for the mounts of volumes backed by ``claim``."""
    pod = deployment["spec"]["template"]["spec"]
    claim_volumes = {v["name"] for v in pod["volumes"]
                     if v.get("persistentVolumeClaim", {}).get("claimName") == claim}
    return {m["mountPath"]: m for m in container_of(deployment)["volumeMounts"] if m["name"] in claim_volumes}


def claim_volume(deployment: dict, name: str) -> dict:
    (volume,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == name]
    return volume


@pytest.mark.parametrize("values, sets", [
    ("minimal-values.yaml", (f"gate.existingClaim={GATE_CLAIM}",)),  # the gate run by hand (gate.enabled false)
    ("full-values.yaml", ()),                                          # the gate as the pre-upgrade hook
], ids=["gate-disabled", "gate-enabled"])
def test_triage_and_drafter_read_the_promotions_from_the_gate_claim(tools, values, sets):
    deployments = by_kind(render(tools, values, set_values=sets), "Deployment")
    readers = set()
    for name, deployment in deployments.items():
        mounts = claim_mounts(deployment, GATE_CLAIM)
        env = env_of(deployment)
        if component(deployment) not in PROMOTION_READERS:
            assert PROMOTIONS_DIR not in mounts and "CASETRAIL_PROMOTIONS_FILE" not in env, name
            continue
        readers.add(component(deployment))
        versions = mounts[PROMOTIONS_DIR]
        assert versions["subPath"] == "versions" and versions["readOnly"] is True, name
        assert claim_volume(deployment, versions["name"])["persistentVolumeClaim"]["readOnly"] is True, name
        assert env["CASETRAIL_PROMOTIONS_FILE"] == f"{PROMOTIONS_DIR}/promoted.json", name
        # the rest of the pod is as before: its own writable data volume, a read-only root
        assert env["CASETRAIL_DATA_DIR"] == "/var/lib/casetrail"
        assert "/var/lib/casetrail" not in mounts, f"{name}: the gate claim is not the data volume"
        assert container_of(deployment)["securityContext"]["readOnlyRootFilesystem"] is True
    assert readers == PROMOTION_READERS


def test_other_components_never_get_the_gate_claim(tools):
    deployments = by_kind(render(tools, "full-values.yaml"), "Deployment")
    others = {name: d for name, d in deployments.items() if component(d) not in PROMOTION_READERS}
    assert others and len(others) == len(deployments) - len(PROMOTION_READERS)
    for name, deployment in others.items():
        assert claim_mounts(deployment, GATE_CLAIM) == {}, name


@pytest.mark.parametrize("values, sets", [
    ("minimal-values.yaml", ()),
    ("full-values.yaml", ("gate.enabled=false", "gate.existingClaim=")),
], ids=["minimal", "full-without-gate"])
def test_without_the_gate_claim_nobody_reads_promotions_from_it(tools, values, sets):
    deployments = by_kind(render(tools, values, set_values=sets), "Deployment")
    assert {component(d) for d in deployments.values()} >= PROMOTION_READERS
    for name, deployment in deployments.items():
        mounts = container_of(deployment)["volumeMounts"]
        assert not [m for m in mounts if m["mountPath"] == PROMOTIONS_DIR or m.get("subPath")], name
        assert "CASETRAIL_PROMOTIONS_FILE" not in env_of(deployment), name
        assert GATE_CLAIM not in str(deployment["spec"]["template"]["spec"]["volumes"]), name


def test_triage_and_the_drafter_find_a_promoted_candidate_where_the_gate_recorded_it(tools):
    """The gate records a promoted intent model's folder or reply-template file as it sees it (its data
    volume, default <data_dir>/candidates/<tenant>/<kind>/<name>); triage and the drafter load it from
    there or refuse to start."""
    docs = render(tools, "full-values.yaml")
    job = by_kind(docs, "Job")["ct-casetrail-gate"]
    job_pod = job["spec"]["template"]["spec"]
    job_data = {m["name"]: m["mountPath"] for m in job_pod["containers"][0]["volumeMounts"]}["data"]
    candidates = f"{job_data}/candidates"
    deployments = by_kind(docs, "Deployment")
    for name, deployment in deployments.items():
        mounts = claim_mounts(deployment, GATE_CLAIM)
        if component(deployment) in ("triage", "drafter"):
            assert mounts[candidates]["subPath"] == "candidates" and mounts[candidates]["readOnly"] is True
        else:
            assert candidates not in mounts, f"{name} loads no promoted folder"


def test_an_upgrade_that_promotes_a_new_candidate_rolls_the_readers_only(tools):
    """Services read the promotions once, at start-up: an upgrade whose only change is the gate's
    candidate must still restart triage and the drafter, and nothing else."""
    def pod_annotations(candidate: str) -> dict[str, dict]:
        docs = render(tools, "full-values.yaml", set_values=(f"gate.candidate={candidate}",))
        return {component(d): d["spec"]["template"]["metadata"]["annotations"]
                for d in by_kind(docs, "Deployment").values()}

    before, after = pod_annotations("kb-2026-12-05"), pod_annotations("kb-2026-12-12")
    assert set(before) == set(after)
    rolled = {name for name in before if before[name] != after[name]}
    assert rolled == PROMOTION_READERS
