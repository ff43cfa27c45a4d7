"""The verifier's own Prometheus metrics (labels: tenant, check name, verdict,
category, locale — never text or personal data)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

VERDICTS = Counter(
    "casetrail_verifier_verdicts_total", "Drafts verified, by verdict", ["tenant", "verdict", "category", "locale"]
)
CHECK_FAILURES = Counter(
    "casetrail_verifier_check_failures_total",
    "Verifier check failures by check name (a draft can fail several)",
    ["tenant", "check", "severity"],
)
VERIFY_SECONDS = Histogram(
    "casetrail_verifier_verify_seconds",
    "Time to run every check on one draft",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
CHECK_SECONDS = Histogram(
    "casetrail_verifier_check_seconds",
    "Time spent in one check",
    ["check"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025),
)


def record_work(report, seconds: float) -> None:
    """Time spent verifying one draft (work done: observed whether or not its verdict commits)."""
    for timed in report.timings:
        CHECK_SECONDS.labels(timed.result.name).observe(timed.seconds)
    VERIFY_SECONDS.observe(seconds)


def record_verdict(tenant: str, category: str, locale: str, report) -> None:
    """The verdict a DraftVerified event carries: counted once it committed (``ctx.after_commit``), so a
    batch aborted and verified again counts its verdicts once."""
    verification = report.verification
    VERDICTS.labels(tenant, verification.verdict.value, category, locale).inc()
    for check in verification.failed_checks:
        CHECK_FAILURES.labels(tenant, check.name, check.severity).inc()
