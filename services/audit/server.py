"""The query API's HTTP server: the FastAPI app over a store, served by uvicorn until SIGTERM.

Used by ``casetrail run audit`` (beside the consumer) and ``casetrail audit serve`` (alone).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Optional

import uvicorn

from casetrail.http_server import GracefulServer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from casetrail.settings import CasetrailSettings
    from services.audit.settings import AuditSettings
    from services.audit.store import AuditStore

log = logging.getLogger("casetrail.audit")


def query_api(store: AuditStore, settings: AuditSettings) -> FastAPI:
    """The API over ``store``: the audit config's tokens, the report's citation check, and the key
    store (to open originals for auditors) when there is one."""
    from services.audit.api import create_app
    from services.audit.config import load_config
    from services.audit.reports import citation_checker

    try:
        from casetrail.privacy.keystore import default_keystore

        keystore = default_keystore(settings)
        keystore.check()
    except Exception as exc:  # the API still serves lineage; originals show as unavailable
        log.warning("no key store available: originals will not be decrypted", extra={"error": str(exc)})
        keystore = None
    return create_app(store, load_config(settings=settings), keystore, citation_check_factory=lambda t: citation_checker(store, t))


def http_server(api: FastAPI, config: CasetrailSettings, *, host: Optional[str] = None, port: Optional[int] = None,
                log_level: str = "warning") -> GracefulServer:
    """A server for ``api`` on ``host``/``port``, else the settings' (audit's default port 8106)."""
    from casetrail.runtime.service import DEFAULT_PORTS

    return GracefulServer(uvicorn.Config(api, host=host or config.http_host,
                                         port=port or config.http_port or DEFAULT_PORTS["audit"], log_level=log_level))
