"""The audit service as ``casetrail run audit`` starts it (``svc``): the live consumer in a
background thread and the query API (uvicorn) in the foreground; SIGTERM stops both (the
consumer finishes and commits its current batch).
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

from casetrail.http_server import GracefulServer
from casetrail.settings import settings
from services.audit.consumer import AuditConsumer
from services.audit.server import http_server, query_api
from services.audit.store import AuditStore

log = logging.getLogger("casetrail.audit")


class AuditService:
    """``casetrail run audit``: the consumer plus the query API in one process."""

    name = "audit"

    def run(self, loglevel: Optional[str] = None) -> None:
        from casetrail.runtime.structured_logging import configure_logging

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
        api = query_api(store)
        api.state.ready = lambda: thread.is_alive() and consumer.assigned.is_set()
        server = http_server(api, config)
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
