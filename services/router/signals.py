"""The variables a routing rule sees, built from a verified draft and the clock.

Every name in ``casetrail.policy.tenant.ROUTING_FIELDS`` gets a value of a
fixed CEL type (strings, doubles, ints, bools; never null), so a rule such as
``customer.lifetime_value > 10000.0`` evaluates instead of failing on a missing
value. The same map, rendered as strings, is recorded on the decision
(``RoutedDecision.inputs``) so an auditor sees exactly what the rules saw.
Free customer attributes (``customer.<name>``) are visible to rules but never
copied into the recorded inputs: they may hold personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from casetrail.events.conversation import AuthorRole, Conversation
from casetrail.events.triage import TriageResult
from casetrail.events.verification import DraftVerified
from casetrail.policy.tenant import TenantPolicy

# triage.flags may carry an explicit severity ("severity:critical"); otherwise
# it follows urgency, so "urgent" bug reports count as critical.
_SEVERITY_BY_URGENCY = {"urgent": "critical", "high": "high", "normal": "normal", "low": "low"}
RECORDED_CUSTOMER_FIELDS = ("tier", "lifetime_value", "region")


def severity_of(triage: TriageResult) -> str:
    for flag in triage.flags:
        if flag.startswith("severity:"):
            return flag.split(":", 1)[1].strip().lower() or "normal"
    return _SEVERITY_BY_URGENCY.get(triage.urgency, "normal")


def waiting_since(conversation: Conversation) -> dt.datetime:
    """When the customer's unanswered stretch began: first customer message after the last answer."""
    since: Optional[dt.datetime] = None
    for message in conversation.messages:
        if message.author_role in (AuthorRole.agent, AuthorRole.bot):
            since = None
        elif message.author_role == AuthorRole.customer and since is None:
            since = message.sent_at
    return _aware(since or conversation.received_at)


def customer_attempts(conversation: Conversation) -> int:
    return sum(1 for m in conversation.messages if m.author_role == AuthorRole.customer) or 1


def sla_state(due_at: Optional[dt.datetime], at_risk_at: Optional[dt.datetime], now: dt.datetime) -> str:
    if due_at is None:
        return "none"
    if now >= _aware(due_at):
        return "breached"
    if at_risk_at is not None and now >= _aware(at_risk_at):
        return "at_risk"
    return "ok"


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def customer_variables(conversation: Conversation) -> dict[str, Any]:
    customer = conversation.customer
    variables: dict[str, Any] = {str(k): str(v) for k, v in customer.attributes.items()}
    variables.update(
        tier=customer.tier or "",
        lifetime_value=float(customer.lifetime_value or 0.0),
        region=customer.region or "",
    )
    return variables


def routing_variables(
    event: DraftVerified,
    policy: TenantPolicy,
    now: dt.datetime,
    *,
    at_risk_at: Optional[dt.datetime] = None,
    vip_by_policy: bool = False,
) -> dict[str, Any]:
    """CEL variables for ``event`` at ``now`` (``at_risk_at`` decides ``sla_state``)."""
    triage, conversation = event.triage, event.conversation
    waited = now - waiting_since(conversation)
    return {
        "category": triage.category,
        "intent": triage.intent,
        "intent_confidence": float(triage.intent_confidence),
        "sentiment": float(triage.sentiment),
        "frustration": float(triage.frustration),
        "vip": bool(triage.vip or vip_by_policy),
        "churn_risk": float(triage.churn_risk),
        "urgency": triage.urgency,
        "priority": triage.priority,
        "locale": event.locale,
        "language": triage.language,
        "spam": bool(triage.spam),
        "abuse": bool(triage.abuse),
        "attempts": int(max(customer_attempts(conversation), triage.contacts_in_window)),
        "contacts_in_window": int(triage.contacts_in_window),
        "customer": customer_variables(conversation),
        "severity": severity_of(triage),
        "waiting_minutes": int(max(waited.total_seconds(), 0) // 60),
        "sla_state": sla_state(triage.sla_due_at, at_risk_at, now),
        "verdict": event.verification.verdict.value,
        "draft_confidence": float(event.draft.confidence),
        "out_of_scope": bool(triage.out_of_scope),
        "duplicate": triage.duplicate_of is not None,
        "flags": sorted(triage.flags),  # triage's flags: tenant rules read e.g. 'asks_for_human' in flags
    }


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def recorded_inputs(variables: dict[str, Any]) -> dict[str, str]:
    """The string map stored on the decision (customer attributes left out: may be personal)."""
    rendered: dict[str, str] = {}
    for name, value in variables.items():
        if name == "customer":
            for field in RECORDED_CUSTOMER_FIELDS:
                rendered[f"customer.{field}"] = _render(value.get(field, ""))
        else:
            rendered[name] = _render(value)
    return rendered
