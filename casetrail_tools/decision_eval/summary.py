"""The figures of a decision evaluation, from the decisions and the expected labels (pure).

Definitions (also in the README):

- *routine*: the ticket need not reach a human (``expected.human`` is false);
  *answerable*: routine and its expected category's mode is ``autonomous`` for the tenant;
- *autonomous send rate*: routine tickets whose decision is ``send``, over routine tickets
  (and over answerable ones);
- *precision of sends*: sends whose predicted category equals the expected one, over sends
  with an expected category;
- *escalation recall*: tickets that must reach a human whose decision puts a person on them
  (review, escalate, shadow — the team answers as before — or an acknowledgement that a
  person will answer), over those tickets;
  ``human_sent`` counts the ones answered autonomously instead (the acceptance is 0);
- *out-of-scope recall*: tickets expected ``out_of_scope`` that triage flagged out of scope;
- *confident-wrong*: predicted category differs from the expected one while the confidence
  the verifier gates on is at or above the predicted category's threshold: triage's
  confidence times the draft's answer confidence when a draft was made
  (services/verifier/checks/confidence.py), triage's confidence alone otherwise;
- *very negative*: triage sentiment below the tenant's ``sentiment_escalation_below``,
  compared with ``expected.sentiment == "very_negative"``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional

from casetrail.policy.taxonomy import OUT_OF_SCOPE
from casetrail.policy.tenant import TenantPolicy
from casetrail_tools.decision_eval.chain import TicketDecision
from casetrail_tools.decision_eval.tickets import EvalTicket

# shadow: casetrail drafts for comparison only and the ticket stays with the team as before
HUMAN_ACTIONS = frozenset({"review", "escalate", "acknowledge", "shadow"})


def _ratio(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


@dataclass
class Tally:
    tickets: int = 0
    rejected: int = 0
    labelled: int = 0  # with an expected category
    category_right: int = 0
    routine: int = 0
    routine_sent: int = 0
    answerable: int = 0
    answerable_sent: int = 0
    sends: int = 0
    sends_labelled: int = 0
    sends_right: int = 0
    must_reach_human: int = 0
    reached_human: int = 0
    human_sent: int = 0
    out_of_scope: int = 0
    out_of_scope_flagged: int = 0
    confident_wrong: int = 0
    locale_labelled: int = 0
    locale_right: int = 0
    locale_unknown: int = 0
    sentiment_labelled: int = 0
    very_negative_right: int = 0
    very_negative_expected: int = 0
    very_negative_found: int = 0
    neutral: int = 0
    neutral_flagged_very_negative: int = 0
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, ticket: EvalTicket, decision: TicketDecision, policy: TenantPolicy) -> None:
        expected = ticket.expected
        self.tickets += 1
        self.actions[decision.action] += 1
        self.rejected += decision.action == "rejected"
        sent = decision.action == "send"
        wrong = expected.category is not None and decision.category != expected.category
        if expected.category is not None:
            self.labelled += 1
            self.category_right += not wrong
            gated = decision.gated_confidence
            if wrong and decision.category is not None and gated is not None \
                    and gated >= policy.category(decision.category).threshold:
                self.confident_wrong += 1
            if expected.category == OUT_OF_SCOPE:
                self.out_of_scope += 1
                self.out_of_scope_flagged += bool(decision.out_of_scope)
        if sent:
            self.sends += 1
            if expected.category is not None:
                self.sends_labelled += 1
                self.sends_right += not wrong
        if expected.human is True:
            self.must_reach_human += 1
            self.reached_human += decision.action in HUMAN_ACTIONS
            self.human_sent += sent
        elif expected.human is False:
            self.routine += 1
            self.routine_sent += sent
            if expected.category is not None and policy.categories.get(expected.category) is not None \
                    and policy.category(expected.category).mode == "autonomous":
                self.answerable += 1
                self.answerable_sent += sent
        if expected.locale is not None:
            self.locale_labelled += 1
            self.locale_right += decision.locale == expected.locale
            self.locale_unknown += decision.locale in (None, "unknown", "und")
        if expected.sentiment is not None and decision.sentiment is not None:
            self.sentiment_labelled += 1
            found = decision.sentiment < policy.sentiment_escalation_below
            truth = expected.sentiment == "very_negative"
            self.very_negative_expected += truth
            self.very_negative_found += found
            self.very_negative_right += found == truth
            if expected.sentiment == "neutral":
                self.neutral += 1
                self.neutral_flagged_very_negative += found

    def figures(self) -> dict:
        return {
            "tickets": self.tickets,
            "rejected_at_ingest": self.rejected,
            "actions": dict(sorted(self.actions.items())),
            "category_accuracy": _ratio(self.category_right, self.labelled),
            "routine": self.routine,
            "routine_sent": self.routine_sent,
            "autonomous_send_rate": _ratio(self.routine_sent, self.routine),
            "answerable": self.answerable,
            "answerable_sent": self.answerable_sent,
            "autonomous_send_rate_answerable": _ratio(self.answerable_sent, self.answerable),
            "sends": self.sends,
            "sends_right": self.sends_right,
            "send_precision": _ratio(self.sends_right, self.sends_labelled),
            "must_reach_human": self.must_reach_human,
            "reached_human": self.reached_human,
            "human_sent": self.human_sent,
            "escalation_recall": _ratio(self.reached_human, self.must_reach_human),
            "out_of_scope": self.out_of_scope,
            "out_of_scope_recall": _ratio(self.out_of_scope_flagged, self.out_of_scope),
            "confident_wrong": self.confident_wrong,
            "confident_wrong_rate": _ratio(self.confident_wrong, self.labelled),
            "locale_accuracy": _ratio(self.locale_right, self.locale_labelled),
            "locale_unknown_rate": _ratio(self.locale_unknown, self.locale_labelled),
            "very_negative_accuracy": _ratio(self.very_negative_right, self.sentiment_labelled),
            "very_negative_expected": self.very_negative_expected,
            "very_negative_found": self.very_negative_found,
            "neutral_flagged_very_negative": self.neutral_flagged_very_negative,
            "neutral_flagged_very_negative_rate": _ratio(self.neutral_flagged_very_negative, self.neutral),
        }


def summarise(pairs: Iterable[tuple[EvalTicket, TicketDecision]], policy: TenantPolicy) -> dict:
    """``{"overall": {...}, "by_category": {expected category: {...}}, "by_locale": {locale: {...}}}``.

    Categories and locales are the expected ones (what the customer wanted, the language
    they wrote in); a ticket without an expected locale counts under its detected locale.
    """
    overall = Tally()
    by_category: dict[str, Tally] = defaultdict(Tally)
    by_locale: dict[str, Tally] = defaultdict(Tally)
    for ticket, decision in pairs:
        overall.add(ticket, decision, policy)
        if ticket.expected.category is not None:
            by_category[ticket.expected.category].add(ticket, decision, policy)
        by_locale[ticket.expected.locale or decision.locale or "unknown"].add(ticket, decision, policy)
    return {
        "overall": overall.figures(),
        "by_category": {name: tally.figures() for name, tally in sorted(by_category.items())},
        "by_locale": {name: tally.figures() for name, tally in sorted(by_locale.items())},
    }
