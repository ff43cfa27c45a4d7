"""Start casetrail services as real processes for integration and end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]



def free_port() -> int:
    """A TCP port nothing listens on now (fixed ports collide with other worktrees' runs on the machine)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """A service in its own process; logs go to a file the test can show on failure."""

    def __init__(self, argv: list[str], *, prefix: str, port: int, log_dir: Path, name: str,
                 env: Optional[dict[str, str]] = None):
        self.argv, self.port, self.name = argv, port, name
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ, "CASETRAIL_TOPIC_PREFIX": prefix, "CASETRAIL_HTTP_PORT": str(port),
            "CASETRAIL_LOG_LEVEL": os.environ.get("CASETRAIL_TEST_LOG_LEVEL", "WARNING"), **(env or {}),
        }
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "ServiceProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{self.name} not ready within {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no final commit — a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def service_process(service: str, **kwargs) -> ServiceProcess:
    return ServiceProcess([sys.executable, "-m", "casetrail.cli", "run", service], name=service, **kwargs)


def module_process(module: str, name: str, **kwargs) -> ServiceProcess:
    return ServiceProcess([sys.executable, "-m", module], name=name, **kwargs)
