"""Delivery metrics (``casetrail_delivery_*``). Labels are platform names, effect kinds,
outcomes, result classes and tenant names from configuration: never ticket text, ticket
ids, customer or agent ids (``sent_by`` is ``bot`` or ``agent``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EFFECTS = Counter(
    "casetrail_delivery_effects_total",
    "Platform effects by outcome: delivered, recovered (found after a crash, not posted again), failed,"
    " suppressed, parked, duplicate (already delivered: redelivered or replayed record)",
    ["tenant", "platform", "effect", "outcome"],
)
ATTEMPTS = Counter(
    "casetrail_delivery_attempts_total", "Platform calls by result: ok, rate_limited, transient, permanent",
    ["platform", "result"],
)
LATENCY = Histogram(
    "casetrail_delivery_latency_seconds",
    "From the decision / reply event to the platform's acceptance (2xx / SMTP 250)",
    ["platform", "effect"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
ANSWERS_DELIVERED = Counter(
    "casetrail_delivery_answers_delivered_total",
    "Answers (not acknowledgements) the customer could see, by who sent them: what deflection counts",
    ["tenant", "sent_by"],
)
LANE_COOLING = Gauge(
    "casetrail_delivery_lane_cooling_seconds", "Seconds a tenant's platform lane still cools down (429 / breaker)",
    ["tenant", "platform"],
)
LOOKUPS = Counter("casetrail_delivery_lookups_total", "Check-before-post lookups by result (found / absent)",
                  ["platform", "result"])
