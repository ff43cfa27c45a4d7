"""Run the six services as local processes under one topic prefix: shared by
``make demo``, the end-to-end tests, ``casetrail bench pipeline`` and the
fault tests. Each service logs to its own file; ``/readyz`` tells when it is up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from casetrail.runtime.service import DEFAULT_PORTS
from casetrail.settings import REPO_ROOT, kafka_settings, settings

SERVICES = ("ingest", "triage", "drafter", "verifier", "router", "audit", "delivery")  # the flow, in order
SINGLE_WORKER = ("audit",)  # its store is one SQLite file: one writer
WORKER_PORT_STRIDE = 20


SAMPLE_TENANT = "acme-shop"


@dataclass(frozen=True)
class PreparedRun:
    """A broker, a fresh topic prefix with every topic, a fresh data dir with the sample KB published."""

    run_id: str
    prefix: str
    data_dir: Path
    bootstrap: str
    env: dict[str, str]  # what every process of this run needs (data dir, prefix, bootstrap)
    topics_created: int
    kb_published: list[str]  # the publisher's summary lines


def prepare_run(kind: str, *, progress: Callable[[str], None] = print, data_dir: Optional[Path] = None,
                bootstrap: Optional[str] = None) -> PreparedRun:
    """Shared start of the demo, the pipeline benchmark and the fault runs. ``bootstrap``: the broker the
    caller already holds (``broker.used_for_run``); without it, ``broker.start`` finds or starts one."""
    from casetrail_tools import broker
    from casetrail.topic_admin import apply_topics
    from casetrail.topics import ALL_TOPICS

    run_id = uuid.uuid4().hex[:6]
    prefix = f"{kind}-{run_id}."
    data_dir = data_dir or settings().data_dir / kind
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    bootstrap = bootstrap or broker.start(progress=progress)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap  # this process's clients and the children
    # broker.start() read (and cached) the settings before the address was known: with a broker on a
    # port of its own (CASETRAIL_BROKER_PORT) the cached default would send the topics elsewhere.
    kafka_settings.cache_clear()
    report = apply_topics(ALL_TOPICS, prefix=prefix)
    env = {"CASETRAIL_DATA_DIR": str(data_dir), "CASETRAIL_TOPIC_PREFIX": prefix, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    published = subprocess.run(
        [sys.executable, "-m", "casetrail.cli", "kb", "publish", str(REPO_ROOT / "knowledge" / SAMPLE_TENANT)],
        cwd=REPO_ROOT, env={**os.environ, **env}, check=True, capture_output=True, text=True,
    )
    return PreparedRun(run_id, prefix, data_dir, bootstrap, env, len(report.created),
                       published.stdout.strip().splitlines())


@dataclass
class ServiceHandle:
    name: str  # the handle's name: the service, or "<service>-<worker>" when it runs several workers
    port: int
    log_path: Path
    process: Optional[subprocess.Popen] = None
    restarts: int = 0
    service: str = ""
    worker_id: str = "w0"

    def __post_init__(self):
        self.service = self.service or self.name

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log yet)"


@dataclass
class Pipeline:
    """All (or some) services under ``prefix``; ports are the defaults plus ``port_offset``.

    With ``workers`` > 1 each service runs that many worker processes (handles
    ``<service>-<i>``, worker ids ``w<i>``, ports ``WORKER_PORT_STRIDE`` apart) in one
    consumer group: Kafka spreads the partitions over them.
    """

    prefix: str
    log_dir: Path
    services: tuple[str, ...] = SERVICES
    port_offset: int = 0
    env: dict[str, str] = field(default_factory=dict)
    handles: dict[str, ServiceHandle] = field(default_factory=dict)
    workers: int = 1

    def __post_init__(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.services:
            for index in range(1 if name in SINGLE_WORKER else self.workers):
                key = name if self.workers == 1 or name in SINGLE_WORKER else f"{name}-{index}"
                self.handles[key] = ServiceHandle(key, DEFAULT_PORTS[name] + self.port_offset + index * WORKER_PORT_STRIDE,
                                                  self.log_dir / f"{key}.log", service=name, worker_id=f"w{index}")

    def add_worker(self, service: str) -> str:
        """One more worker of ``service`` in its consumer group (a pod joining: a scale-up, a rolling
        upgrade's new pod); not started yet. Returns its handle's name."""
        if service in SINGLE_WORKER:
            raise ValueError(f"{service} runs one worker only")
        index = sum(1 for handle in self.handles.values() if handle.service == service)
        key = f"{service}-{index}"
        self.handles[key] = ServiceHandle(key, DEFAULT_PORTS[service] + self.port_offset + index * WORKER_PORT_STRIDE,
                                          self.log_dir / f"{key}.log", service=service, worker_id=f"w{index}")
        return key

    def _env(self, handle: ServiceHandle) -> dict[str, str]:
        return {
            **os.environ,
            "CASETRAIL_TOPIC_PREFIX": self.prefix,
            "CASETRAIL_HTTP_PORT": str(handle.port),
            "CASETRAIL_CREATE_TOPICS": "false",  # the harness applies topics once, up front
            "CASETRAIL_WORKER_ID": handle.worker_id,  # distinct transactional ids within a service
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    def start_service(self, name: str) -> None:
        handle = self.handles[name]
        log = open(handle.log_path, "ab")
        handle.process = subprocess.Popen(
            [sys.executable, "-m", "casetrail.cli", "run", handle.service], cwd=REPO_ROOT, env=self._env(handle),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def start(self) -> None:
        for name in self.handles:
            self.start_service(name)

    def ready(self, name: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.handles[name].port}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def readiness_detail(self, name: str) -> str:
        """What ``/readyz`` says (e.g. ``no partitions assigned``), or why it did not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.handles[name].port}/readyz", timeout=2) as response:
                return response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as refused:
            return f"{refused.code} {refused.read().decode('utf-8', 'replace')}"
        except OSError as exc:
            return f"no answer: {exc}"

    def dump_stacks(self, names) -> None:
        """Ask stuck services for every thread's stack (``faulthandler`` on SIGUSR1, into their logs)."""
        for name in names:
            handle = self.handles[name]
            if handle.alive():
                handle.process.send_signal(signal.SIGUSR1)
        time.sleep(1.0)

    def wait_ready(self, timeout: float = 180.0, progress: Callable[[str], None] = lambda _: None,
                   names: Optional[tuple[str, ...]] = None) -> float:
        started = time.monotonic()
        waiting = set(names or self.handles)
        while waiting:
            for name in sorted(waiting):
                handle = self.handles[name]
                if not handle.alive():
                    raise RuntimeError(f"{name} exited with code {handle.process.returncode}:\n{handle.log_tail()}")
                if self.ready(name):
                    waiting.discard(name)
                    progress(f"  {name:9} ready on :{handle.port} ({time.monotonic() - started:.1f}s)")
            if waiting and time.monotonic() - started > timeout:
                said = {n: self.readiness_detail(n) for n in waiting}
                self.dump_stacks(waiting)
                details = "\n".join(f"--- {n} (/readyz: {said[n]}) ---\n{self.handles[n].log_tail(6000)}"
                                    for n in sorted(waiting))
                raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(sorted(waiting))}\n{details}")
            if waiting:
                time.sleep(0.5)
        return time.monotonic() - started

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each live service has used so far, its workers added up (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, handle in self.handles.items():
            if not handle.alive():
                continue
            try:
                with open(f"/proc/{handle.process.pid}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                used[handle.service] = round(used.get(handle.service, 0.0) + (int(fields[11]) + int(fields[12])) / ticks, 1)
            except (OSError, IndexError, ValueError):
                continue
        return used

    def kill(self, name: str) -> None:
        """SIGKILL the service's process group: a crash, no graceful shutdown."""
        handle = self.handles[name]
        if handle.alive():
            os.killpg(handle.process.pid, signal.SIGKILL)
            handle.process.wait(15)

    def restart(self, name: str) -> None:
        self.kill(name)
        self.handles[name].restarts += 1
        self.start_service(name)

    def stop(self, timeout: float = 30.0) -> dict[str, int]:
        """SIGTERM everyone, wait for graceful exits, SIGKILL stragglers; return exit codes."""
        for handle in self.handles.values():
            if handle.alive():
                handle.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes = {}
        for name, handle in self.handles.items():
            if handle.process is None:
                continue
            try:
                codes[name] = handle.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(handle.process.pid, signal.SIGKILL)
                codes[name] = handle.process.wait(10)
        return codes
