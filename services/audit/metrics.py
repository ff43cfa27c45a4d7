"""Audit-specific Prometheus metrics. Labels are stages, reasons, endpoints and status codes only."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS_STORED = Counter("casetrail_audit_records_stored_total", "Events stored in the audit projection", ["stage"])
RECORDS_SKIPPED = Counter(
    "casetrail_audit_records_skipped_total", "Records the audit consumer could not store (they stay in the log)", ["reason"]
)
COMMIT_FAILURES = Counter(
    "casetrail_audit_commit_failures_total", "Offset commits the broker refused for a passing reason (retried)", ["error"]
)
BATCH_SECONDS = Histogram(
    "casetrail_audit_batch_seconds", "Time to store and rechain one consumed batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
API_REQUESTS = Counter("casetrail_audit_api_requests_total", "Query API requests", ["endpoint", "status"])
LINEAGE_SECONDS = Histogram(
    "casetrail_audit_lineage_query_seconds", "Time to assemble one lineage from the store",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
ERASURES = Counter("casetrail_audit_erasures_total", "Customer keys destroyed (crypto-shredding) through audit")
VERIFY_PROBLEMS = Gauge("casetrail_audit_verify_problems", "Problems found by the last integrity verification")
