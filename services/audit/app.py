"""Kafka wiring of the audit service: the consumer of every event topic, replay, erasure events.

Why a dedicated confluent-kafka consumer instead of one runtime processor per
topic: audit reads *every* topic, never produces derived events, and stores
in batches (one transaction and one rechain per batch, which is what makes it
keep up with the whole pipeline), then commits the batch's offsets — the same
at-least-once contract as the runtime (store first, commit after), with
deduplication by event id making redelivery harmless.

``svc`` is what ``casetrail run audit`` starts: the consumer in a background
thread and the query API (uvicorn) in the foreground; SIGTERM stops both
(the consumer finishes and commits its current batch).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Optional

import uvicorn

from casetrail.settings import settings
from services.audit.consumer import AuditConsumer
from services.audit.store import AuditStore

log = logging.getLogger("casetrail.audit")


class GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its own shutdown, which would kill the process
    before the consumer stops and the store closes; here SIGTERM only asks it to exit."""

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


class AuditService:
    """``casetrail run audit``: the consumer plus the query API in one process."""

    name = "audit"

    def run(self, loglevel: Optional[str] = None) -> None:
        from casetrail.runtime.service import DEFAULT_PORTS
        from casetrail.runtime.structured_logging import configure_logging
        from services.audit.api import create_app
        from services.audit.config import load_config
        from services.audit.reports import citation_checker

        config = settings()
        configure_logging("audit", (loglevel or config.log_level).upper())
        if config.create_topics:  # as every runtime service does; off where operators own topics
            from casetrail.topic_admin import apply_topics
            from casetrail.topics import ALL_TOPICS

            for line in apply_topics(ALL_TOPICS).drift:
                log.warning("topic drift", extra={"drift": line})
        store = AuditStore()
        store.migrate()
        consumer = AuditConsumer(store)
        failure: list[BaseException] = []
        server: Optional[GracefulServer] = None

        def consume() -> None:
            # A consumer that died must take the process with it: an API left serving
            # without one would look alive while the audit log silently stops growing.
            try:
                consumer.run()
            except BaseException as exc:  # noqa: BLE001 - recorded, logged, and turned into the exit code
                failure.append(exc)
                log.critical("audit consumer stopped on an error; exiting", exc_info=True)
                if server is not None:
                    server.should_exit = True

        thread = threading.Thread(target=consume, name="audit-consumer", daemon=True)
        thread.start()
        try:
            from casetrail.privacy.keystore import default_keystore

            keystore = default_keystore()
        except Exception:  # the API still serves lineage; originals show as unavailable
            log.warning("no key store available: originals will not be decrypted")
            keystore = None
        api = create_app(store, load_config(), keystore, citation_check_factory=lambda t: citation_checker(store, t))
        api.state.ready = lambda: thread.is_alive() and consumer.assigned.is_set()
        port = config.http_port or DEFAULT_PORTS["audit"]
        server = GracefulServer(uvicorn.Config(api, host=config.http_host, port=port, log_level="warning"))
        if failure:  # died before the server existed
            server.should_exit = True
        try:
            server.run()
        finally:
            consumer.stop()
            thread.join(timeout=30)
            store.close()
        if failure:
            raise SystemExit(1)


svc = AuditService()

__all__ = ["AuditService", "svc"]
