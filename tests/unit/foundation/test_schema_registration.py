"""`casetrail schemas register` against a local server speaking the Schema Registry API, through the real
confluent-kafka client: every event topic's subject gets its compatibility level and whole released
history; a release that breaks the level is refused by the registry; a registry that does not keep the
level, or cannot be reached, is an error (issue 21)."""

from __future__ import annotations

import json

import avro.schema
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from typer.testing import CliRunner

from casetrail.cli import app
from casetrail.schema_registration import (WEAKER_LEVELS, SubjectPlan, history, plans,
                                           register_subjects)
from casetrail.topics import ALL_TOPICS
from casetrail_tools.local_schema_registry import LocalSchemaRegistry

V1 = json.dumps({"type": "record", "name": "Probe", "namespace": "test",
                 "fields": [{"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["a", "b"]}}]})
# a new enum symbol without an enum default: v1 readers cannot read it (what AgentFeedback v2 did)
V2_NEW_SYMBOL = V1.replace('["a", "b"]', '["a", "b", "c"]')
# a new field with a default: both directions read
V2_NEW_FIELD = json.dumps({**json.loads(V1), "fields": json.loads(V1)["fields"] + [
    {"name": "note", "type": "string", "default": ""}]})


@pytest.fixture()
def registry():
    with LocalSchemaRegistry() as server:
        yield server


def register(url: str, *extra: str):
    return CliRunner().invoke(app, ["schemas", "register", "--url", url, *extra])


def test_every_event_topic_is_registered_with_its_history_and_level(registry, tmp_path):
    report = tmp_path / "registered.json"
    result = register(registry.url, "--json", str(report))
    assert result.exit_code == 0, result.output
    subjects = {s["subject"]: s for s in json.loads(report.read_text())["subjects"]}
    expected = {f"{spec.name}-value": spec.value_schema for spec in ALL_TOPICS if spec.value_schema}
    assert set(subjects) == set(expected)
    client = SchemaRegistryClient({"url": registry.url})
    for subject, event in expected.items():
        level = WEAKER_LEVELS.get(event, ("FULL_TRANSITIVE",))[0]
        assert subjects[subject]["compatibility"] == level
        assert client.get_compatibility(subject) == level  # what the registry now holds
        assert [r["version"] for r in subjects[subject]["registered"]] == [label for label, _ in history(event)]
        assert client.get_versions(subject) == list(range(1, len(history(event)) + 1))
        latest = client.get_latest_version(subject)
        assert avro.schema.parse(latest.schema.schema_str) == avro.schema.parse(history(event)[-1][1])
    assert subjects["feedback.agent.v1-value"]["compatibility"] == "BACKWARD_TRANSITIVE"


def test_registering_again_adds_no_version_and_keeps_the_ids(registry, tmp_path):
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert register(registry.url, "--json", str(first)).exit_code == 0
    assert register(registry.url, "--json", str(second)).exit_code == 0
    assert json.loads(first.read_text())["subjects"] == json.loads(second.read_text())["subjects"]


def test_a_release_that_breaks_the_level_is_refused_naming_subject_and_version(registry):
    client = SchemaRegistryClient({"url": registry.url})
    broken = SubjectPlan("probe-value", "Probe", (("v1", V1), ("v2", V2_NEW_SYMBOL)))
    fine = SubjectPlan("other-value", "Probe", (("v1", V1), ("v2", V2_NEW_FIELD)))
    results = register_subjects(client, [broken, fine])
    assert results[0].refused["version"] == "v2" and "cannot read the new schema" in results[0].refused["reason"]
    assert [r["version"] for r in results[0].registered] == ["v1"]
    assert results[1].refused is None and len(results[1].registered) == 2  # the next subject still goes on
    # the same change holds under the weaker level it was released with
    weaker = register_subjects(client, [SubjectPlan("weak-value", "Probe", broken.versions, "BACKWARD_TRANSITIVE")])
    assert weaker[0].refused is None and weaker[0].level == "BACKWARD_TRANSITIVE"


def test_the_command_exits_1_when_the_registry_refuses_a_schema(registry, monkeypatch):
    monkeypatch.setattr("casetrail.schema_registration.plans", lambda prefix=None: [
        SubjectPlan("probe-value", "Probe", (("v1", V1), ("current", V2_NEW_SYMBOL)))])
    result = register(registry.url)
    assert result.exit_code == 1
    assert "probe-value" in result.output and "REFUSED at current" in result.output


class _OverriddenLevels(dict):
    """A registry whose subjects keep BACKWARD whatever they are given (e.g. a policy enforced above them)."""

    def __setitem__(self, subject, level):
        super().__setitem__(subject, "BACKWARD")


def test_a_registry_that_does_not_keep_the_level_is_not_trusted(registry):
    registry.state.levels = _OverriddenLevels()
    result = register(registry.url)
    assert result.exit_code == 2
    assert "did not keep compatibility FULL_TRANSITIVE" in result.output


def test_an_unreachable_registry_is_a_clear_error():
    result = register("http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "cannot be reached" in result.output


def test_plans_name_the_subjects_with_the_topic_prefix():
    names = {plan.subject for plan in plans("acme-")}
    assert "acme-drafts.proposed.v1-value" in names and not any(not n.startswith("acme-") for n in names)
