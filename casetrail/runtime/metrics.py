"""Metrics every service exports on ``/metrics`` (service-specific ones live in
``services/<name>/metrics.py``). Labels are topic names, reason codes and
service names only: never ticket text or personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

EVENTS_IN = Counter("casetrail_events_in_total", "Records consumed", ["service", "topic"])
EVENTS_OUT = Counter("casetrail_events_out_total",
                     "Records produced in transactions that committed (counted once, after the commit)",
                     ["service", "topic"])
EVENTS_FAILED = Counter(
    "casetrail_events_failed_total", "Records whose processing failed (dead-lettered or retried)", ["service", "topic", "reason"]
)
DEAD_LETTERED = Counter(
    "casetrail_events_dead_lettered_total", "Records sent to the dead-letter topic", ["service", "topic", "reason"]
)
RETRIES = Counter("casetrail_processing_retries_total", "Transient failures retried with back-off", ["service", "topic"])
PROCESSING_SECONDS = Histogram(
    "casetrail_processing_seconds",
    "Time from consuming a record to the broker acknowledging its outputs",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge(
    "casetrail_consumer_lag", "Records behind the partition's high watermark", ["service", "topic", "partition"]
)
SERVICE_INFO = Info("casetrail_service", "Service name and version")
TICKS_FENCED = Counter(
    "casetrail_timer_ticks_fenced_total",
    "Timer ticks the broker refused because the worker's group generation was stale (a zombie's tick)",
    ["service"],
)
