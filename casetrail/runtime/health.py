"""Each service's small HTTP server: ``/metrics``, ``/healthz`` and ``/readyz``, nothing else.

No table or state endpoints: what a service holds is read through the audit
service's authenticated API, never from a worker's port. The server runs in a
daemon thread so a busy event loop never delays a probe.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("casetrail.runtime")

Readiness = Callable[[], tuple[bool, str]]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A probe that gave up (its timeout) before the answer was written: nothing to report.
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class HealthServer:
    def __init__(self, host: str, port: int, service: str, version: str, readiness: Readiness,
                 liveness: Readiness):
        self._service, self._version = service, version
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._reply(200, generate_latest(), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    alive, detail = liveness()
                    self._json(200 if alive else 503, {"status": "ok" if alive else "stuck", "detail": detail,
                                                       "service": server._service, "version": server._version})
                elif path == "/readyz":
                    ready, detail = readiness()
                    self._json(200 if ready else 503, {"ready": ready, "detail": detail})
                else:
                    self._json(404, {"error": "not found"})

            def _json(self, status: int, body: dict) -> None:
                self._reply(status, json.dumps(body).encode(), "application/json")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # noqa: A002 - probes every few seconds are not news
                return

        self._httpd = _QuietServer((host, port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="casetrail-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
