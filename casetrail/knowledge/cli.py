"""``casetrail kb ...``: publish, evaluate and inspect knowledge bases."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from casetrail.figures import json_option, write_figures

app = typer.Typer(help="Versioned knowledge base: publish, evaluate, show clauses.", no_args_is_help=True)

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_KB = REPO_ROOT / "knowledge" / "acme-shop"
ABCD_GUIDELINES = REPO_ROOT.parent / "shared" / "datasets" / "abcd" / "guidelines.json"


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _do_publish(directory: Path, tenant: Optional[str], version: Optional[str], locales: Optional[List[str]],
                emit: bool, force: bool) -> None:
    from casetrail.embeddings import default_embedder
    from casetrail.events import ProducerInfo
    from casetrail.knowledge import KnowledgeBaseError, catalogue
    from casetrail.knowledge.index import QdrantUnavailable, RetrievalIndex
    from casetrail.knowledge.publish import emit_published, missing_across_locales, publish
    from casetrail.knowledge.clauses import load_tenant
    from casetrail.knowledge.vector_cache import VectorCache
    from casetrail.settings import settings
    from casetrail import __version__

    progress = lambda line: typer.echo(line, err=True)  # noqa: E731
    try:
        kbs = load_tenant(directory, tenant=tenant, locales=locales)
    except KnowledgeBaseError as exc:
        _fail(str(exc))
    for locale, missing in missing_across_locales(kbs).items():
        typer.secho(f"warning: {locale} lacks clauses other locales have: {', '.join(missing)}", fg=typer.colors.YELLOW, err=True)
    # With a Qdrant server every process shares it: upsert now. In embedded mode the drafter
    # indexes new versions from the catalogue itself (its Qdrant folder is locked to it).
    index = RetrievalIndex.from_settings("publisher") if settings().qdrant_url else None
    try:
        results = publish(directory, embedder=default_embedder(), catalogue=catalogue(), tenant=tenant,
                          human_version=version, locales=locales, index=index, force=force, progress=progress,
                          vector_cache=VectorCache.from_settings())
    except (KnowledgeBaseError, ValueError) as exc:
        _fail(str(exc))
    except QdrantUnavailable as exc:
        _fail(f"{exc}\n(the catalogue holds the new version; rerun to index it once Qdrant is back)")
    finally:
        if index is not None:
            index.close()
    events = [r.event(ProducerInfo(service="kb-publish", version=__version__)) for r in results if not r.unchanged]
    for r in results:
        state = "unchanged" if r.unchanged else ("published+indexed" if r.indexed else "published")
        typer.echo(f"{r.tenant}\t{r.locale}\t{r.version.kb_version}\t{len(r.clause_ids)} clauses\t{state}")
    if not emit:
        typer.echo(f"not emitted (--no-emit): {len(events)} KnowledgeBasePublished event(s)", err=True)
        return
    try:
        sent = emit_published(events)
    except Exception as exc:  # noqa: BLE001 - report the broker problem, keep the published catalogue
        _fail(f"published, but KnowledgeBasePublished could not be emitted: {exc}\n"
              "(drafters still pick the new version up from the catalogue; rerun with --force to re-emit)")
    typer.echo(f"emitted {sent} KnowledgeBasePublished event(s)", err=True)


@app.command("publish")
def publish_command(
    directory: Path = typer.Argument(..., help="Tenant KB folder with one sub-folder per locale (en/, de/, ...)."),
    version: Optional[str] = typer.Option(None, "--version", help="Human version (default: next integer); a "
                                          "knowledge base the gate promotes is served by this name (= gate --candidate)."),
    tenant: Optional[str] = typer.Option(None, help="Tenant id (default: the folder's name)."),
    locale: Optional[List[str]] = typer.Option(None, "--locale", help="Publish only these locales."),
    emit: bool = typer.Option(True, "--emit/--no-emit", help="Emit KnowledgeBasePublished to Kafka."),
    force: bool = typer.Option(False, help="Publish a new version even if the content is unchanged."),
) -> None:
    """Validate, embed and store a new KB version; announce it on kb.published.v1."""
    _do_publish(directory, tenant, version, locale, emit, force)


@app.command("publish-abcd")
def publish_abcd(
    guidelines: Path = typer.Option(ABCD_GUIDELINES, help="ABCD guidelines.json (MIT, ASAPP Research)."),
    out: Path = typer.Option(None, help="Where to write the converted Markdown (default <data_dir>/knowledge/sources)."),
    tenant: str = typer.Option("abcd-clothing"),
    version: Optional[str] = typer.Option(None, "--version"),
    emit: bool = typer.Option(True, "--emit/--no-emit"),
) -> None:
    """Convert ABCD's agent guidelines to clauses and publish them as a knowledge base."""
    from casetrail.knowledge.abcd import convert
    from casetrail.settings import settings

    if not guidelines.exists():
        _fail(f"{guidelines} not found")
    folder = convert(guidelines, out or Path(settings().data_dir) / "knowledge" / "sources", tenant=tenant)
    typer.echo(f"converted to {folder}", err=True)
    _do_publish(folder, tenant, version, None, emit, False)


