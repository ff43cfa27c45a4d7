"""Whether the sent replies of a run answer: a run's decisions joined with people's readings.

Issue 15 asks that autonomous sends be in the right category *with a reply whose first
cited clause answers the question*. Only a person reading the request beside the reply can
say the second part; ``evaluation/judged/*.jsonl`` holds those readings, one per (ticket,
first cited clause) — a reply is judged by what its first clause says, so a reading stays
valid for any later run that sends the same ticket with the same first clause.

This module is the one computation of the figure from a ``casetrail eval decisions`` JSON
and the readings: per half of the dev set (tune = odd ids, on which things were fitted;
check = even ids, the honest figure) and per locale. Sends nobody has read yet are counted
apart and listed, never guessed, so a run that changed its sends says what is left to read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from casetrail_tools.decision_eval.dev_halves import HALVES, half_of
from casetrail_tools.decision_eval.tickets import EvalTicket


class ReadingsError(ValueError):
    """The decisions file cannot be read; the message names the file."""


@dataclass
class SendTally:
    """Sends of one slice (a half, a locale) and what their readings say."""

    sends: int = 0
    read: int = 0
    answers: int = 0  # the first cited clause answers the question
    answers_in_category: int = 0  # ... and the category is the labelled one (the issue's figure)

    def add(self, answers: Optional[bool], category_right: bool) -> None:
        self.sends += 1
        if answers is None:
            return
        self.read += 1
        self.answers += answers
        self.answers_in_category += answers and category_right

    def as_dict(self) -> dict:
        share = (lambda n: round(n / self.read, 4)) if self.read else (lambda n: None)
        return {"sends": self.sends, "read": self.read, "unread": self.sends - self.read,
                "answers": self.answers, "answers_in_category": self.answers_in_category,
                "answers_share": share(self.answers), "answers_in_category_share": share(self.answers_in_category)}


@dataclass
class ReadingsReport:
    overall: SendTally = field(default_factory=SendTally)
    by_half: dict[str, SendTally] = field(default_factory=lambda: {half: SendTally() for half in HALVES})
    by_locale: dict[str, dict[str, SendTally]] = field(
        default_factory=lambda: defaultdict(lambda: {half: SendTally() for half in HALVES}))
    #: sends without a reading: what someone has to read before the figure covers every send
    unread: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"overall": self.overall.as_dict(),
                "by_half": {half: tally.as_dict() for half, tally in self.by_half.items()},
                "by_locale": {locale: {half: tally.as_dict() for half, tally in halves.items()}
                              for locale, halves in sorted(self.by_locale.items())},
                "unread": [{key: row[key] for key in ("id", "citations")} for row in self.unread]}


def first_clause(citations: Sequence[str]) -> Optional[str]:
    """``orders.cancel`` of ``["orders.cancel@1+ab12", ...]``; None without a citation."""
    return citations[0].partition("@")[0] if citations else None


def read_decisions(path: Path) -> list[dict]:
    """The ``tickets`` of a ``casetrail eval decisions --json`` file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        tickets = doc["tickets"]
        for row in tickets:
            row["id"], row["action"], row["citations"]  # noqa: B018 - the fields this module reads
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReadingsError(f"{path}: not the JSON of `casetrail eval decisions` ({exc})") from exc
    return tickets


def score_sends(decisions: Iterable[Mapping], readings: Mapping[tuple[str, str], bool],
                tickets: Mapping[str, EvalTicket]) -> ReadingsReport:
    """Every ``send`` of the run, tallied by its reading (matched on ticket id and first clause)."""
    report = ReadingsReport()
    for row in decisions:
        if row["action"] != "send":
            continue
        ticket = tickets.get(row["id"])
        expected = ticket.expected if ticket is not None else None
        clause = first_clause(row["citations"])
        answers = readings.get((row["id"], clause)) if clause is not None else None
        category_right = expected is not None and expected.category is not None \
            and row.get("category") == expected.category
        locale = (expected.locale if expected is not None and expected.locale else row.get("locale")) or "unknown"
        half = half_of(row["id"])
        for tally in (report.overall, report.by_half[half], report.by_locale[locale][half]):
            tally.add(answers, category_right)
        if answers is None:
            report.unread.append(dict(row))
    return report


def unread_rows(report: ReadingsReport, tickets: Mapping[str, EvalTicket]) -> list[dict]:
    """One line per unread send, in the judged files' format with ``answers`` left for the reader."""
    rows = []
    for row in report.unread:
        ticket = tickets.get(row["id"])
        rows.append({"id": row["id"], "locale": row.get("locale"), "category": row.get("category"),
                     "citations": list(row["citations"]),
                     "request": None if ticket is None else "\n".join(filter(None, (ticket.subject, ticket.text))),
                     "reply": row.get("reply"), "answers": None, "category_fits": None,
                     "category_matches_label": None if ticket is None or ticket.expected.category is None
                     else row.get("category") == ticket.expected.category,
                     "problems": [], "note": "", "read_by": ""})
    return rows


def render(report: ReadingsReport, echo) -> None:
    def line(name: str, tune: SendTally, check: SendTally, overall: SendTally) -> str:
        def cell(tally: SendTally) -> str:
            if not tally.read:
                return f"{'-':>7s} ({tally.answers_in_category:4d} /{tally.read:4d})"
            return f"{tally.answers_in_category / tally.read:7.1%} ({tally.answers_in_category:4d} /{tally.read:4d})"
        return (f"{name:8s} {overall.sends:6d} {overall.sends - overall.read:7d}  {cell(overall)}  "
                f"{cell(tune)}  {cell(check)}")

    echo("sends whose first cited clause answers the question, in the labelled category (of the sends read)")
    echo(f"{'locale':8s} {'sends':>6s} {'unread':>7s}  {'all':>21s}  {'tune half':>21s}  {'check half':>21s}")
    for locale, halves in sorted(report.by_locale.items()):
        overall = SendTally(*(sum(getattr(t, name) for t in halves.values())
                              for name in ("sends", "read", "answers", "answers_in_category")))
        echo(line(locale, halves["tune"], halves["check"], overall))
    echo(line("all", report.by_half["tune"], report.by_half["check"], report.overall))
    answers = report.overall
    if answers.read:
        echo(f"first clause answers, any category: {answers.answers / answers.read:.1%} "
             f"({answers.answers} / {answers.read})")
    if report.unread:
        echo(f"{len(report.unread)} sends have no reading yet (--unread PATH writes them for reading); "
             "the shares above cover the sends read")
