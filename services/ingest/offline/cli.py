"""``casetrail ingest eval-pii`` and ``casetrail bench ingest``: measurement, not shipped in the image."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, print_figures, write_figures

app = typer.Typer(no_args_is_help=True)
DEFAULT_EVI = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "evi"


@app.command("eval-pii")
def eval_pii(
    evi_dir: Path = typer.Option(DEFAULT_EVI, help="folder with the EVI records.{en,fr,pl}.csv"),
    per_type: int = typer.Option(400, help="labelled sentences per personal-data type"),
    seed: int = typer.Option(7, help="random seed for sampling and generated values"),
    no_locale: bool = typer.Option(False, "--no-locale", help="detect without the sentence's locale (every region)"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Precision and recall of personal-data detection per type on a labelled set."""
    from services.ingest.offline.pii_eval import build_address_set, build_dataset, score, summarise

    if not (evi_dir / "records.en.csv").is_file():
        typer.secho(f"EVI records not found in {evi_dir} (expected records.en.csv)", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    examples = build_dataset(evi_dir, per_type=per_type, seed=seed) + build_address_set(evi_dir, seed=seed)
    distractors = sum(1 for e in examples if e.group == "distractor")
    typer.echo(f"{len(examples)} sentences ({distractors} without personal data), locales en/de/fr/es/lt, "
               f"locale hint {'off' if no_locale else 'on'}")
    rows = summarise(score(examples, use_locale=not no_locale))
    typer.echo(f"{'type':32} {'gold':>6} {'precision':>10} {'recall':>8}")
    goals = {"EMAIL", "PHONE", "IBAN", "CARD", "NATIONAL_ID"}
    failed = []
    for row in rows:
        mark = ""
        if row["type"] in goals:
            ok = row["recall"] >= 0.99
            mark = "  goal recall>=0.99 " + ("met" if ok else "MISSED")
            if not ok:
                failed.append(row["type"])
        typer.echo(f"{row['type']:32} {row['gold']:>6} {row['precision']:>10.4f} {row['recall']:>8.4f}{mark}")
    write_figures(json_path, {"rows": rows, "sentences": len(examples), "seed": seed})
    if failed:
        raise typer.Exit(1)


def bench(
    tickets: int = typer.Option(5000, help="tickets to normalise"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Ingest throughput per core: normalisation+redaction, locale detection, sealing."""
    from casetrail_tools.benchmarks.machine import machine_facts
    from services.ingest.offline.bench import run

    result = {**run(tickets, progress=typer.echo), "machine": machine_facts()}
    print_figures(result, width=44)
    write_figures(json_path, result)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("ingest", app)
    commands.group("bench").command("ingest")(bench)
