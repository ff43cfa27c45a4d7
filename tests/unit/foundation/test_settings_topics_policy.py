from pathlib import Path

import pytest

from casetrail.events import EVENT_TYPES
from casetrail.policy.durations import parse_duration
from casetrail.policy.expressions import ExpressionError, compile_condition
from casetrail.policy.tenant import PolicyError, load_policy
from casetrail.settings import KafkaSettings
from casetrail.topics import ALL_TOPICS, DEADLETTER, STATE_CHANGELOGS, by_name

SAMPLE = Path(__file__).resolve().parents[3] / "config" / "tenants" / "acme-shop.yaml"


def test_librdkafka_keys_are_generated_from_field_names_and_secrets_stay_hidden():
    kafka = KafkaSettings(
        bootstrap_servers="b1:9092,b2:9092", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
        sasl_username="svc", sasl_password="hunter2", ssl_ca_location="/etc/ca.pem",
    )
    config = kafka.librdkafka_config()
    assert config["bootstrap.servers"] == "b1:9092,b2:9092"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.password"] == "hunter2"
    assert config["ssl.ca.location"] == "/etc/ca.pem"
    assert "hunter2" not in repr(kafka) and "hunter2" not in str(kafka)
    assert "client.id.prefix" not in config


def test_bootstrap_from_environment_means_use_that_cluster(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert not KafkaSettings().explicitly_configured
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    settings = KafkaSettings()
    assert settings.explicitly_configured and settings.bootstrap_servers == "kafka.example:9092"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_bootstrap_set_but_blank_names_no_cluster(monkeypatch, blank):
    """``KAFKA_BOOTSTRAP_SERVERS=`` (clearing an inherited value) means the local broker, not a cluster at ""."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", blank)
    settings = KafkaSettings()
    assert not settings.explicitly_configured
    assert settings.bootstrap_servers == KafkaSettings.model_fields["bootstrap_servers"].default


def test_a_bootstrap_with_spaces_around_it_is_that_cluster(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", " kafka.example:9092 ")
    settings = KafkaSettings()
    assert settings.explicitly_configured and settings.bootstrap_servers == "kafka.example:9092"


def test_topics_file_is_consistent():
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    for spec in ALL_TOPICS:
        if spec.value_schema:
            assert spec.value_schema in EVENT_TYPES, spec.name
    assert all(t.cleanup_policy == "compact" for t in STATE_CHANGELOGS)
    assert DEADLETTER.retention_ms >= 365 * 24 * 3600 * 1000
    assert by_name("decisions.routed.v1").value_schema == "RoutedDecision"
    with pytest.raises(KeyError):
        by_name("nope")


@pytest.mark.parametrize("prefix", ["", "casetrail", "bench"])
def test_deleting_a_run_s_topics_refuses_a_prefix_that_could_name_other_topics(prefix):
    from casetrail.topic_admin import delete_run_topics

    with pytest.raises(ValueError, match="refusing to delete"):
        delete_run_topics(prefix)  # refused before any client is made: no broker needed


def test_every_changelog_is_compacted_within_a_day_so_an_erasures_tombstone_supersedes_soon():
    from casetrail.topics import DAY_MS

    assert STATE_CHANGELOGS
    for spec in STATE_CHANGELOGS:
        assert spec.config()["cleanup.policy"] == "compact", spec.name
        assert int(spec.config()["max.compaction.lag.ms"]) == DAY_MS, spec.name


def test_sample_tenant_policy_loads_and_compiles_every_rule():
    policy = load_policy(SAMPLE)
    assert policy.tenant == "acme-shop"
    assert {rule.name for rule, _ in policy.routing_conditions} >= {"fraud-immediately", "vip-support"}
    fraud = dict((rule.name, cond) for rule, cond in policy.routing_conditions)["fraud-immediately"]
    assert fraud.evaluate({"category": "fraud_report"}) is True
    assert fraud.evaluate({"category": "place_order"}) is False
    assert policy.category("fraud_report").always_human
    assert policy.category("no-such-category").threshold == 1.0  # unknown: never autonomous


def _write(tmp_path, text):
    path = tmp_path / "tenant.yaml"
    path.write_text(text)
    return path


def test_a_rule_naming_an_unknown_field_refuses_the_policy_with_its_name(tmp_path):
    text = SAMPLE.read_text().replace("condition: \"vip\"", "condition: \"vipp == true\"")
    with pytest.raises(PolicyError, match=r"routing\[vip-support\].*vipp"):
        load_policy(_write(tmp_path, text))


def test_a_rule_that_does_not_parse_refuses_the_policy(tmp_path):
    text = SAMPLE.read_text().replace("condition: \"sentiment < -0.6\"", "condition: \"sentiment < \"")
    with pytest.raises(PolicyError, match=r"very-negative-sentiment.*does not parse"):
        load_policy(_write(tmp_path, text))


def test_an_invalid_threshold_names_the_category(tmp_path):
    text = SAMPLE.read_text().replace("order_status:        {threshold: 0.78", "order_status:        {threshold: 1.78")
    with pytest.raises(PolicyError, match=r"categories\.order_status\.threshold"):
        load_policy(_write(tmp_path, text))


def test_expressions_cannot_reach_python():
    with pytest.raises(ExpressionError):
        compile_condition("evil", "__import__('os').system('true')", ["category"])


@pytest.mark.parametrize("text, minutes", [("15m", 15), ("4h", 240), ("1h30m", 90), ("2d", 2880)])
def test_durations(text, minutes):
    assert parse_duration(text).total_seconds() == minutes * 60


def test_bad_duration_is_refused():
    with pytest.raises(ValueError):
        parse_duration("4 hours")
