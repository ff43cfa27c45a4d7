"""Triage's figures per expected category and per locale, for one half of the dev set (pure).

Definitions:

- *accuracy*: predicted category == expected category (``out_of_scope`` included);
- *confident-wrong*: wrong while triage's confidence is at or above the predicted
  category's threshold in the tenant policy (as in ``casetrail eval decisions``);
- *eligible*: what triage alone would let through to an autonomous send — the
  predicted category's mode is ``autonomous``, it is not ``always_human``, the
  confidence reaches its threshold, not out of scope, the language known. The
  drafter and verifier may still stop it, so this is an upper bound of sends;
- *human-eligible*: tickets that must reach a human (``expected.human``) that are
  eligible (must be 0); *answerable coverage*: answerable tickets (routine, expected
  category autonomous) that are eligible AND right;
- *locale*: ingest's locale == ``expected.locale``; *unknown*: ingest said ``und``;
- *very negative*: sentiment below the tenant's ``sentiment_escalation_below``; with
  ``expected.sentiment`` labels, its accuracy and the share of neutral tickets flagged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional

from casetrail.policy.taxonomy import OUT_OF_SCOPE
from casetrail.policy.tenant import TenantPolicy
from casetrail_tools.triage_eval.inputs import TriagedTicket


def _ratio(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def eligible(policy: TenantPolicy, category: str, confidence: float, out_of_scope: bool, language: str) -> bool:
    if out_of_scope or language == "unknown" or category not in policy.categories:
        return False
    rule = policy.category(category)
    return rule.mode == "autonomous" and not rule.always_human and confidence >= rule.threshold


@dataclass
class TriageTally:
    tickets: int = 0
    right: int = 0
    confident_wrong: int = 0
    eligible: int = 0
    eligible_right: int = 0
    must_reach_human: int = 0
    human_eligible: int = 0
    answerable: int = 0
    answerable_covered: int = 0
    out_of_scope: int = 0
    out_of_scope_flagged: int = 0
    locale_labelled: int = 0
    locale_right: int = 0
    locale_unknown: int = 0
    very_negative_found: int = 0
    sentiment_labelled: int = 0
    very_negative_right: int = 0
    very_negative_expected: int = 0
    neutral: int = 0
    neutral_very_negative: int = 0
    confusions: Counter = field(default_factory=Counter)

    def add(self, item: TriagedTicket, policy: TenantPolicy) -> None:
        expected = item.ticket.expected
        result = item.result
        self.tickets += 1
        if expected.locale is not None:
            self.locale_labelled += 1
            self.locale_right += item.locale == expected.locale
            self.locale_unknown += item.locale in ("und", "unknown")
        if result is None:
            return
        predicted, confidence = result.category, result.intent_confidence
        wrong = expected.category is not None and predicted != expected.category
        self.right += expected.category is not None and not wrong
        if wrong:
            self.confusions[(expected.category, predicted)] += 1
            if confidence >= policy.category(predicted).threshold:
                self.confident_wrong += 1
        ok = eligible(policy, predicted, confidence, result.out_of_scope, result.language)
        self.eligible += ok
        self.eligible_right += ok and not wrong
        if expected.human:
            self.must_reach_human += 1
            self.human_eligible += ok
        elif expected.human is False and expected.category in policy.categories \
                and policy.category(expected.category).mode == "autonomous":
            self.answerable += 1
            self.answerable_covered += ok and not wrong
        if expected.category == OUT_OF_SCOPE:
            self.out_of_scope += 1
            self.out_of_scope_flagged += result.out_of_scope
        very_negative = result.sentiment < policy.sentiment_escalation_below
        self.very_negative_found += very_negative
        if expected.sentiment is not None:
            self.sentiment_labelled += 1
            truth = expected.sentiment == "very_negative"
            self.very_negative_expected += truth
            self.very_negative_right += very_negative == truth
            if expected.sentiment == "neutral":
                self.neutral += 1
                self.neutral_very_negative += very_negative

    def figures(self) -> dict:
        return {
            "tickets": self.tickets,
            "accuracy": _ratio(self.right, self.tickets),
            "confident_wrong": self.confident_wrong,
            "confident_wrong_rate": _ratio(self.confident_wrong, self.tickets),
            "eligible": self.eligible,
            "eligible_precision": _ratio(self.eligible_right, self.eligible),
            "must_reach_human": self.must_reach_human,
            "human_eligible": self.human_eligible,
            "answerable": self.answerable,
            "answerable_coverage": _ratio(self.answerable_covered, self.answerable),
            "out_of_scope": self.out_of_scope,
            "out_of_scope_recall": _ratio(self.out_of_scope_flagged, self.out_of_scope),
            "locale_accuracy": _ratio(self.locale_right, self.locale_labelled),
            "locale_unknown_rate": _ratio(self.locale_unknown, self.locale_labelled),
            "very_negative_rate": _ratio(self.very_negative_found, self.tickets),
            "very_negative_accuracy": _ratio(self.very_negative_right, self.sentiment_labelled),
            "very_negative_expected": self.very_negative_expected,
            "neutral_very_negative_rate": _ratio(self.neutral_very_negative, self.neutral),
        }


def summarise(items: Iterable[TriagedTicket], policy: TenantPolicy) -> dict:
    """``{half: {"overall", "by_category", "by_locale", "confusions"}}`` for ``tune``, ``check`` and ``all``."""
    tallies: dict[str, dict] = {}
    for item in items:
        for half in (item.half, "all"):
            groups = tallies.setdefault(half, {"overall": TriageTally(), "by_category": defaultdict(TriageTally),
                                               "by_locale": defaultdict(TriageTally)})
            groups["overall"].add(item, policy)
            if item.ticket.expected.category is not None:
                groups["by_category"][item.ticket.expected.category].add(item, policy)
            groups["by_locale"][item.ticket.expected.locale or item.locale].add(item, policy)
    report = {}
    for half, groups in sorted(tallies.items()):
        report[half] = {
            "overall": groups["overall"].figures(),
            "by_category": {k: t.figures() for k, t in sorted(groups["by_category"].items())},
            "by_locale": {k: t.figures() for k, t in sorted(groups["by_locale"].items())},
            "confusions": [{"expected": e, "predicted": p, "count": n}
                           for (e, p), n in groups["overall"].confusions.most_common(25)],
        }
    return report


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


COLUMNS = ("tickets", "accuracy", "confident_wrong", "eligible", "eligible_precision", "human_eligible",
           "answerable_coverage", "out_of_scope_recall", "locale_accuracy", "locale_unknown_rate",
           "very_negative_rate", "very_negative_accuracy", "neutral_very_negative_rate")
SHORT = ("n", "acc", "cw", "elig", "elig_prec", "hum_elig", "ans_cov", "oos_rec", "loc_acc", "loc_unk",
         "vneg", "vneg_acc", "neu_vneg")


def render_table(rows: dict[str, dict], echo, title: str) -> None:
    echo(title)
    echo(f"  {'':22}" + "".join(f"{name:>10}" for name in SHORT))
    for name, figures in rows.items():
        echo(f"  {name:22}" + "".join(f"{_cell(figures.get(column)):>10}" for column in COLUMNS))


def render(report: dict, echo, categories: bool = True) -> None:
    for half in ("tune", "check", "all"):
        if half not in report:
            continue
        part = report[half]
        render_table({"overall": part["overall"], **part["by_locale"]}, echo, f"[{half}] overall and per locale")
        if categories:
            render_table(part["by_category"], echo, f"[{half}] per expected category")
    if "tune" in report and report["tune"]["confusions"]:
        echo("[tune] most frequent confusions (expected -> predicted: count)")
        for row in report["tune"]["confusions"][:15]:
            echo(f"  {row['expected']} -> {row['predicted']}: {row['count']}")
