"""Strimzi KafkaTopic resources come from casetrail/topics.py and nowhere else."""

from __future__ import annotations

import re

import yaml

from casetrail_tools import deploy_resources
from casetrail.topics import ALL_TOPICS
from tests.deploy.conftest import render

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def test_generated_files_are_up_to_date():
    stale = deploy_resources.drifted()
    assert not stale, (
        f"out of date: {[str(p.relative_to(deploy_resources.REPO_ROOT)) for p in stale]}; "
        "run: python -m casetrail_tools.deploy_resources write"
    )


def test_topics_file_lists_every_topic_of_topics_py():
    listed = yaml.safe_load(deploy_resources.TOPICS_FILE.read_text())["topics"]
    assert [t["name"] for t in listed] == [spec.name for spec in ALL_TOPICS]
    for entry, spec in zip(listed, ALL_TOPICS):
        assert entry["partitions"] == spec.partitions
        assert entry["config"] == spec.config()


def test_rendered_kafka_topics_match_topics_py(rendered):
    topics = {d["spec"]["topicName"]: d for d in rendered["full-values.yaml"] if d["kind"] == "KafkaTopic"}
    assert set(topics) == {spec.name for spec in ALL_TOPICS}
    overrides = {"conversations.triaged.v1": 12}  # ci/full-values.yaml
    for spec in ALL_TOPICS:
        resource = topics[spec.name]
        assert resource["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == "my-cluster"
        assert DNS_SUBDOMAIN.match(resource["metadata"]["name"]), resource["metadata"]["name"]
        assert resource["spec"]["partitions"] == overrides.get(spec.name, spec.partitions)
        assert resource["spec"]["replicas"] == 3
        config = resource["spec"]["config"]
        assert config.pop("min.insync.replicas") == "2"
        assert config == spec.config(), f"{spec.name}: topic config differs from casetrail/topics.py"


def test_topic_prefix_applies_to_topic_names(tools):
    docs = render(tools, "minimal-values.yaml", set_values=(
        "strimzi.enabled=true", "topics.createOnStart=false", "topics.prefix=staging.", "strimzi.replicas=1"))
    names = {d["spec"]["topicName"] for d in docs if d["kind"] == "KafkaTopic"}
    assert names == {f"staging.{spec.name}" for spec in ALL_TOPICS}
    assert all("min.insync.replicas" not in d["spec"]["config"] for d in docs if d["kind"] == "KafkaTopic")


def test_a_change_in_topics_py_shows_as_drift():
    from dataclasses import replace

    changed = (replace(ALL_TOPICS[0], partitions=ALL_TOPICS[0].partitions + 1),) + ALL_TOPICS[1:]
    assert deploy_resources.topics_yaml(changed) != deploy_resources.TOPICS_FILE.read_text()
