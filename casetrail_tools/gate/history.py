"""``casetrail gate history --tenant T``: a tenant's verdicts and the rolling baseline the next candidate faces.

Read from the promotions file (the gate's state; the same verdicts are the
``VersionGateDecided`` events on ``versions.gate.v1``). The baseline is
computed for the dev set the next run would use (``--dev``, ``--dev-limit``
as for ``casetrail gate``): verdicts measured on another dev set or another
tenant policy are listed but do not count (``basis`` column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures


def history_view(entries: list[dict], basis: str) -> dict:
    """The history rows (oldest first) and the baseline for ``basis`` (pure)."""
    from casetrail_tools.gate.baseline import WINDOW, rolling_baseline

    baseline = rolling_baseline(entries, basis, production_dev_error_rate=float("nan"))
    window = baseline.window
    return {
        "verdicts": [{"at": e.get("at", ""), "version": e["version"], "outcome": e["outcome"],
                      "error_rate": e.get("error_rate"), "examples": e.get("examples"),
                      "agent_examples": e.get("agent_examples"), "production": e.get("production"),
                      "dev_error_rate": e.get("dev_error_rate"), "dev_examples": e.get("dev_examples"),
                      "baseline_error_rate": e.get("baseline_error_rate"), "dev_basis": e.get("dev_basis"),
                      "same_basis": e.get("dev_basis") == basis} for e in entries],
        "rolling_baseline": {
            "basis": basis, "window_size": WINDOW, "rule": "mean of the last promoted dev-set error rates",
            "window": [{"version": m.version, "dev_error_rate": m.dev_error_rate, "at": m.at} for m in window],
            # None: no promoted version measured on this basis; the next run uses production's own rate
            "error_rate": round(baseline.error_rate, 6) if baseline.from_history else None,
        },
    }


def _rate(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.4f}"


def history(
    tenant: str = typer.Option("acme-shop", "--tenant"),
    kind: str = typer.Option("knowledge_base", "--kind", help="knowledge_base | intent_model | template"),
    dev: Path = typer.Option(Path("evaluation/dev"), "--dev", help="the dev set the next run would use"),
    dev_limit: int = typer.Option(0, "--dev-limit", help="first N dev tickets per locale (0: all)"),
    json_path: Optional[Path] = json_option("also write the history and the baseline to PATH as JSON"),
) -> None:
    """A tenant's gate verdicts (oldest first) and the rolling baseline the next candidate must not exceed."""
    from casetrail.promotions import PromotedVersions
    from casetrail.settings import settings
    from casetrail_tools.gate.run import dev_set

    registry = PromotedVersions()
    try:
        entries = registry.history(tenant, kind)
        _, basis = dev_set(tenant, dev, dev_limit, settings().tenants_dir)
    except (ValueError, KeyError) as exc:
        typer.secho(f"gate history: {exc}", fg="red", err=True)
        raise typer.Exit(2)
    view = history_view(entries, basis)
    typer.echo(f"gate history: {tenant} {kind} ({registry.path})")
    if not entries:
        typer.echo("  no verdicts yet")
    else:
        typer.echo(f"  {'at':25} {'version':24} {'outcome':9} {'error':>7} {'examples':>9} {'dev err':>7} "
                   f"{'baseline':>8}  basis")
    for row in view["verdicts"]:
        examples = "-" if row["examples"] is None else f"{row['examples']}"
        typer.echo(f"  {row['at'][:25]:25} {row['version'][:24]:24} {row['outcome']:9} {_rate(row['error_rate']):>7} "
                   f"{examples:>9} {_rate(row['dev_error_rate']):>7} {_rate(row['baseline_error_rate']):>8}  "
                   f"{'this dev set' if row['same_basis'] else (row['dev_basis'] or 'not recorded')}")
    baseline = view["rolling_baseline"]
    if baseline["error_rate"] is None:
        typer.echo(f"rolling baseline ({basis}): none yet; the next candidate is held to production's dev-set "
                   "error rate in its own run")
    else:
        versions = ", ".join(f"{m['version']} {m['dev_error_rate']:.4f}" for m in baseline["window"])
        typer.echo(f"rolling baseline ({basis}): {baseline['error_rate']:.4f} = mean of the last "
                   f"{len(baseline['window'])} promoted dev-set error rates ({versions})")
    write_figures(json_path, {"tenant": tenant, "kind": kind, **view})
