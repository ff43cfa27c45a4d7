"""Escalation when a timer fires, and skill/locale queue choice."""

from __future__ import annotations

import datetime as dt

import pytest

from casetrail.events import Action
from casetrail.events.decision import SlaEventKind
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.case import CaseStatus
from services.router.decide import route
from services.router.queues import choose_queue
from services.router.sla_escalation import sla_escalation


def test_enterprise_customer_waiting_is_escalated_when_the_sla_is_at_risk():
    due = OPEN_NOW + dt.timedelta(hours=2, minutes=40)
    outcome = route(verified(tier="enterprise", confidence=0.5, sla_due_at=due), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action == Action.review and outcome.decision.rule is None
    at_risk_time = OPEN_NOW + dt.timedelta(hours=2, minutes=5)  # waiting 125 min
    escalation = sla_escalation(outcome.case, acme(), SlaEventKind.at_risk, due, at_risk_time, PRODUCER, "sla-ev-1")
    assert escalation.action == Action.escalate
    assert (escalation.rule, escalation.queue, escalation.priority) == ("enterprise-waiting", "customer-success", "high")
    assert escalation.causation_id == "sla-ev-1" and escalation.event_id != outcome.decision.event_id
    assert escalation.inputs["sla_state"] == "at_risk" and escalation.inputs["waiting_minutes"] == "125"
    assert escalation.brief.not_sent_because[0].startswith("SLA at risk: reply due 2026-11-25T10:40:00")


def test_breach_escalates_urgently_in_the_same_queue_when_no_rule_matches():
    due = OPEN_NOW + dt.timedelta(hours=1)
    outcome = route(verified(confidence=0.5, sla_due_at=due), acme(), OPEN_NOW, PRODUCER)
    escalation = sla_escalation(outcome.case, acme(), SlaEventKind.breached, due, due, PRODUCER, "x")
    assert (escalation.rule, escalation.queue, escalation.priority) == ("sla-breached", "general-support", "urgent")


@pytest.mark.parametrize("status", ["answered", "resolved", "dropped"])
def test_closed_cases_are_not_escalated(status):
    outcome = route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER)
    record = outcome.case.model_copy(update={"status": CaseStatus(status)})
    assert sla_escalation(record, acme(), SlaEventKind.at_risk, OPEN_NOW, OPEN_NOW, PRODUCER, "x") is None
    assert sla_escalation(None, acme(), SlaEventKind.at_risk, OPEN_NOW, OPEN_NOW, PRODUCER, "x") is None


@pytest.mark.parametrize(
    "category, locale, queue",
    [
        ("order_status", "lt", "lt-support"),  # locale skill
        ("bug_report", "lt", "engineering-oncall"),  # category skill beats locale skill
        ("invoice", "en", "payments-team"),
        ("order_status", "en", "general-support"),  # nobody specialised: the default queue
        ("fraud_report", "de", "fraud-team"),
    ],
)
def test_skill_and_locale_queues(category, locale, queue):
    assert choose_queue(acme(), category, locale, None).queue == queue


def test_rule_queue_uses_that_teams_hours():
    policy = acme()
    rule = next(r for r in policy.routing if r.name == "critical-bug-on-call")
    choice = choose_queue(policy, "bug_report", "en", rule)
    assert choice.queue == "engineering-oncall" and choice.hours.timezone == "UTC"
