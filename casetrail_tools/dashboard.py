"""The Grafana dashboard as code: its rows and panels (each with the PromQL behind it), the
dashboard JSON made from them, and the panel list ``deploy/README.md`` shows.

Written to the deploy folder by ``python -m casetrail_tools.deploy_resources write``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

DASHBOARD_UID = "casetrail-overview"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    queries: tuple[Query, ...]
    kind: str = "timeseries"  # timeseries | stat | table | bargauge
    unit: str = "short"
    width: int = 12
    height: int = 8
    thresholds: tuple[tuple[Optional[float], str], ...] = ()
    max: Optional[float] = None
    stacked: bool = False


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


RATE = "$__rate_interval"
T = 'tenant=~"$tenant"'

# Answers come from ingest's re-contact attribution: every answer (bot or agent, sent through
# casetrail or typed in the ticketing platform) is recorded with who gave it; a re-contact
# within 7 days is counted against whoever answered first.
# Deflection counts answers the customer could see: bot answers *delivered* to the ticketing
# platform (acknowledgements are not answers, and an answer that never arrived deflected nothing),
# over every answer: delivered ones (bot or agent via casetrail) plus those agents typed in the
# platform (ingest sees them come back; casetrail's own posts are recognised and not counted).
DEFLECTION = (
    'sum(increase(casetrail_delivery_answers_delivered_total{sent_by="bot"}[$window]))\n'
    "/ (sum(increase(casetrail_delivery_answers_delivered_total[$window]))\n"
    '   + sum(increase(casetrail_ingest_answers_recorded_total{via="source"}[$window])))'
)
RECONTACT_BOT = (
    'sum(increase(casetrail_ingest_recontacts_total{answered_by="bot"}[$window]))\n'
    '/ sum(increase(casetrail_ingest_answers_recorded_total{answered_by="bot"}[$window]))'
)
RECONTACT_ALL = (
    "sum(increase(casetrail_ingest_recontacts_total[$window]))\n"
    "/ sum(increase(casetrail_ingest_answers_recorded_total[$window]))"
)
HONEST_DEFLECTION = f"({DEFLECTION})\n* (1 - ({RECONTACT_BOT}))"
CITATION_COVERAGE = (
    f'1 - sum(increase(casetrail_verifier_check_failures_total{{check="citations_resolve", {T}}}[$window]))\n'
    f"/ sum(increase(casetrail_verifier_verdicts_total{{{T}}}[$window]))"
)
RATIO = ((None, "red"), (0.9, "orange"), (0.97, "green"))

ROWS: tuple[Row, ...] = (
    Row("Outcomes: deflection and re-contact", (
        Panel("Deflection rate", "Share of answers the customer received from casetrail (bot answers delivered to the "
              "platform; acknowledgements are not answers) rather than from an agent, over the window.",
              (Query(DEFLECTION, "deflection"),), kind="stat", unit="percentunit", width=6, max=1,
              thresholds=((None, "orange"), (0.3, "green"))),
        Panel("Re-contact rate within 7 days (bot answers)",
              "Share of bot answers after which the customer came back within 7 days (reopen or same topic).",
              (Query(RECONTACT_BOT, "re-contact after bot"),), kind="stat", unit="percentunit", width=6, max=1,
              thresholds=((None, "green"), (0.1, "orange"), (0.2, "red"))),
        Panel("Honest deflection", "Deflection × (1 − re-contact rate of bot answers): deflection that held.",
              (Query(HONEST_DEFLECTION, "honest deflection"),), kind="stat", unit="percentunit", width=6, max=1,
              thresholds=((None, "orange"), (0.25, "green"))),
        Panel("Citation coverage", "Share of verified drafts whose every citation resolves (goal: 100 %).",
              (Query(CITATION_COVERAGE, "citation coverage"),), kind="stat", unit="percentunit", width=6, max=1,
              thresholds=((None, "red"), (1, "green"))),
        Panel("Deflection and 7-day re-contact, side by side",
              "Both rates over the window, sampled through time: deflection that rises while re-contact "
              "rises too is not deflection.",
              (Query(DEFLECTION, "deflection"), Query(RECONTACT_BOT, "re-contact after bot answers"),
               Query(RECONTACT_ALL, "re-contact after any answer"), Query(HONEST_DEFLECTION, "honest deflection")),
              unit="percentunit", width=24, max=1),
        Panel("Re-contacts by kind and first answerer", "Re-contacts per second: reopened conversation or same topic.",
              (Query("sum by (kind, answered_by) (rate(casetrail_ingest_recontacts_total[$__rate_interval]))",
                     "{{kind}} after {{answered_by}}"),), unit="ops", stacked=True),
        Panel("Answers by who gave them and how casetrail saw them",
              "bot / agent answers, via the outbound replies topic or reported by the ticketing source.",
              (Query("sum by (answered_by, via) (rate(casetrail_ingest_answers_recorded_total[$__rate_interval]))",
                     "{{answered_by}} via {{via}}"),), unit="ops", stacked=True),
    )),
    Row("Delivery to the ticketing platforms", (
        Panel("Effects by platform and outcome",
              "Platform writes per second: delivered, recovered (found after a crash, not posted twice), parked "
              "(429 / 5xx, retried later), failed (dead-lettered), suppressed, duplicate (redelivery absorbed).",
              (Query(f"sum by (platform, outcome) (rate(casetrail_delivery_effects_total{{{T}}}[{RATE}]))",
                     "{{platform}} {{outcome}}"),), unit="ops", stacked=True),
        Panel("Delivery failure rate by platform", "Failed for good / all finished writes, per platform.",
              (Query(f'sum by (platform) (rate(casetrail_delivery_effects_total{{outcome="failed", {T}}}[{RATE}]))\n'
                     f'/ sum by (platform) (rate(casetrail_delivery_effects_total{{outcome=~"delivered|recovered|failed", {T}}}[{RATE}]))',
                     "{{platform}}"),), unit="percentunit", max=1),
        Panel("Decision to platform 2xx (p50 / p99)", "From the decision or reply event to the platform accepting it.",
              tuple(Query(f"histogram_quantile({q}, sum by (le, platform) (rate(casetrail_delivery_latency_seconds_bucket[{RATE}])))",
                          f"{{{{platform}}}} p{int(q * 100)}") for q in (0.5, 0.99)), unit="s"),
        Panel("Platform calls by result", "ok, rate_limited (429), transient (5xx, timeouts), permanent (4xx).",
              (Query(f"sum by (platform, result) (rate(casetrail_delivery_attempts_total[{RATE}]))",
                     "{{platform}} {{result}}"),), unit="ops", stacked=True),
        Panel("Lanes cooling down", "Seconds each tenant's platform lane still waits (Retry-After / circuit breaker).",
              (Query(f"max by (tenant, platform) (casetrail_delivery_lane_cooling_seconds{{{T}}})",
                     "{{tenant}} {{platform}}"),), unit="s"),
        Panel("Answers delivered by sender", "Answers the customer could see, by bot or agent (what deflection counts).",
              (Query(f"sum by (sent_by) (rate(casetrail_delivery_answers_delivered_total{{{T}}}[{RATE}]))",
                     "{{sent_by}}"),), unit="ops", stacked=True),
    )),
    Row("Automation", (
        Panel("Automation rate per category and locale",
              "Share of routing decisions sent without a human, per category and locale, over the window.",
              (Query(f'sum by (category, locale) (increase(casetrail_router_automation_total{{automated="true", {T}}}[$window]))\n'
                     f"/ sum by (category, locale) (increase(casetrail_router_automation_total{{{T}}}[$window]))",
                     "{{category}} / {{locale}}", instant=True),),
              kind="bargauge", unit="percentunit", max=1),
        Panel("First-response time (p50 / p90 / p99)",
              "Intake to a reply queued or a human notified (the seed's anchor: 12 s median).",
              tuple(Query(f"histogram_quantile({q}, sum by (le) (rate(casetrail_router_first_response_seconds_bucket{{{T}}}[{RATE}])))",
                          f"p{int(q * 100)}") for q in (0.5, 0.9, 0.99)),
              unit="s"),
        Panel("Automation rate by tenant and mode", "Share of routing decisions that sent the reply automatically.",
              (Query(f'sum by (tenant, mode) (rate(casetrail_router_decisions_total{{action="send", {T}}}[{RATE}]))\n'
                     f"/ sum by (tenant, mode) (rate(casetrail_router_decisions_total{{{T}}}[{RATE}]))",
                     "{{tenant}} {{mode}}"),), unit="percentunit", max=1),
        Panel("Routing decisions by action", "Decisions per second: send, review, escalate, shadow, acknowledge, drop.",
              (Query(f"sum by (action) (rate(casetrail_router_decisions_total{{{T}}}[{RATE}]))", "{{action}}"),),
              unit="ops", stacked=True),
        Panel("Verifier pass rate per category and locale",
              "Share of drafts the verifier passed, per category and locale, over the window.",
              (Query(f'sum by (category, locale) (increase(casetrail_verifier_verdicts_total{{verdict="passed", {T}}}[$window]))\n'
                     f"/ sum by (category, locale) (increase(casetrail_verifier_verdicts_total{{{T}}}[$window]))",
                     "{{category}} / {{locale}}", instant=True),),
              kind="bargauge", unit="percentunit", max=1, thresholds=RATIO),
        Panel("Conversations triaged by category", "Triage volume per second, by category (tenant filter applies).",
              (Query(f"sum by (category) (rate(casetrail_triage_conversations_total{{{T}}}[{RATE}]))", "{{category}}"),),
              unit="ops", stacked=True),
        Panel("Drafts by outcome and locale",
              "Drafter outcomes per second: drafted with citations, or no grounding (escalated instead).",
              (Query("sum by (outcome, locale) (rate(casetrail_drafter_drafts_total[$__rate_interval]))",
                     "{{outcome}} {{locale}}"),), unit="ops", stacked=True),
        Panel("Escalation rules that decided", "Escalation rules firing per second, by rule.",
              (Query(f"sum by (tenant, rule) (rate(casetrail_router_rules_fired_total{{{T}}}[{RATE}]))",
                     "{{tenant}} {{rule}}"),), unit="ops"),
    )),
    Row("Quality: verifier and citations", (
        Panel("Verifier failures by reason", "Failed checks per second, by check (a draft can fail several).",
              (Query(f"sum by (check) (rate(casetrail_verifier_check_failures_total{{{T}}}[{RATE}]))", "{{check}}"),),
              unit="ops", stacked=True),
        Panel("Verdicts", "Drafts verified per second, by verdict.",
              (Query(f"sum by (verdict) (rate(casetrail_verifier_verdicts_total{{{T}}}[{RATE}]))", "{{verdict}}"),),
              unit="ops", stacked=True),
        Panel("Citation coverage over time", "Share of verified drafts whose citations all resolve.",
              (Query(CITATION_COVERAGE, "citation coverage"),), unit="percentunit", max=1),
        Panel("Routing rule evaluation errors", "Rules that failed to evaluate (treated as no match): fix the tenant policy.",
              (Query(f"sum by (tenant, rule) (rate(casetrail_router_rule_errors_total{{{T}}}[{RATE}]))",
                     "{{tenant}} {{rule}}"),), unit="ops"),
    )),
    Row("SLA", (
        Panel("SLA at risk and breached", "SLA timers reaching their at-risk fraction and their due time, per second.",
              (Query(f"sum by (tenant) (rate(casetrail_router_sla_at_risk_total{{{T}}}[{RATE}]))", "at risk {{tenant}}"),
               Query(f"sum by (tenant) (rate(casetrail_router_sla_breached_total{{{T}}}[{RATE}]))", "breached {{tenant}}")),
              unit="ops"),
        Panel("SLA hit rate", "1 − breached / started SLA timers over the window.",
              (Query(f'1 - sum(increase(casetrail_router_sla_events_total{{kind="breached", {T}}}[$window]))\n'
                     f'/ sum(increase(casetrail_router_sla_events_total{{kind="started", {T}}}[$window]))', "SLA hit rate"),),
              kind="stat", unit="percentunit", width=6, max=1, thresholds=RATIO),
        Panel("Open SLA timers", "SLA timers currently running, summed over router workers.",
              (Query("sum(casetrail_router_sla_open_timers)", "open timers"),), kind="stat", width=6),
    )),
    Row("Pipeline health", (
        Panel("Dead-letter rate by service and reason", "Records sent to the dead-letter topic per second.",
              (Query("sum by (service, reason) (rate(casetrail_events_dead_lettered_total[$__rate_interval]))",
                     "{{service}} {{reason}}"),), unit="ops", stacked=True),
        Panel("Intake records rejected by reason", "Bad input dead-lettered by ingest, by source and reason.",
              (Query("sum by (source, reason) (rate(casetrail_ingest_rejected_total[$__rate_interval]))",
                     "{{source}} {{reason}}"),), unit="ops", stacked=True),
        Panel("Webhook bridge answers by source and status",
              "Webhook deliveries per second by HTTP answer: 202 taken in, 4xx refused for good (signature, "
              "payload), 503 not taken in (intake topic or key store away; the platform retries).",
              (Query("sum by (source, status) (rate(casetrail_ingest_webhook_requests_total[$__rate_interval]))",
                     "{{source}} {{status}}"),), unit="ops", stacked=True),
        Panel("Consumer lag per service", "Records behind the high watermark, summed over partitions.",
              (Query("sum by (service) (casetrail_consumer_lag)", "{{service}}"),), unit="short"),
        Panel("Processing latency per service (p50 / p95 / p99)",
              "Consume → outputs acknowledged by the broker, per record.",
              (Query("histogram_quantile(0.5, sum by (service, le) (rate(casetrail_processing_seconds_bucket[$__rate_interval])))",
                     "p50 {{service}}"),
               Query("histogram_quantile(0.95, sum by (service, le) (rate(casetrail_processing_seconds_bucket[$__rate_interval])))",
                     "p95 {{service}}"),
               Query("histogram_quantile(0.99, sum by (service, le) (rate(casetrail_processing_seconds_bucket[$__rate_interval])))",
                     "p99 {{service}}")),
              unit="s"),
        Panel("Throughput per service", "Records consumed and events produced per second.",
              (Query("sum by (service) (rate(casetrail_events_in_total[$__rate_interval]))", "in {{service}}"),
               Query("sum by (service) (rate(casetrail_events_out_total[$__rate_interval]))", "out {{service}}")),
              unit="ops"),
        Panel("Retries of transient failures", "Records retried with back-off (a dependency briefly away).",
              (Query("sum by (service) (rate(casetrail_processing_retries_total[$__rate_interval]))", "{{service}}"),),
              unit="ops"),
        Panel("Audit batch latency (p95), skipped records, refused commits",
              "Audit stores in batches with its own consumer: store-and-rechain time, records it could not store, "
              "and offset commits the broker refused for a passing reason (retried; expect a few around a broker restart).",
              (Query("histogram_quantile(0.95, sum by (le) (rate(casetrail_audit_batch_seconds_bucket[$__rate_interval])))",
                     "p95 batch"),
               Query("sum by (reason) (rate(casetrail_audit_records_skipped_total[$__rate_interval]))",
                     "skipped {{reason}}"),
               Query("sum by (error) (rate(casetrail_audit_commit_failures_total[$__rate_interval]))",
                     "commit refused {{error}}")),
              unit="short"),
        Panel("Targets up", "1 when Prometheus scraped the target, 0 when it failed.",
              (Query('up{job=~"casetrail-.+"}', "{{job}} {{instance}}"),), unit="short", max=1),
    )),
    Row("Review console: queues and agents' corrections", (
        Panel("Open cases per team", "Cases awaiting a human in the console, per queue (team).",
              (Query(f"sum by (queue) (casetrail_review_queue_depth{{{T}}})", "{{queue}}"),), unit="short", width=8),
        Panel("Oldest open case per team", "Age of the oldest case waiting in each queue.",
              (Query(f"max by (queue) (casetrail_review_queue_oldest_age_seconds{{{T}}})", "{{queue}}"),),
              unit="s", width=8),
        Panel("Time to the earliest SLA due time", "Seconds until the next open case's SLA is due (below 0: breached).",
              (Query(f"min by (queue) (casetrail_review_queue_next_sla_due_seconds{{{T}}})", "{{queue}}"),),
              unit="s", width=8),
        Panel("Time to approve (p50, p95)", "From the case reaching the queue to the agent's approve.",
              (Query("histogram_quantile(0.5, sum by (le) (rate(casetrail_review_time_to_action_seconds_bucket"
                     f'{{action="approve", {T}}}[$__rate_interval])))', "p50"),
               Query("histogram_quantile(0.95, sum by (le) (rate(casetrail_review_time_to_action_seconds_bucket"
                     f'{{action="approve", {T}}}[$__rate_interval])))', "p95")), unit="s", width=8),
        Panel("Approve / edit / reject rates per category", "Agents' verdicts on drafts, per category.",
              (Query(f'sum by (category, action) (rate(casetrail_review_actions_total{{action=~"approve|edit|reject", '
                     f"{T}}}[$__rate_interval]))", "{{category}} {{action}}"),), unit="ops", width=8),
        Panel("Approve / edit / reject rates per locale", "Agents' verdicts on drafts, per locale.",
              (Query(f'sum by (locale, action) (rate(casetrail_review_actions_total{{action=~"approve|edit|reject", '
                     f"{T}}}[$__rate_interval]))", "{{locale}} {{action}}"),
               Query(f"sum by (check) (rate(casetrail_review_edits_refused_total{{{T}}}[$__rate_interval]))",
                     "edit refused: {{check}}")), unit="ops", width=8),
    )),
)

# Panels the design asks for whose metrics no service exports yet (see deploy/README.md,
# "Pending panels"). Move a panel into ROWS once its metric exists; the test keeps it honest.
PENDING: tuple[tuple[str, str, str], ...] = ()


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    steps = [{"color": color, "value": value} for value, color in panel.thresholds] or [
        {"color": "green", "value": None}
    ]
    defaults: dict = {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if panel.max is not None:
        defaults["min"] = 0
        defaults["max"] = panel.max
    if panel.kind == "timeseries":
        defaults["custom"] = {"stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
                              "fillOpacity": 20 if panel.stacked else 0, "lineWidth": 1}
    options: dict = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    if panel.kind in ("stat", "bargauge"):
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                   "orientation": "horizontal"}
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "expr": query.expr,
                "legendFormat": query.legend,
                "instant": query.instant or panel.kind == "bargauge",
                "range": not (query.instant or panel.kind == "bargauge"),
            }
            for i, query in enumerate(panel.queries)
        ],
    }


def dashboard() -> dict:
    panels: list[dict] = []
    next_id = 1
    y = 0
    for row in ROWS:
        panels.append({"id": next_id, "type": "row", "title": row.title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        x = 0
        row_height = 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y, row_height = 0, y + row_height, 0
            panels.append(_panel_json(panel, next_id, x, y))
            next_id += 1
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return {
        "uid": DASHBOARD_UID,
        "title": "casetrail",
        "description": "casetrail outcomes (deflection, re-contact, citation coverage, SLA) and pipeline health. "
                       "Generated by casetrail_tools/deploy_resources.py; every panel's PromQL is listed in deploy/README.md.",
        "tags": ["casetrail", "kafka"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "timezone": "",
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0},
            {"name": "tenant", "label": "Tenant", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(casetrail_router_decisions_total, tenant)", "refId": "tenant"},
             "definition": "label_values(casetrail_router_decisions_total, tenant)",
             "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2, "current": {}, "hide": 0},
            {"name": "window", "label": "Window for rates and shares", "type": "custom",
             "query": "1d,7d,14d,30d", "current": {"text": "7d", "value": "7d"},
             "options": [{"text": w, "value": w, "selected": w == "7d"} for w in ("1d", "7d", "14d", "30d")],
             "hide": 0},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def dashboard_queries(board: dict) -> list[tuple[str, str]]:
    """(panel title, expr) of every query in a dashboard JSON."""
    found = []
    for panel in board.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                if target.get("expr"):
                    found.append((inner["title"], target["expr"]))
    return found


def panels_markdown() -> str:
    """The README's panel list: every panel with the PromQL behind it."""
    lines = []
    for row in ROWS:
        lines.append(f"#### {row.title}\n")
        for panel in row.panels:
            lines.append(f"- **{panel.title}** — {panel.description}")
            for query in panel.queries:
                lines.append("  ```promql")
                lines.extend(f"  {line}" for line in query.expr.splitlines())
                lines.append("  ```")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