@app.command("validate")
def validate(directory: Path = typer.Argument(...), tenant: Optional[str] = typer.Option(None)) -> None:
    """Check a KB folder without publishing (problems are listed with file and line)."""
    from casetrail.knowledge import KnowledgeBaseError, load_tenant
    from casetrail.knowledge.publish import missing_across_locales

    try:
        kbs = load_tenant(directory, tenant=tenant)
    except KnowledgeBaseError as exc:
        _fail(str(exc))
    for kb in kbs:
        typer.echo(f"{kb.tenant}\t{kb.locale}\t{len(kb.clauses)} clauses\thash {kb.content_hash}")
    for locale, missing in missing_across_locales(kbs).items():
        typer.secho(f"warning: {locale} lacks {', '.join(missing)}", fg=typer.colors.YELLOW, err=True)


@app.command("eval")
def eval_command(
    directory: Path = typer.Argument(SAMPLE_KB, help="KB folder with eval/<locale>.yaml question sets."),
    locale: Optional[List[str]] = typer.Option(None, "--locale"),
    goal: float = typer.Option(0.95, help="recall@3 every locale must reach (exit 1 otherwise)."),
    anchors: bool = typer.Option(True, "--anchors/--no-anchors",
                                 help="Rank by clause text and anchoring questions (default), or by text alone."),
    show_misses: bool = typer.Option(True, "--show-misses/--no-show-misses"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Retrieval recall@1, recall@3 and MRR per locale on the labelled questions, and the top-1 score split."""
    from casetrail.embeddings import default_embedder
    from casetrail.knowledge.evaluation import best_threshold, evaluate, top1_scores
    from casetrail.knowledge.vector_cache import VectorCache

    embedder = default_embedder()
    reports = evaluate(directory, embedder, locales=locale, anchors=anchors, vector_cache=VectorCache.from_settings())
    if not reports:
        _fail(f"no eval/<locale>.yaml question sets under {directory}")
    rows = [{"locale": r.locale, "questions": len(r.results), "recall@1": round(r.recall_at(1), 3),
             "recall@3": round(r.recall_at(3), 3), "mrr": round(r.mrr, 3)} for r in reports]
    split = {}
    for kind, margin in (("score", False), ("margin", True)):  # margin: top-1 score minus the runner-up's
        right, wrong = top1_scores(reports, margin=margin)
        fewest, _, _ = best_threshold(right, wrong)
        d_wrong = _distribution(wrong)
        # Where a threshold would separate them: the fewest errors, and above 90 % / all of the wrong top-1s.
        cuts = {"fewest_errors": fewest, "above_wrong_p90": d_wrong["p90"], "above_wrong_max": d_wrong["max"] + 1e-4}
        split[kind] = {"right_top1": _distribution(right), "wrong_top1": d_wrong,
                       "thresholds": {name: {"value": round(t, 4), "right_kept": sum(x >= t for x in right),
                                             "wrong_kept": sum(x >= t for x in wrong)} for name, t in cuts.items()}}
    typer.echo(f"embedder: {embedder.name}  ranking: {'text + anchoring questions' if anchors else 'clause text only'}")
    typer.echo(f"{'locale':<8}{'questions':>10}{'recall@1':>10}{'recall@3':>10}{'MRR':>8}")
    for row in rows:
        typer.echo(f"{row['locale']:<8}{row['questions']:>10}{row['recall@1']:>10.3f}{row['recall@3']:>10.3f}{row['mrr']:>8.3f}")
    for kind, caption in (("score", "top-1 score"), ("margin", "top-1 margin over the runner-up")):
        typer.echo(f"{caption + ' (all locales)':<40}{'n':>5}{'min':>8}{'p10':>8}{'p50':>8}{'p90':>8}{'max':>8}")
        for label, key in (("top-1 answers the question", "right_top1"), ("top-1 does not answer it", "wrong_top1")):
            d = split[kind][key]
            typer.echo(f"  {label:<38}{d['n']:>5}" + "".join(f"{d[k]:>8.3f}" for k in ("min", "p10", "p50", "p90", "max")))
        for name, t in split[kind]["thresholds"].items():
            typer.echo(f"  {kind} >= {t['value']:.3f} ({name.replace('_', ' ')}): keeps {t['right_kept']} right "
                       f"and {t['wrong_kept']} wrong top-1")
    if show_misses:
        for r in reports:
            for miss in r.misses_at_3:
                typer.echo(f"  miss@3 [{r.locale}] {miss.question!r}: expected {list(miss.expected)}, got {list(miss.ranked[:3])}")
    write_figures(json_path, {"embedder": embedder.name, "anchors": anchors, "locales": rows, "top1": split})
    below = [row["locale"] for row in rows if row["recall@3"] < goal]
    if below:
        _fail(f"recall@3 below {goal} in: {', '.join(below)}")


def _distribution(values: List[float]) -> dict:
    """n, min, p10, p50, p90, max of ``values`` (zeros when empty)."""
    import numpy as np

    if not values:
        return {"n": 0, "min": 0.0, "p10": 0.0, "p50": 0.0, "p90": 0.0, "max": 0.0}
    p10, p50, p90 = (round(float(x), 4) for x in np.percentile(values, [10, 50, 90]))
    return {"n": len(values), "min": round(min(values), 4), "p10": p10, "p50": p50, "p90": p90,
            "max": round(max(values), 4)}


@app.command("show")
def show(
    ref: Optional[str] = typer.Argument(None, help="clause_id@kb_version to resolve; omit to list versions."),
    tenant: str = typer.Option("acme-shop"),
    locale: str = typer.Option("", help="KB locale ('' = any)."),
) -> None:
    """List published versions, or print one clause exactly as published."""
    from casetrail.knowledge import catalogue, parse_ref, resolve

    if ref is None:
        versions = catalogue().versions(tenant=tenant)
        if not versions:
            typer.echo(f"no published versions for {tenant}")
        for v in versions:
            typer.echo(f"{v.tenant}\t{v.locale}\t{v.kb_version}\t{v.embedder}\t{v.published_at.isoformat()}")
        return
    try:
        clause_id, kb_version = parse_ref(ref)
    except ValueError as exc:
        _fail(str(exc))
    clause = resolve(tenant, locale, clause_id, kb_version)
    if clause is None:
        _fail(f"{ref} does not resolve for tenant {tenant}" + (f", locale {locale}" if locale else ""))
    effective = ""
    if clause.effective_from or clause.effective_until:
        effective = f" (effective {clause.effective_from or '…'} to {clause.effective_until or '…'})"
    typer.echo(f"{clause.clause_id}@{clause.kb_version} [{clause.locale}] {clause.title}{effective}")
    typer.echo(f"source: {clause.source_file}:{clause.line}")
    typer.echo("")
    typer.echo(clause.text)


def main() -> None:  # pragma: no cover - `python -m casetrail.knowledge.cli`
    app(prog_name="casetrail kb")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("kb", app)
