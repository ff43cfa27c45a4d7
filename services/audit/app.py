"""The audit service as ``casetrail run audit`` starts it (``svc``): the live consumer in a
background thread and the query API (uvicorn) in the foreground; SIGTERM stops both (the
consumer finishes and commits its current batch).
"""

from __future__ import annotations

import logging
from typing import Optional

from casetrail.http_server import serve_beside_consumer
from services.audit.consumer import AuditConsumer
from services.audit.server import http_server, query_api
from services.audit.settings import AuditSettings
from services.audit.store import AuditStore
from services.audit.store.database import default_url

log = logging.getLogger("casetrail.audit")


class AuditService:
    """``casetrail run audit``: the consumer plus the query API in one process."""

    name = "audit"

    def run(self, loglevel: Optional[str] = None) -> None:
        from casetrail.runtime.structured_logging import configure_logging

        config = AuditSettings()
        configure_logging("audit", (loglevel or config.log_level).upper())
        if config.create_topics:  # as every runtime service does; off where operators own topics
            from casetrail.topic_admin import apply_topics
            from casetrail.topics import ALL_TOPICS

            for line in apply_topics(ALL_TOPICS).drift:
                log.warning("topic drift", extra={"drift": line})
        store = AuditStore(default_url(config))
        store.migrate()
        try:
            serve_beside_consumer("audit", AuditConsumer(store), query_api(store, config),
                                  lambda api: http_server(api, config), log)
        finally:
            store.close()


svc = AuditService()

__all__ = ["AuditService", "svc"]
