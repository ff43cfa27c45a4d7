"""`casetrail eval calibrate`'s labels: a reviewer's reading of (ticket, first clause) wins over the category label."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from casetrail.knowledge.clauses import Clause
from casetrail.knowledge.index import ScoredClause
from casetrail_tools.decision_eval.calibrate import answer_examples, read_judged
from casetrail_tools.decision_eval.tickets import parse_ticket
from services.drafter.answer import choose_answer

AT = dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc)


class FakeChain:
    """Just the three steps answer_examples calls; retrieval answers with the clause given per ticket text."""

    def __init__(self, clauses: dict[str, tuple[str, str]]):
        self.clauses = clauses  # ticket text -> (clause id, clause category)
        self.drafter = SimpleNamespace(retrieve=self._retrieve)

    def received(self, ticket, at):
        return ticket.text

    def triaged(self, received, at):
        return received

    def _retrieve(self, text):
        clause_id, category = self.clauses[text]
        hit = ScoredClause(Clause(clause_id=clause_id, title=clause_id, text="x", locale="en", category=category), 0.95)
        return SimpleNamespace(answer=choose_answer([hit], category, 0.9, min_score=0.9))


def ticket(ticket_id: str, text: str, category: str):
    return parse_ticket({"id": ticket_id, "text": text, "expected": {"category": category}}, ticket_id)


def write_judged(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_a_reading_of_the_same_ticket_and_clause_labels_the_draft(tmp_path):
    chain = FakeChain({"reset mail never comes": ("account.password_reset", "account_access"),
                       "how do I reset": ("account.password_reset", "account_access"),
                       "2fa code never comes": ("account.code_missing", "account_access")})
    tickets = [ticket("dev-en-0001", "reset mail never comes", "account_access"),
               ticket("dev-en-0003", "how do I reset", "account_access"),
               ticket("dev-en-0005", "2fa code never comes", "account_access")]
    judged = tmp_path / "judged.jsonl"
    write_judged(judged, [
        {"id": "dev-en-0001", "citations": ["account.password_reset@1+abc"], "answers": False},
        # read with another clause than the one retrieved now: that reading says nothing about this draft
        {"id": "dev-en-0005", "citations": ["account.two_factor@1+abc"], "answers": False},
    ])
    examples = answer_examples(chain, tickets, AT, readings=read_judged([judged]))
    assert [(answers, read) for _, answers, read in examples] == [(False, True), (True, False), (True, False)]


def test_a_later_file_wins_and_a_broken_line_names_its_file(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_judged(first, [{"id": "t1", "citations": ["c.x@1"], "answers": True}])
    write_judged(second, [{"id": "t1", "citations": ["c.x@2", "c.y@2"], "answers": False}])
    assert read_judged([first, second]) == {("t1", "c.x"): False}
    second.write_text('{"id": "t1", "citations": [], "answers": true}\n')
    with pytest.raises(ValueError, match=r"b\.jsonl:1: not a judged reply"):
        read_judged([second])
