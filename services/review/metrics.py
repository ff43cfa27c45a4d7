"""Review console metrics. Labels are tenants, queues (teams), categories, locales, actions and
routes: never ticket text, customer ids or agent names."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_DEPTH = Gauge("casetrail_review_queue_depth", "Open cases awaiting a human", ["tenant", "queue"])
QUEUE_OLDEST_AGE = Gauge(
    "casetrail_review_queue_oldest_age_seconds", "Age of the oldest open case in the queue", ["tenant", "queue"]
)
QUEUE_NEXT_DUE = Gauge(
    "casetrail_review_queue_next_sla_due_seconds",
    "Seconds until the earliest SLA due time of an open case in the queue (negative: breached)",
    ["tenant", "queue"],
)
ACTIONS = Counter(
    "casetrail_review_actions_total", "Agent actions on drafts", ["tenant", "category", "locale", "action"]
)
TIME_TO_ACTION = Histogram(
    "casetrail_review_time_to_action_seconds",
    "From the case reaching the queue to the agent's approve / edit / reject",
    ["tenant", "action"],
    buckets=(10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600),
)
EDITS_REFUSED = Counter(
    "casetrail_review_edits_refused_total", "Edited drafts the verifier refused (shown to the agent, not sent)",
    ["tenant", "check"],
)
REVEALS = Counter("casetrail_review_reveals_total", "Sealed originals revealed (audited)", ["tenant", "role"])
LOGINS = Counter("casetrail_review_logins_total", "Console sign-ins", ["method", "outcome"])
PAGE_SECONDS = Histogram(
    "casetrail_review_page_seconds", "Server time to render a console page", ["page"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
EXAMPLES = Counter(
    "casetrail_review_examples_written_total", "Labelled evaluation examples written from corrections",
    ["tenant", "locale", "label"],
)
RECORDS = Counter("casetrail_review_records_total", "Records the projection read", ["outcome"])
