"""Run several service processes with prefixed output; stop them all cleanly."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

_COLOURS = itertools.cycle(["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m"])
_RESET = "\033[0m"


class ProcessGroup:
    def __init__(self, stop_timeout: float = 20.0, colour: Optional[bool] = None):
        self._procs: dict[str, subprocess.Popen] = {}
        self._threads: list[threading.Thread] = []
        self._stop_timeout = stop_timeout
        self._colour = sys.stdout.isatty() if colour is None else colour
        self._stopping = threading.Event()

    def start(self, name: str, argv: list[str], env: Optional[dict[str, str]] = None) -> subprocess.Popen:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
        self._procs[name] = process
        prefix = f"{next(_COLOURS)}{name:>9} |{_RESET} " if self._colour else f"{name:>9} | "
        thread = threading.Thread(target=self._pump, args=(process, prefix), daemon=True)
        thread.start()
        self._threads.append(thread)
        return process

    @staticmethod
    def _pump(process: subprocess.Popen, prefix: str) -> None:
        for raw in iter(process.stdout.readline, b""):
            sys.stdout.write(prefix + raw.decode("utf-8", "replace"))
            sys.stdout.flush()

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self._procs.items()}

    def stop(self) -> int:
        """SIGTERM everyone (graceful), then SIGKILL stragglers; return the worst exit code."""
        self._stopping.set()
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for name, proc in self._procs.items():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within {self._stop_timeout:.0f}s: killing", file=sys.stderr)
                proc.kill()
                proc.wait()
        for thread in self._threads:
            thread.join(timeout=2)
        codes = [proc.returncode for proc in self._procs.values()]
        # -SIGTERM / 0 are clean stops
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1

    def wait_until_interrupted(self) -> int:
        stop = threading.Event()

        def request_stop(*_):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while not stop.is_set():
            exited = [name for name, proc in self._procs.items() if proc.poll() is not None]
            if exited:
                print(f"service(s) exited unexpectedly: {', '.join(exited)}; stopping the rest", file=sys.stderr)
                self.stop()
                return 1
            stop.wait(0.5)
        return self.stop()
