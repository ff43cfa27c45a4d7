"""uvicorn for the services that serve HTTP beside a consumer thread of their own (audit, review).

uvicorn re-raises SIGTERM after its own shutdown, which would kill the process
before the consumer stops and commits; here SIGTERM only asks it to exit.
"""

from __future__ import annotations

import contextlib
import signal

import uvicorn


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        def request_exit(signum, frame):  # noqa: ARG001 - signal handler signature
            self.should_exit = True

        previous = {sig: signal.signal(sig, request_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
