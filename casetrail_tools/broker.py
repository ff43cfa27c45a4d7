"""A real Apache Kafka 4.x broker (KRaft, combined broker + controller) for
development and tests, started from jars Maven fetches from Maven Central.

``casetrail broker start`` fetches the jars (``deploy/kafka/pom.xml``), formats
the storage directory with ``kafka.tools.StorageTool`` once, starts
``kafka.Kafka`` with the machine's Java and waits until the broker answers a
metadata request. Data lives in ``var/kafka`` (git-ignored). When
``KAFKA_BOOTSTRAP_SERVERS`` is set and not blank, that cluster is used and nothing starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from casetrail.settings import REPO_ROOT, kafka_settings
from casetrail_tools.settings import DEFAULT_BROKER_PORT, ToolingSettings

POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
LIBS = REPO_ROOT / "deploy" / "kafka" / "target" / "libs"
LOG4J_CONFIG = REPO_ROOT / "deploy" / "kafka" / "log4j2.properties"
DEFAULT_PORT = DEFAULT_BROKER_PORT


class BrokerError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalBroker:
    home: Path
    port: int = DEFAULT_PORT

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def stdout_log(self) -> Path:
        return self.home / "stdout.log"

    def write_properties(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(
            "\n".join([
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={self.data_dir}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # Services create their topics from casetrail.topics; a typo must not create one silently.
                "auto.create.topics.enable=false",
                "log.retention.check.interval.ms=60000",
                "",
            ])
        )

    def pid(self) -> Optional[int]:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid


def local_broker() -> LocalBroker:
    config = ToolingSettings()
    return LocalBroker(config.data_dir / "kafka", config.broker_port)


def kafka_version() -> str:
    jars = sorted(LIBS.glob("kafka_2.13-*.jar"))
    return jars[0].stem.split("-", 1)[1] if jars else "unknown"


def ensure_jars(progress=print) -> None:
    if any(LIBS.glob("kafka_2.13-*.jar")):
        return
    if shutil.which("mvn") is None:
        raise BrokerError("Maven (mvn) is not installed; install it (e.g. apt-get install maven) or set KAFKA_BOOTSTRAP_SERVERS")
    progress(f"fetching the Kafka broker jars with Maven ({POM.relative_to(REPO_ROOT)}) ...")
    subprocess.run(["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"], check=True)


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java is not installed; Kafka needs a JRE 17+ (e.g. apt-get install openjdk-17-jre-headless)")
    return java


def _classpath() -> str:
    return str(LIBS / "*")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_ready(bootstrap: str, timeout: float = 60.0) -> float:
    """Seconds until the broker answers a metadata request (raises on timeout)."""
    from confluent_kafka.admin import AdminClient

    started = time.monotonic()
    config = {**kafka_settings().librdkafka_config(), "bootstrap.servers": bootstrap, "log_level": 0}
    admin = AdminClient(config)
    last_error: Exception | None = None
    while time.monotonic() - started < timeout:
        try:
            metadata = admin.list_topics(timeout=2)
            if metadata.brokers:
                return time.monotonic() - started
        except Exception as exc:  # KafkaException until the broker listens
            last_error = exc
        time.sleep(0.3)
    raise BrokerError(f"broker at {bootstrap} did not answer within {timeout:.0f}s: {last_error}")


@dataclass(frozen=True)
class BrokerInUse:
    """The broker a run talks to, and whether this process started it."""

    bootstrap: str
    started_here: bool  # False: a configured cluster, or a broker that was already running


def start(progress=print, timeout: float = 90.0) -> str:
    """Start the local broker unless one is configured or already running; return the bootstrap address."""
    return use(progress, timeout).bootstrap


def use(progress=print, timeout: float = 90.0) -> BrokerInUse:
    """``start``, telling whether it started the broker."""
    kafka = kafka_settings()
    if kafka.explicitly_configured:
        progress(f"KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap_servers}: using that cluster, starting nothing")
        wait_until_ready(kafka.bootstrap_servers, timeout=30)
        return BrokerInUse(kafka.bootstrap_servers, started_here=False)
    return _use_local(progress, timeout)


@contextmanager
def used_for_run(progress=print, timeout: float = 90.0) -> Iterator[BrokerInUse]:
    """The broker for one run (``use``); when the run started it, it is stopped when the run ends — done,
    failed or interrupted (Ctrl-C). A configured cluster or a broker that was already running is left running."""
    in_use = use(progress, timeout)
    try:
        yield in_use
    finally:
        if in_use.started_here:
            stop(progress)


def start_local(progress=print, timeout: float = 90.0) -> str:
    """Start (or find running) the broker casetrail manages under ``var/kafka``."""
    return _use_local(progress, timeout).bootstrap


def _use_local(progress, timeout: float) -> BrokerInUse:
    broker = local_broker()
    if broker.pid() is not None:
        wait_until_ready(broker.bootstrap, timeout)
        progress(f"Apache Kafka {kafka_version()} already running at {broker.bootstrap} (pid {broker.pid()})")
        return BrokerInUse(broker.bootstrap, started_here=False)
    if _port_open(broker.port):
        # Something already listens there: use it if it is a Kafka broker (one started
        # by hand or by another checkout), refuse otherwise.
        try:
            wait_until_ready(broker.bootstrap, timeout=10)
        except BrokerError:
            raise BrokerError(
                f"port {broker.port} is taken by a process that is not a Kafka broker; stop it or set CASETRAIL_BROKER_PORT"
            ) from None
        progress(f"a Kafka broker not started by casetrail already answers at {broker.bootstrap}: using it")
        return BrokerInUse(broker.bootstrap, started_here=False)
    _launch(broker, progress, timeout)
    return BrokerInUse(broker.bootstrap, started_here=True)


def _launch(broker: LocalBroker, progress, timeout: float) -> None:
    """Format the storage once, start ``kafka.Kafka`` and wait until it answers."""
    ensure_jars(progress)
    java = _java()
    broker.write_properties()
    if not (broker.data_dir / "meta.properties").exists():
        cluster_id = subprocess.run(
            [java, "-cp", _classpath(), "kafka.tools.StorageTool", "random-uuid"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        subprocess.run(
            [java, "-cp", _classpath(), f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
             f"-Dkafka.logs.dir={broker.home}", "kafka.tools.StorageTool", "format",
             "-t", cluster_id, "-c", str(broker.properties)],
            check=True, capture_output=True, text=True,
        )
    started = time.monotonic()
    with open(broker.stdout_log, "ab") as out:
        process = subprocess.Popen(
            [java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={broker.home}",
             "-cp", _classpath(), "kafka.Kafka", str(broker.properties)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    broker.pid_file.write_text(str(process.pid))
    try:
        wait_until_ready(broker.bootstrap, timeout)
    except BrokerError:
        if process.poll() is not None:
            tail = broker.stdout_log.read_text(errors="replace")[-2000:]
            raise BrokerError(f"the broker exited with code {process.returncode}; last output:\n{tail}") from None
        raise
    progress(
        f"Apache Kafka {kafka_version()} (KRaft, single node) ready at {broker.bootstrap} "
        f"in {time.monotonic() - started:.1f}s (pid {process.pid}, data {broker.data_dir})"
    )


def stop(progress=print, timeout: float = 30.0) -> bool:
    broker = local_broker()
    pid = broker.pid()
    if pid is None:
        progress("no local broker running")
        return False
    os.kill(pid, signal.SIGTERM)  # controlled shutdown: flushes logs, next start needs no recovery
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and broker.pid() is not None:
        time.sleep(0.3)
    if broker.pid() is not None:
        os.kill(pid, signal.SIGKILL)
        progress(f"broker (pid {pid}) did not stop within {timeout:.0f}s: killed")
    else:
        progress(f"broker (pid {pid}) stopped")
    broker.pid_file.unlink(missing_ok=True)
    return True


def status() -> str:
    kafka = kafka_settings()
    if kafka.explicitly_configured:
        return f"external cluster {kafka.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS)"
    broker = local_broker()
    pid = broker.pid()
    if pid is None:
        return "local broker: stopped"
    return f"local broker: Apache Kafka {kafka_version()} running at {broker.bootstrap} (pid {pid})"
