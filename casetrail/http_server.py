"""uvicorn for the services that serve HTTP beside a consumer thread of their own (audit, review).

uvicorn re-raises SIGTERM after its own shutdown, which would kill the process
before the consumer stops and commits; here SIGTERM only asks it to exit.
``serve_beside_consumer`` is the process both run: the consumer in a
background thread, the web app in the foreground, readiness from both, and a
consumer that dies takes the process with it (a web app left serving without
its consumer would look alive while its store silently stops growing).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any, Callable, Optional, Protocol

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


class BackgroundConsumer(Protocol):
    assigned: threading.Event  # set once the group gave the consumer its partitions

    def run(self) -> Any: ...

    def stop(self) -> None: ...


def serve_beside_consumer(name: str, consumer: BackgroundConsumer, app: Any,
                          server_for: Callable[[Any], GracefulServer], log: logging.Logger) -> None:
    """Run ``consumer`` in a thread and ``app`` (served by ``server_for(app)``) until SIGTERM.

    ``app.state.ready`` answers whether the consumer is alive and has its partitions. When the
    consumer stops on an error the server is asked to exit and this raises ``SystemExit(1)``;
    on SIGTERM the consumer finishes its batch and stops before this returns.
    """
    failure: list[BaseException] = []
    server: Optional[GracefulServer] = None

    def consume() -> None:
        try:
            consumer.run()
        except BaseException as exc:  # noqa: BLE001 - recorded, logged, and turned into the exit code
            failure.append(exc)
            log.critical("%s consumer stopped on an error; exiting", name, exc_info=True)
            if server is not None:
                server.should_exit = True

    thread = threading.Thread(target=consume, name=f"{name}-consumer", daemon=True)
    thread.start()
    app.state.ready = lambda: thread.is_alive() and consumer.assigned.is_set()
    server = server_for(app)
    if failure:  # died before the server existed
        server.should_exit = True
    try:
        server.run()
    finally:
        consumer.stop()
        thread.join(timeout=30)
    if failure:
        raise SystemExit(1)
