"""The rolling baseline: which past verdicts it is made of, and when it refuses (pure), and its history command."""

import json

from typer.testing import CliRunner

from casetrail.cli import app
from casetrail.promotions import PromotedVersions
from casetrail_tools.gate.baseline import WINDOW, dev_basis, rolling_baseline
from casetrail_tools.gate.history import history_view
from casetrail_tools.gate.verdict import compare, report_lines

BASIS = "sha256:aaaa"


def verdict(version, outcome="promoted", dev=0.2, basis=BASIS):
    return {"version": version, "outcome": outcome, "error_rate": dev, "dev_error_rate": dev, "dev_examples": 10,
            "dev_basis": basis, "at": f"2026-12-0{len(version) % 9 + 1}T10:00:00+00:00"}


def rows(production_wrong: list[bool], candidate_wrong: list[bool], agents: int = 0):
    """The first ``agents`` rows are agents' corrections, the rest dev-set tickets."""
    out = []
    for n, (old, new) in enumerate(zip(production_wrong, candidate_wrong)):
        example = {"id": str(n), "text": "x", "expected": {"category": "billing", "locale": "en"}}
        if n < agents:
            example["correction"] = {"label": "reject", "reason": "wrong_clause"}
        out.append((example, old, new, ["category:billing", "locale:en"]))
    return out


def test_the_baseline_is_the_mean_of_the_last_promoted_dev_rates_on_the_same_basis():
    history = [verdict("v1", dev=0.9), verdict("v2", dev=0.5), verdict("v3", dev=0.3),
               verdict("r1", outcome="refused", dev=0.0),  # a refusal is no baseline
               verdict("o1", dev=0.0, basis="sha256:other"),  # nor a measurement on another dev set
               verdict("v4", dev=0.2), verdict("v5", dev=0.2), verdict("v6", dev=0.1)]
    baseline = rolling_baseline(history, BASIS, production_dev_error_rate=0.1)
    assert WINDOW == 5 and [m.version for m in baseline.window] == ["v2", "v3", "v4", "v5", "v6"]  # v1 rolled out
    assert abs(baseline.error_rate - (0.5 + 0.3 + 0.2 + 0.2 + 0.1) / 5) < 1e-12


def test_without_promoted_measurements_on_this_basis_production_s_own_dev_rate_is_the_baseline():
    history = [verdict("v1", dev=0.0, basis="sha256:old"), verdict("v2", outcome="refused")]
    baseline = rolling_baseline(history, BASIS, production_dev_error_rate=0.25)
    assert baseline.error_rate == 0.25 and not baseline.from_history


def test_the_basis_changes_with_the_tickets_and_the_policy_not_with_their_order_of_reading():
    tickets = [{"id": "1", "text": "a", "expected": {"category": "billing"}}]
    assert dev_basis(tickets, "policy") == dev_basis([dict(tickets[0])], "policy")
    assert dev_basis(tickets, "policy") != dev_basis(tickets, "policy with another threshold")
    assert dev_basis(tickets, "policy") != dev_basis(tickets + tickets, "policy")


def test_a_candidate_better_overall_but_above_the_rolling_baseline_on_the_dev_set_is_refused():
    # 4 corrections production got wrong and the candidate fixes; 10 dev tickets, candidate 3 wrong, production 1
    production = [True] * 4 + [True] + [False] * 9
    candidate = [False] * 4 + [True] * 3 + [False] * 7
    history = [verdict("v1", dev=0.1), verdict("v2", dev=0.1)]
    refused = compare(rows(production, candidate, agents=4),
                      lambda production_dev: rolling_baseline(history, BASIS, production_dev))
    assert refused.improved and refused.candidate_dev_error_rate == 0.3 and refused.baseline_error_rate == 0.1
    assert not refused.within_baseline and not refused.promoted
    report = report_lines(refused, "kb-3", "kb-2")
    assert "  refused: the dev-set error rate is above the rolling baseline" in report
    assert any("mean of the last 2 promoted versions' dev-set error rates (v1 0.1000, v2 0.1000)" in line
               for line in report)


def test_a_candidate_may_give_back_dev_tickets_within_the_rolling_mean_when_it_fixes_more_corrections():
    production = [True] * 4 + [True] + [False] * 9  # production: dev 0.1
    candidate = [False] * 4 + [True] * 2 + [False] * 8  # candidate: dev 0.2, 4 corrections fixed
    history = [verdict("v1", dev=0.4), verdict("v2", dev=0.2), verdict("v3", dev=0.1)]  # mean 0.2333
    promoted = compare(rows(production, candidate, agents=4),
                       lambda production_dev: rolling_baseline(history, BASIS, production_dev))
    assert promoted.candidate_dev_error_rate > promoted.production_dev_error_rate
    assert promoted.improved and promoted.within_baseline and promoted.promoted
    # with no history the same candidate faces production's own dev rate, and is refused
    alone = compare(rows(production, candidate, agents=4),
                    lambda production_dev: rolling_baseline([], BASIS, production_dev))
    assert alone.baseline_error_rate == 0.1 and not alone.promoted


def test_fewer_dev_errors_do_not_promote_a_candidate_that_is_not_better_on_the_whole_set():
    production = [False] * 2 + [True] + [False] * 9
    candidate = [True] * 2 + [False] * 10  # fixes a dev ticket, breaks two corrections the agents approved
    same = compare(rows(production, candidate, agents=2), lambda production_dev: rolling_baseline([], BASIS, 0.5))
    assert same.within_baseline and not same.improved and not same.promoted


def test_gate_history_lists_the_verdicts_and_the_baseline_the_next_candidate_faces(tmp_path, monkeypatch):
    promotions = tmp_path / "promoted.json"
    monkeypatch.setenv("CASETRAIL_PROMOTIONS_FILE", str(promotions))
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "en.jsonl").write_text(json.dumps({"id": "1", "text": "where is my order",
                                              "expected": {"category": "order_status", "locale": "en"}}) + "\n")
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings

    basis = dev_basis([json.loads((dev / "en.jsonl").read_text())],
                      load_policies(settings().tenants_dir)["acme-shop"].model_dump_json())
    registry = PromotedVersions(promotions)
    for version, outcome, rate, entry_basis in (("kb-1", "promoted", 0.30, basis), ("kb-2", "refused", 0.40, basis),
                                                ("kb-3", "promoted", 0.20, basis), ("kb-0", "promoted", 0.0, "old")):
        registry.record("acme-shop", "knowledge_base", version=version, source=f"/kb/{version}", outcome=outcome,
                        error_rate=rate, measured={"dev_error_rate": rate, "dev_basis": entry_basis,
                                                   "dev_examples": 1, "examples": 5, "baseline_error_rate": 0.5})
    out = tmp_path / "history.json"
    result = CliRunner().invoke(app, ["gate", "history", "--tenant", "acme-shop", "--dev", str(dev),
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[1:3] for line in lines[2:6]] == [["kb-1", "promoted"], ["kb-2", "refused"],
                                                          ["kb-3", "promoted"], ["kb-0", "promoted"]]
    assert lines[5].endswith("old") and lines[2].endswith("this dev set")
    assert lines[6] == f"rolling baseline ({basis}): 0.2500 = mean of the last 2 promoted dev-set error rates " \
                       "(kb-1 0.3000, kb-3 0.2000)"
    figures = json.loads(out.read_text())
    assert figures["rolling_baseline"]["error_rate"] == 0.25
    assert [w["version"] for w in figures["rolling_baseline"]["window"]] == ["kb-1", "kb-3"]
    assert history_view([], basis)["rolling_baseline"]["error_rate"] is None
