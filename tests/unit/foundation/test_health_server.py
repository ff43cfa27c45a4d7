"""The health server answers the three probes and nothing else (no table endpoints)."""

import json
import socket
import urllib.error
import urllib.request

import pytest

from casetrail.runtime.health import HealthServer


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_probes_metrics_and_nothing_else():
    port = _port()
    state = {"ready": (False, "restoring tables")}
    server = HealthServer("127.0.0.1", port, "probe", "1", lambda: state["ready"], lambda: (True, "ok"))
    server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
        assert not_ready.value.code == 503
        assert json.loads(not_ready.value.read()) == {"ready": False, "detail": "restoring tables"}
        state["ready"] = (True, "ok")
        assert urllib.request.urlopen(f"{base}/readyz", timeout=5).status == 200
        assert json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=5).read())["status"] == "ok"
        assert b"casetrail_events_in_total" in urllib.request.urlopen(f"{base}/metrics", timeout=5).read()
        for path in ("/table/conversations", "/router/", "/"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{base}{path}", timeout=5)
            assert missing.value.code == 404
    finally:
        server.stop()
