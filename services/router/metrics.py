"""Router metrics (``casetrail_router_*``). Labels are modes, actions, queue and
rule names from tenant configuration, SLA kinds and reason codes: never ticket
text, customer ids or agent ids.

What a decision, a send, a feedback or an SLA tick made visible (decisions, rules fired, automation,
first response, sends, suppressed duplicates, feedback, SLA events) is counted once its transaction
committed (``svc.after_commit``): an aborted batch handled again, or a zombie's refused tick, counts
nothing. Work done (decision time, rule errors) and the open-timer gauge are observed where they happen."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DECISIONS = Counter(
    "casetrail_router_decisions_total", "Routing decisions", ["tenant", "mode", "action", "queue"]
)
RULES_FIRED = Counter("casetrail_router_rules_fired_total", "Escalation rules that decided a case", ["tenant", "rule"])
RULE_ERRORS = Counter(
    "casetrail_router_rule_errors_total", "Routing rules that failed to evaluate (treated as no match)", ["tenant", "rule"]
)
DECISION_SECONDS = Histogram(
    "casetrail_router_decision_seconds",
    "Time to compute one routing decision (pure logic, no I/O)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
SLA_EVENTS = Counter("casetrail_router_sla_events_total", "SLA events emitted", ["tenant", "kind"])
SLA_AT_RISK = Counter("casetrail_router_sla_at_risk_total", "SLA timers that reached their at-risk fraction", ["tenant"])
SLA_BREACHED = Counter("casetrail_router_sla_breached_total", "SLA timers that reached their due time unanswered", ["tenant"])
SLA_OPEN_TIMERS = Gauge("casetrail_router_sla_open_timers", "SLA timers currently running on this worker")
SENDS = Counter("casetrail_router_sends_total", "Replies produced to the outbound topic", ["tenant", "kind", "sent_by"])
DUPLICATE_SENDS_SUPPRESSED = Counter(
    "casetrail_router_duplicate_sends_suppressed_total",
    "Replies not sent again because their idempotency key was already sent",
    ["tenant"],
)
FEEDBACK = Counter("casetrail_router_feedback_total", "Agent feedback consumed", ["tenant", "action", "outcome"])
FIRST_RESPONSE_SECONDS = Histogram(
    "casetrail_router_first_response_seconds",
    "First response: intake (conversation received) to a reply queued or a human notified",
    ["tenant", "outcome"],  # outcome: sent | human_notified | acknowledged | none
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 12.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
AUTOMATION = Counter(
    "casetrail_router_automation_total",
    "Routing decisions per category and locale, automated (sent without a human) or not",
    ["tenant", "category", "locale", "automated"],
)
