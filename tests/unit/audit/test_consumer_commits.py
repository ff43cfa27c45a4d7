"""The audit consumer outlives a broker restart: a refused offset commit is retried, not fatal.

After a broker restart the group coordinator answers NOT_COORDINATOR or "loading" for a
while; the consumer thread used to die on the first such commit, leaving the API serving
while the audit log stopped growing. Only the commit call is a stand-in here (its errors
are confluent-kafka's own); the batch goes through the real store.
"""

import pytest
from confluent_kafka import KafkaError, KafkaException

from services.audit import app as audit_app
from services.audit import consumer as audit_consumer
from services.audit import metrics
from services.audit.consumer import AuditConsumer, _commit
from tests.support.consumed_message import ConsumedMessage


class _Consumer:
    """Hands out one batch, then nothing; its commits fail with ``errors`` in turn, then succeed."""

    def __init__(self, errors, stop_after_polls: int, on_stop):
        self.errors = list(errors)
        self.commits = 0
        self.polls = 0
        self.stop_after_polls = stop_after_polls
        self.on_stop = on_stop
        self.closed = False

    def subscribe(self, topics, on_assign=None):
        self.topics = topics

    def consume(self, num_messages, timeout):
        self.polls += 1
        if self.polls >= self.stop_after_polls:
            self.on_stop()
        return [ConsumedMessage("t.drafts.proposed.v1", 0, b"not an avro event")] if self.polls == 1 else []

    def commit(self, asynchronous):
        self.commits += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))

    def close(self):
        self.closed = True


def _failures(error_name: str) -> float:
    return metrics.COMMIT_FAILURES.labels(error_name)._value.get()


def test_refused_commits_are_retried_while_idle_and_the_consumer_keeps_running(store, monkeypatch):
    consumer = AuditConsumer(store, topics=["t.drafts.proposed.v1"])
    fake = _Consumer([KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS], 6, consumer.stop)
    monkeypatch.setattr(audit_consumer, "kafka_consumer", lambda kafka, group_id: fake)
    before = _failures("NOT_COORDINATOR"), _failures("COORDINATOR_LOAD_IN_PROGRESS")

    consumer.run()

    assert fake.polls == 6 and fake.closed  # ran until stopped, not until the first refused commit
    assert fake.commits == 3  # the batch's commit, then retries on idle polls until one was accepted
    assert (_failures("NOT_COORDINATOR"), _failures("COORDINATOR_LOAD_IN_PROGRESS")) == (before[0] + 1, before[1] + 1)


def test_commit_reports_passing_refusals_and_raises_the_rest():
    class Refusing:
        def __init__(self, code):
            self.code = code

        def commit(self, asynchronous):
            raise KafkaException(KafkaError(self.code))

    for code in (KafkaError.NOT_COORDINATOR, KafkaError.REBALANCE_IN_PROGRESS, KafkaError._TRANSPORT,
                 KafkaError.ILLEGAL_GENERATION):
        assert _commit(Refusing(code)) is False
    assert _commit(Refusing(KafkaError._NO_OFFSET)) is True  # nothing to commit is not a failure
    with pytest.raises(KafkaException):
        _commit(Refusing(KafkaError.GROUP_AUTHORIZATION_FAILED))


def test_the_service_exits_non_zero_when_its_consumer_dies(tmp_path, monkeypatch):
    # An API left serving without its consumer would look alive while nothing is stored.
    import socket
    import threading
    import time

    from casetrail.privacy import keystore
    from casetrail.runtime import structured_logging
    from services.audit.settings import AuditSettings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class DyingConsumer:
        def __init__(self, store, **kwargs):
            self.assigned = threading.Event()

        def run(self):
            time.sleep(0.5)  # after the API has started
            raise RuntimeError("consumer broke")

        def stop(self):
            pass

    def no_keystore(config=None):
        raise OSError("no key store in this test")

    monkeypatch.setattr(audit_app, "AuditSettings", lambda: AuditSettings(
        data_dir=tmp_path, http_port=port, create_topics=False, audit_db_url=f"sqlite:///{tmp_path / 'audit.sqlite'}"))
    monkeypatch.setattr(audit_app, "AuditConsumer", DyingConsumer)
    monkeypatch.setattr(keystore, "default_keystore", no_keystore)
    monkeypatch.setattr(structured_logging, "configure_logging", lambda *args, **kwargs: None)

    started = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        audit_app.AuditService().run()
    assert exited.value.code == 1
    assert time.monotonic() - started < 30


def test_a_fatal_consumer_error_stops_the_audit_consumer_and_a_passing_one_is_skipped(store, monkeypatch):
    # A fatal error leaves the consumer unusable: skipping it forever would keep the API serving while
    # nothing is stored; raising makes the service exit 1 (test above) so that the platform restarts it.
    consumer = AuditConsumer(store, topics=["t.drafts.proposed.v1"])
    passing = ConsumedMessage("t.drafts.proposed.v1", 0, None, error=KafkaError(KafkaError._TRANSPORT, "broker away"))
    fatal = ConsumedMessage("t.drafts.proposed.v1", 1, None,
                            error=KafkaError(KafkaError._FENCED, "fenced for good", fatal=True))

    class Failing(_Consumer):
        def consume(self, num_messages, timeout):
            self.polls += 1
            if self.polls >= self.stop_after_polls:
                self.on_stop()  # a consumer that skips the fatal error would otherwise poll on forever
            return [passing] if self.polls == 1 else [fatal]

    fake = Failing([], 5, consumer.stop)
    monkeypatch.setattr(audit_consumer, "kafka_consumer", lambda kafka, group_id: fake)
    with pytest.raises(RuntimeError, match="audit consumer failed: .*fenced for good"):
        consumer.run()
    assert fake.polls == 2 and fake.closed  # the passing error was skipped; the fatal one stopped it
