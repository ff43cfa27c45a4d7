"""The warm-handoff brief: what a human taking over needs so the customer never repeats themselves.

Built for every escalation and review from what travels with the event
(conversation, triage, draft, verification): one paragraph on what the
customer wants, the detected signals, the AI's draft and exactly why it was
not sent (autonomy reasons plus each failed verifier check with its detail),
the clauses it cites, suggested next actions and a pointer to the full
history in the audit service. Conversation text is already redacted by ingest.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from casetrail.events.decision import HandoffBrief
from casetrail.events.draft import DraftOutcome
from casetrail.events.verification import DraftVerified, Verdict
from casetrail.policy.taxonomy import DEFAULT_CATEGORIES
from casetrail.policy.tenant import RoutingRule

from services.router.signals import severity_of

SUMMARY_QUOTE_CHARS = 400
HISTORY_REF = "audit:/v1/conversations/{conversation_id}/lineage"

_CATEGORY_ACTIONS: dict[str, str] = {
    "fraud_report": "Follow the fraud procedure: verify the customer's identity and block the affected card or account.",
    "transaction_dispute": "Collect transaction id, date, amount and dispute reason; open a dispute case.",
    "payment_issue": "Check the payment's status in the payment system before answering.",
    "bug_report": "Collect diagnostics (error message, steps, browser/app version) and check known incidents.",
    "account_access": "Verify identity before changing anything on the account.",
    "legal_threat": "Do not reply from the template: a senior agent or legal decides; keep the case file complete.",
    "complaint": "Acknowledge the complaint and check whether a retention offer applies.",
    "contact_human": "The customer asked for a person: reply personally.",
    "refund_policy": "Check the order against the refund window and auto-approval limit.",
    "refund_status": "Look up the refund's status in the payment system before answering.",
    "return_request": "Check the order against the return window before sending a label.",
}


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_QUOTE_CHARS else text[: SUMMARY_QUOTE_CHARS - 1].rstrip() + "…"


def summary_paragraph(event: DraftVerified, waiting_minutes: int) -> str:
    triage, conversation = event.triage, event.conversation
    customer = conversation.customer
    who = "A VIP customer" if triage.vip else "A customer"
    if customer.tier:
        who += f" (tier {customer.tier})"
    known = DEFAULT_CATEGORIES.get(triage.category)
    topic = known.title.lower() if known else triage.category
    parts = [
        f"{who} wrote via {conversation.channel} about {topic}"
        + (f" (intent {triage.intent}, confidence {triage.intent_confidence:.0%})." if triage.intent else ".")
    ]
    if conversation.subject:
        parts.append(f"Subject: “{_quote(conversation.subject)}”.")
    latest = conversation.latest_customer_text()
    if latest:
        parts.append(f"Latest message: “{_quote(latest)}”.")
    if triage.contacts_in_window > 1:
        parts.append(f"This is contact {triage.contacts_in_window} on the same matter.")
    if waiting_minutes >= 1:
        parts.append(f"Waiting for {waiting_minutes} min.")
    return " ".join(parts)


def _signals(event: DraftVerified, sla_state: str) -> dict[str, str]:
    t = event.triage
    signals = {
        "intent": t.intent,
        "intent_confidence": f"{t.intent_confidence:.2f}",
        "category": t.category,
        "urgency": t.urgency,
        "priority": t.priority,
        "severity": severity_of(t),
        "sentiment": f"{t.sentiment:.2f}",
        "frustration": f"{t.frustration:.2f}",
        "vip": "true" if t.vip else "false",
        "churn_risk": f"{t.churn_risk:.2f}",
        "language": t.language,
        "locale": event.locale,
        "contacts_in_window": str(t.contacts_in_window),
        "sla_state": sla_state,
    }
    if event.conversation.customer.tier:
        signals["customer.tier"] = event.conversation.customer.tier
    if t.sla_due_at is not None:
        signals["sla_due_at"] = t.sla_due_at.astimezone(dt.timezone.utc).isoformat()
    if t.duplicate_of:
        signals["duplicate_of"] = t.duplicate_of
    if t.out_of_scope:
        signals["out_of_scope"] = "true"
    return signals


def suggested_actions(event: DraftVerified, rule: Optional[RoutingRule]) -> list[str]:
    t, draft, verification = event.triage, event.draft, event.verification
    actions: list[str] = list(rule.next_actions) if rule is not None else []
    if draft.outcome == DraftOutcome.drafted:
        if verification.verdict == Verdict.passed:
            actions.append("Review the draft; approve it as is or edit it.")
        else:
            failed = ", ".join(c.name for c in verification.failed_checks) or verification.verdict.value
            actions.append(f"Correct the draft where the verifier objected ({failed}) before approving, or reject it.")
    else:
        actions.append(
            "Answer personally: no knowledge-base clause grounds a reply"
            + (f" ({draft.reason})." if draft.reason else ".")
        )
    category_action = _CATEGORY_ACTIONS.get(t.category)
    if category_action and category_action not in actions:
        actions.append(category_action)
    if t.sentiment < -0.6 or t.frustration > 0.7:
        actions.append("Open by acknowledging the customer's frustration.")
    if t.vip:
        actions.append("VIP customer: answer with priority.")
    if t.churn_risk >= 0.6:
        actions.append("Churn risk is high: consider a retention gesture allowed by policy.")
    if t.contacts_in_window > 1:
        actions.append("The customer has written before about this: read the history first.")
    return actions


def handoff_brief(
    event: DraftVerified,
    *,
    not_sent_because: list[str],
    rule: Optional[RoutingRule],
    waiting_minutes: int,
    sla_state: str,
) -> HandoffBrief:
    reasons = list(not_sent_because)
    for check in event.verification.failed_checks:
        reasons.append(f"check {check.name} failed" + (f": {check.detail}" if check.detail else ""))
    return HandoffBrief(
        summary=summary_paragraph(event, waiting_minutes),
        signals=_signals(event, sla_state),
        draft_text=event.draft.reply_text,
        not_sent_because=reasons,
        cited_clauses=[c.ref for c in event.draft.citations],
        suggested_actions=suggested_actions(event, rule),
        history_ref=HISTORY_REF.format(conversation_id=event.conversation_id)
        + f" (source {event.conversation.source}:{event.conversation.external_id})",
    )
