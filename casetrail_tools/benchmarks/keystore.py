"""``casetrail bench keystore``: seal and open throughput of the key store, per backend, one thread.

What a record costs in the key store: the webhook bridge seals every intake payload, ingest opens it
and seals the original, a dead letter is sealed before it is written. Wall-clock time (the database
round trip is the cost), one thread, a fresh store per backend; customers reused as real traffic does
(a new customer's first seal also creates the key).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Optional


@contextlib.contextmanager
def _postgres(url: Optional[str], progress: Callable[[str], None]) -> Iterator[Optional[str]]:
    """``url`` as given, else a throw-away server from the ``pgserver`` package (a test dependency)."""
    if url:
        yield url
        return
    try:
        import pgserver
    except ImportError:
        progress("no --postgres-url and no pgserver package: PostgreSQL skipped")
        yield None
        return
    scratch = Path(tempfile.mkdtemp(prefix="casetrail-bench-pg-"))
    server = pgserver.get_server(str(scratch), cleanup_mode="stop")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def _measure(location: str, seals: int, customers: int, payload: bytes) -> dict:
    from casetrail.privacy.keystore import KeyStore

    store = KeyStore(location, master_key=bytes(range(32)))
    for i in range(customers):  # keys exist already: the steady state
        store.seal_bytes("bench", f"customer-{i}", payload)
    started = time.perf_counter()
    sealed = [store.seal_bytes("bench", f"customer-{i % customers}", payload) for i in range(seals)]
    seal_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for item in sealed:
        store.open_bytes(item)
    open_seconds = time.perf_counter() - started
    started = time.perf_counter()
    erase_count = min(200, customers)
    for i in range(erase_count):
        store.erase("bench", f"customer-{i}")
    erase_seconds = time.perf_counter() - started
    store.close()
    return {"seal_per_s": round(seals / seal_seconds, 1), "seal_ms": round(seal_seconds / seals * 1000, 3),
            "open_per_s": round(seals / open_seconds, 1), "open_ms": round(open_seconds / seals * 1000, 3),
            "erase_ms": round(erase_seconds / erase_count * 1000, 2)}


def run_keystore_benchmark(seals: int, customers: int, postgres_url: Optional[str] = None,
                           progress: Callable[[str], None] = lambda line: None) -> dict:
    payload = b"x" * 2048  # a typical intake payload's size
    result: dict = {"benchmark": "keystore", "seals": seals, "customers": customers, "payload_bytes": len(payload),
                    "master_key": True}
    with tempfile.TemporaryDirectory() as folder:
        progress(f"SQLite: {seals:,} seals and opens ...")
        result["sqlite"] = _measure(str(Path(folder) / "keys.sqlite"), seals, customers, payload)
    with _postgres(postgres_url, progress) as url:
        if url is not None:
            progress(f"PostgreSQL: {seals:,} seals and opens ...")
            result["postgresql"] = _measure(url, seals, customers, payload)
    return result
