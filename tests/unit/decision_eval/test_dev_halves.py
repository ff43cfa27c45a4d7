"""The dev set's two halves have one definition (casetrail_tools/decision_eval/dev_halves.py), used by
``eval triage``, ``eval readings`` and ``eval calibrate``, and no dev-set ticket changed half when the two
definitions there were before became one: the check half stays held out from tuning."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

from casetrail.settings import REPO_ROOT
from casetrail_tools.decision_eval import calibrate as calibration
from casetrail_tools.decision_eval.dev_halves import CHECK, TUNE, half_of
from casetrail_tools.decision_eval.tickets import parse_ticket, read_tickets


def documented_half(ticket_id: str) -> str:
    """The definition the halves' figures in docs/benchmarks.md were read with (``eval readings``, i.e.
    ``triage_eval.inputs.half_of`` at c61435d), frozen here as the reference."""
    match = re.search(r"(\d+)$", ticket_id)
    return "check" if match and int(match.group(1)) % 2 == 0 else "tune"


def test_odd_ids_are_the_tune_half_and_even_ids_the_check_half():
    assert [half_of(i) for i in ("dev-en-0001", "dev-fr-0013", "dev-de-0075")] == [TUNE] * 3
    assert [half_of(i) for i in ("dev-lt-0320", "dev-de-0012", "dev-es-10000")] == [CHECK] * 3


def test_every_dev_set_ticket_keeps_its_documented_half():
    ids = [t.id for path in sorted((REPO_ROOT / "evaluation" / "dev").glob("*.jsonl")) for t in read_tickets(path)]
    assert len(ids) == len(set(ids)) == 1600
    assert {i: half_of(i) for i in ids} == {i: documented_half(i) for i in ids}
    # every id ends in its number, so the parity of that number alone decides (no id falls to a default)
    assert all(re.fullmatch(r"dev-[a-z]{2}-\d{4}", i) for i in ids)
    assert sum(half_of(i) == CHECK for i in ids) == 800


def test_calibrate_splits_by_the_same_definition(monkeypatch, tmp_path):
    # ``eval calibrate`` used to call an id without a number "check"; ``eval readings`` calls it "tune"
    seen: list[list[str]] = []

    def examples(chain, tickets, at, advance, readings):
        seen.append([t.id for t in tickets])
        return []

    model = SimpleNamespace(version="m", weights={}, intercept=0.0, to_json=lambda: "{}")
    monkeypatch.setattr(calibration, "answer_examples", examples)
    monkeypatch.setattr("services.drafter.answer_confidence.fit", lambda features, answers, fitted_on: model)
    chain = SimpleNamespace(triager=SimpleNamespace(model_version="t"), kb_versions={})
    tickets = [parse_ticket({"id": i, "text": "x"}, i) for i in ("dev-en-0007", "dev-en-0012", "imported-ticket")]
    calibration.calibrate(chain, tickets, dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc), tmp_path / "model.json")
    assert seen == [["dev-en-0007", "imported-ticket"], ["dev-en-0012"]]
