"""``casetrail eval calibrate``: fit the drafter's answer confidence on the dev set's tune half.

For every tune-half ticket (odd ids) the chain runs ingest, triage and the drafter's
retrieval; a draft *answers* when a reviewer who read that ticket with that first cited
clause said it answers (``evaluation/judged/*.jsonl``, matched on ticket id and clause
id), and otherwise when the clause belongs to the category the request is labelled with.
The readings matter because the category label cannot see the most frequent miss: a
clause of the right category answering a neighbouring question. A logistic model of that
outcome on the answer's features (services/drafter/answer.py) is fitted, written as the
drafter's JSON artefact, and checked on the other half (even ids) with the same labels:
reliability per confidence bin and Brier score, so a model that only fits its own half is
visible. Readings of check-half tickets are used only in that check, never in the fit.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from casetrail_tools.decision_eval.chain import DecisionChain
from casetrail_tools.decision_eval.dev_halves import CHECK, TUNE, half_of
from casetrail_tools.decision_eval.tickets import EvalTicket


Readings = Mapping[tuple[str, str], bool]


def judged_files() -> list[Path]:
    """Every file of ``evaluation/judged`` in name order (a later file's reading of the same pair wins)."""
    from casetrail.settings import REPO_ROOT

    return sorted((REPO_ROOT / "evaluation" / "judged").glob("*.jsonl"))


def read_judged(paths: Sequence[Path]) -> dict[tuple[str, str], bool]:
    """``(ticket id, first cited clause id) -> answers`` from reviewers' files; a later file wins."""
    readings: dict[tuple[str, str], bool] = {}
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                clause_id = row["citations"][0].partition("@")[0]
                readings[(row["id"], clause_id)] = bool(row["answers"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a judged reply ({exc})") from exc
    return readings


def answer_examples(chain: DecisionChain, tickets: Sequence[EvalTicket], at: dt.datetime,
                    advance: Callable[[int], None] = lambda _: None,
                    readings: Optional[Readings] = None) -> list[tuple]:
    """``(features, answers, read)`` for every labelled ticket the drafter finds a grounded answer for."""
    from services.ingest.rejections import Rejected

    examples = []
    for ticket in tickets:
        advance(1)
        if ticket.expected.category is None:
            continue
        try:
            received = chain.received(ticket, at)
        except Rejected:
            continue
        if received is None:
            continue
        triaged = chain.triaged(received, at)
        found = chain.drafter.retrieve(triaged)
        if found is None or found.answer is None:
            continue
        clause = found.answer.clause.clause
        read = (readings or {}).get((ticket.id, clause.clause_id))
        answers = read if read is not None else clause.category == ticket.expected.category
        examples.append((found.answer.features, answers, read is not None))
    return examples


def reliability(model, examples: Sequence[tuple], bins: int = 5) -> dict:
    """Mean confidence vs share answering per equal-width bin, and the Brier score."""
    rows = [[] for _ in range(bins)]
    brier = 0.0
    for features, answers, _ in examples:
        p = model.probability(features)
        brier += (p - answers) ** 2
        rows[min(bins - 1, int(p * bins))].append((p, answers))
    table = [{"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "drafts": len(r),
              "mean_confidence": round(sum(p for p, _ in r) / len(r), 3) if r else None,
              "answering": round(sum(a for _, a in r) / len(r), 3) if r else None} for i, r in enumerate(rows)]
    return {"brier": round(brier / len(examples), 4) if examples else None, "bins": table}


def calibrate(chain: DecisionChain, tickets: Sequence[EvalTicket], at: dt.datetime, out: Path,
              advance: Callable[[int], None] = lambda _: None, judged: Sequence[Path] = ()) -> dict:
    from services.drafter.answer_confidence import fit

    readings = read_judged(judged)
    tune = [t for t in tickets if half_of(t.id) == TUNE]
    check = [t for t in tickets if half_of(t.id) == CHECK]
    tune_examples = answer_examples(chain, tune, at, advance, readings)
    check_examples = answer_examples(chain, check, at, advance, readings)
    fitted_on = {"tickets": "evaluation/dev tune half (odd ids)", "drafts": len(tune_examples),
                 "answering": sum(a for _, a, _ in tune_examples),
                 "labels": "reviewers' reading of (ticket, first clause) where there is one "
                           f"({sum(r for _, _, r in tune_examples)} drafts, "
                           f"{', '.join(Path(p).name for p in judged) or 'no file'}), else clause category == label",
                 "triage": chain.triager.model_version,
                 "knowledge_base": sorted(set(chain.kb_versions.values())), "at": at.isoformat()}
    model = fit([f for f, _, _ in tune_examples], [a for _, a, _ in tune_examples], fitted_on)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.to_json(), encoding="utf-8")
    return {"model": model.version, "written": str(out), "weights": model.weights, "intercept": model.intercept,
            "tune": reliability(model, tune_examples), "check": reliability(model, check_examples),
            "tune_read": sum(r for _, _, r in tune_examples),
            "check_drafts": len(check_examples), "check_answering": sum(a for _, a, _ in check_examples),
            "check_read": sum(r for _, _, r in check_examples)}
