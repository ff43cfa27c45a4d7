"""``casetrail bench review``: console page render times with N open cases in the projection.

The store is filled through the real projection (synthetic verified drafts and
review decisions encoded as Avro and folded, as the consumer would), then the
real web application is served by uvicorn on 127.0.0.1 and a signed-in client
requests the queue (first page, filtered pages, deep pages) and case pages over
HTTP. Figures: p50/p95/p99 of the full request (server render + loopback).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable


def _percentiles(values: list[float]) -> dict:
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    return {"p50_ms": round(pick(0.5) * 1000, 2), "p95_ms": round(pick(0.95) * 1000, 2),
            "p99_ms": round(pick(0.99) * 1000, 2), "mean_ms": round(statistics.fmean(values) * 1000, 2),
            "requests": len(values)}


def run_bench(cases: int = 10_000, requests: int = 400, port: int = 18971,
              echo: Callable[[str], None] = print) -> dict:
    import httpx
    import uvicorn

    from casetrail.codec import AvroCodec
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings
    from services.review.auth import hash_password
    from services.review.config import Account, ReviewConfig
    from services.review.offline.synthetic import synthetic_events
    from services.review.projection import Projector
    from services.review.store import ReviewStore
    from services.review.web import create_app

    scratch = tempfile.TemporaryDirectory(prefix="casetrail-bench-review-")
    store = ReviewStore(Path(scratch.name) / "review.sqlite3")
    codec = AvroCodec()
    projector = Projector(store, codec, None)
    now = dt.datetime.now(dt.timezone.utc)
    started = time.perf_counter()
    batch: list[bytes] = []
    for event in synthetic_events(cases, now=now):
        batch.append(codec.encode(event))
        if len(batch) >= 2000:
            projector.apply(batch)
            batch = []
    projector.apply(batch)
    fill_seconds = time.perf_counter() - started
    open_cases = store.queue("acme-shop", limit=1)[1]
    echo(f"projection: {open_cases} open cases folded in {fill_seconds:.1f}s")

    class NoPublisher:
        def publish(self, event):
            raise RuntimeError("the benchmark only reads")

    config = ReviewConfig(accounts=[Account(username="bench", tenant="acme-shop", role="agent",
                                            password_hash=hash_password("bench-password"))], secure_cookies=False)
    app = create_app(store, config, publisher=NoPublisher(), projector=projector,
                     policies=load_policies(settings().tenants_dir))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(3)
    timings: dict[str, list[float]] = {"queue_first_page": [], "queue_filtered": [], "queue_deep_page": [], "case": []}
    ids = [f"synthetic-acme-shop-{n:06d}" for n in range(cases)]
    try:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"csrf_token": token, "username": "bench", "password": "bench-password",
                                        "next": "/queue"})
            assert client.get("/queue").status_code == 200, "sign-in failed"
            targets = {
                "queue_first_page": lambda: "/queue",
                "queue_filtered": lambda: rng.choice(["/queue?queue=payments-team", "/queue?locale=de",
                                                      "/queue?category=billing&locale=lt"]),
                "queue_deep_page": lambda: f"/queue?page={rng.randint(2, max(2, open_cases // 50))}",
                "case": lambda: f"/cases/{rng.choice(ids)}",
            }
            for name, target in targets.items():
                for _ in range(20):  # warm caches and templates first
                    client.get(target())
                for _ in range(requests):
                    path = target()
                    t0 = time.perf_counter()
                    response = client.get(path)
                    timings[name].append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
        scratch.cleanup()
    figures = {name: _percentiles(values) for name, values in timings.items()}
    every_page = [v for values in timings.values() for v in values]
    return {"open_cases": open_cases, "fill_seconds": round(fill_seconds, 1), "all_pages": _percentiles(every_page),
            **figures}
