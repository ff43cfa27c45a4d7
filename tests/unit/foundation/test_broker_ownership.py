"""Who started the broker stops it (casetrail_tools/broker.py ``use``/``used_for_run``, and
``casetrail bench pipeline``): a run that had to start the local broker stops it when it ends — done,
failed or interrupted — and leaves a configured cluster or a broker that was already running alone.

No broker here: the settings, the pid file, the port probe, the launch and ``stop`` are stand-ins;
starting and stopping the real broker is what every integration run does."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from casetrail_tools import broker
from casetrail_tools.benchmarks import pipeline


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """No cluster configured, no local broker running, nothing on the port; what was launched and stopped."""
    seen = SimpleNamespace(launched=[], stopped=0, configured=False, port_open=False)
    local = broker.LocalBroker(tmp_path / "kafka", 19312)
    local.home.mkdir()
    monkeypatch.setattr(broker, "kafka_settings", lambda: SimpleNamespace(
        explicitly_configured=seen.configured, bootstrap_servers="cluster.example:9092"))
    monkeypatch.setattr(broker, "local_broker", lambda: local)
    monkeypatch.setattr(broker, "wait_until_ready", lambda bootstrap, timeout=60.0: 0.0)
    monkeypatch.setattr(broker, "_port_open", lambda port: seen.port_open)
    monkeypatch.setattr(broker, "_launch", lambda found, progress, timeout: seen.launched.append(found.bootstrap))

    def stop(progress=print, timeout=30.0):
        seen.stopped += 1
        return True

    monkeypatch.setattr(broker, "stop", stop)
    seen.local = local
    return seen


def test_a_broker_started_for_the_run_is_stopped_when_the_run_ends(machine):
    with broker.used_for_run(progress=lambda line: None) as in_use:
        assert in_use == broker.BrokerInUse("127.0.0.1:19312", started_here=True)
        assert (machine.launched, machine.stopped) == (["127.0.0.1:19312"], 0)
    assert machine.stopped == 1


@pytest.mark.parametrize("interruption", [RuntimeError("a service did not get ready"), KeyboardInterrupt()])
def test_a_broker_started_for_the_run_is_stopped_when_the_run_fails_or_is_interrupted(machine, interruption):
    with pytest.raises(type(interruption)):
        with broker.used_for_run(progress=lambda line: None):
            raise interruption
    assert machine.stopped == 1


def test_a_configured_cluster_is_used_and_left_alone(machine):
    machine.configured = True
    with broker.used_for_run(progress=lambda line: None) as in_use:
        assert in_use == broker.BrokerInUse("cluster.example:9092", started_here=False)
    assert (machine.launched, machine.stopped) == ([], 0)


def test_a_local_broker_already_running_is_left_running(machine):
    machine.local.pid_file.write_text(str(os.getpid()))  # a live process: the broker casetrail started before
    with broker.used_for_run(progress=lambda line: None) as in_use:
        assert in_use.started_here is False
    assert (machine.launched, machine.stopped) == ([], 0)


def test_a_broker_started_by_hand_on_the_port_is_left_running(machine):
    machine.port_open = True
    with pytest.raises(KeyboardInterrupt):
        with broker.used_for_run(progress=lambda line: None) as in_use:
            assert in_use.started_here is False
            raise KeyboardInterrupt
    assert (machine.launched, machine.stopped) == ([], 0)


def test_the_pipeline_benchmark_stops_the_broker_it_started_even_when_interrupted(machine, monkeypatch):
    def interrupted(rate, duration, bootstrap, **options):
        assert (bootstrap, machine.stopped) == ("127.0.0.1:19312", 0)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run_pipeline_benchmark(5, 10, progress=lambda line: None)
    assert machine.stopped == 1


def test_the_pipeline_benchmark_leaves_a_running_broker_running_and_says_so(machine, monkeypatch):
    machine.local.pid_file.write_text(str(os.getpid()))
    monkeypatch.setattr(pipeline, "_run", lambda rate, duration, bootstrap, **options: {"decided": 50})
    result = pipeline.run_pipeline_benchmark(5, 10, progress=lambda line: None)
    assert result == {"decided": 50, "broker_started_for_run": False}
    assert machine.stopped == 0


def test_a_blank_bootstrap_variable_starts_the_local_broker(machine, monkeypatch):
    """The real settings read ``KAFKA_BOOTSTRAP_SERVERS=``: no cluster is named, so the local broker starts."""
    from casetrail.settings import KafkaSettings

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "")
    monkeypatch.setattr(broker, "kafka_settings", KafkaSettings)
    with broker.used_for_run(progress=lambda line: None) as in_use:
        assert in_use == broker.BrokerInUse("127.0.0.1:19312", started_here=True)
    assert (machine.launched, machine.stopped) == (["127.0.0.1:19312"], 1)
