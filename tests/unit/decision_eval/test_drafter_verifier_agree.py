"""The drafter's real output passes the verifier's checks of what a draft may say.

Every dev-set ticket and every sample ticket goes through ingest, triage, the
drafter and the verifier (the services' own functions, via the decision chain);
for every reply the drafter actually drafted, no check whose failure means "this
draft is wrong" may fail. Policy checks (confidence, always-human categories,
refund limits) may still send a draft to a person: that is routing, not disagreement.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from casetrail.settings import REPO_ROOT
from casetrail_tools.decision_eval.chain import build_chain
from casetrail_tools.decision_eval.tickets import EvalTicket, read_tickets

DEV = REPO_ROOT / "evaluation" / "dev"
AT = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.timezone.utc)  # a Monday inside the sample tenant's hours


@pytest.fixture(scope="module")
def chain():
    built, scratch = build_chain("acme-shop", tenants_dir=REPO_ROOT / "config" / "tenants",
                                 knowledge_dir=REPO_ROOT / "knowledge")
    yield built
    scratch.cleanup()


def _disagreements(chain, tickets: list[EvalTicket]) -> tuple[int, list[str]]:
    from services.verifier.checks import FAILED

    drafted, problems = 0, []
    for ticket in tickets:
        decision = chain.decide(ticket, AT)
        if decision.draft_outcome != "drafted":
            continue
        drafted += 1
        failed = [f"{c.name}: {c.detail}" for c in decision.verification.checks
                  if not c.passed and c.severity == FAILED]
        if failed:
            problems.append(f"{ticket.id}: {'; '.join(failed)}")
    return drafted, problems


@pytest.mark.parametrize("locale", ["en", "de", "fr", "es", "lt"])
def test_every_dev_set_draft_passes_the_verifier(chain, locale):
    drafted, problems = _disagreements(chain, read_tickets(DEV / f"{locale}.jsonl"))
    assert drafted > 0, "nothing was drafted: the check would prove nothing"
    assert problems == [], f"{len(problems)} of {drafted} drafts fail the verifier:\n" + "\n".join(problems[:20])


def test_every_sample_ticket_draft_passes_the_verifier(chain):
    from casetrail_tools.sample_tickets import sample_tickets

    tickets = []
    for sample in sample_tickets(now=AT, run_id="agree"):
        payload = sample.payload
        if sample.source == "generic":
            message = payload["messages"][-1]
            tickets.append(EvalTicket(id=sample.label, text=message["text"], subject=payload.get("subject"),
                                      locale=payload.get("locale")))
        elif sample.source == "zendesk":
            tickets.append(EvalTicket(id=sample.label, text=payload["comments"][-1]["body"],
                                      subject=payload["ticket"].get("subject"), source="zendesk"))
    drafted, problems = _disagreements(chain, tickets)
    assert drafted > 0
    assert problems == [], "\n".join(problems)
