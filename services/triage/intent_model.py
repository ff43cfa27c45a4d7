"""Intent classifier: logistic regression over [sentence embedding | char n-gram TF-IDF | word TF-IDF].

Over 400 lines: the stored artefact, its features, its training and the temperature and thresholds
chosen on the same out-of-fold predictions are one contract (what ``save`` writes is what
``train`` fitted and ``load`` checks); the threshold choosers could stand apart, left to the
triage owner's next change to this module.

Why this shape: the multilingual embedding carries meaning across languages
(Lithuanian included), the character n-grams catch the exact vocabulary of
a domain ("top up", "virtual card", inflected Lithuanian word stems) that a
small embedding model blurs. One linear layer over both is cheap (< 1 ms per
ticket), trains in seconds and is easy to store safely.

Confidence: the raw softmax of a logistic regression is over- or under-
confident; a single temperature ``T`` is fitted on out-of-fold predictions of
the training data (k-fold, so no example is scored by a model that saw it), and
the final model is refitted on all data. Two thresholds are chosen on the same
out-of-fold predictions and stored with the model:

- ``oos_threshold``: below it the intent is ``out_of_scope``. When the training
  data has out-of-scope examples (label ``oos`` or ``out_of_scope``) they are a
  class of their own AND the threshold is chosen to balance in-scope accuracy
  against out-of-scope recall (``oos_weight``, see ``choose_oos_threshold``);
  without them it keeps 99 % of in-scope examples.
- ``autonomous_threshold``: the lowest confidence at which out-of-fold
  precision of the decisions kept reaches ``target_precision`` (0.99) with
  95 % confidence (Wilson lower bound) — the model's recommendation for a
  category's autonomy threshold.

Artefact: ``<dir>/intent-model.npz`` (arrays only, loaded with
``allow_pickle=False``) and ``<dir>/intent-model.json`` (labels, vocabularies,
thresholds, metadata). Nothing is unpickled. The version is
``<name>@<sha256 of both files, 12 hex>`` and is stamped on every triage event.
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from services.triage.artefacts import content_version, read_artefact

from casetrail.policy.taxonomy import OUT_OF_SCOPE
from casetrail.tfidf import FittedTfidf

OOS_LABELS = {"oos", OUT_OF_SCOPE}
FORMAT_VERSION = 1
NPZ_NAME = "intent-model.npz"
JSON_NAME = "intent-model.json"


@dataclass(frozen=True)
class FeatureConfig:
    char_ngrams: tuple[int, int] = (2, 5)
    char_max_features: int = 60000
    word_ngrams: tuple[int, int] = (1, 2)
    word_max_features: int = 30000
    min_df: int = 1
    embedding_weight: float = 1.0
    char_weight: float = 1.0
    word_weight: float = 1.0
    #: n-grams read the text with accents removed ("užsakymas" = "uzsakymas", "annulée" = "annulee"):
    #: customers often type without them
    fold_accents: bool = False


@dataclass(frozen=True)
class TrainConfig:
    C: float = 3.0
    #: when set, C is chosen among these by out-of-fold top-1 accuracy (costs one k-fold pass per value)
    C_candidates: tuple[float, ...] = ()
    folds: int = 3
    target_precision: float = 0.99
    oos_weight: float = 0.5
    max_iter: int = 300
    #: "balanced": each class weighs the same in the loss whatever its number of examples
    class_weight: Optional[str] = None
    features: FeatureConfig = field(default_factory=FeatureConfig)


@dataclass
class Prediction:
    intent: str
    confidence: float
    out_of_scope: bool
    alternatives: list[tuple[str, float]]  # top intents with calibrated probabilities


def normalise_label(label: str) -> str:
    label = label.strip()
    return OUT_OF_SCOPE if label.lower() in OOS_LABELS else label


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising negative log-likelihood (golden-section search on log T)."""

    def nll(log_t: float) -> float:
        p = _softmax(logits, float(np.exp(log_t)))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def wilson_lower_bound(hits: np.ndarray, n: np.ndarray, z: float = 1.96) -> np.ndarray:
    """Lower end of the Wilson score interval of a proportion (95 % by default)."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    p = np.asarray(hits, dtype=float) / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def choose_autonomous_threshold(confidence: np.ndarray, correct: np.ndarray, target_precision: float) -> float:
    """Lowest threshold at which the precision of the decisions kept is at least ``target_precision``
    with 95 % confidence (Wilson lower bound), so the figure holds on new data, not only on this sample.
    1.0 (nothing autonomous) if no threshold qualifies."""
    order = np.argsort(-confidence)
    kept = np.arange(1, len(order) + 1)
    hits = np.cumsum(correct[order])
    ok = np.where(wilson_lower_bound(hits, kept) >= target_precision)[0]
    if len(ok) == 0:
        return 1.0
    return float(confidence[order][ok[-1]])


def choose_oos_threshold(in_scope_conf: np.ndarray, in_scope_correct: np.ndarray, oos_conf: np.ndarray | None,
                         oos_weight: float = 0.5) -> float:
    """Threshold on the top in-scope probability below which a text is out of scope.

    With out-of-scope examples: maximise in-scope accuracy + ``oos_weight`` ×
    out-of-scope recall (each counted on its own set). The weight is below 1
    because a wrongly rejected in-scope ticket costs an agent's time for sure,
    while a wrongly accepted out-of-scope one must still pass the category's
    autonomy threshold and the verifier. Without examples: keep 99 % of in-scope.
    """
    if oos_conf is None or len(oos_conf) == 0:
        return float(np.quantile(in_scope_conf, 0.01))
    best, best_score = 0.0, -1.0
    for threshold in np.unique(np.round(np.concatenate([in_scope_conf, oos_conf]), 3)):
        accuracy = float(np.mean(in_scope_correct & (in_scope_conf >= threshold)))
        recall = float(np.mean(oos_conf < threshold))
        score = accuracy + oos_weight * recall
        if score > best_score:
            best, best_score = float(threshold), score
    return best


class IntentModel:
    """A trained intent classifier; build with ``train`` or ``load``."""

    def __init__(self, meta: dict, arrays: dict[str, np.ndarray], version: str) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.meta = meta
        self.labels: list[str] = meta["labels"]
        self.embedder_name: str = meta["embedder"]
        self.temperature = float(meta["temperature"])
        self.oos_threshold = float(meta["oos_threshold"])
        self.autonomous_threshold = float(meta["autonomous_threshold"])
        self.version = version
        self.weights = arrays["weights"].astype(np.float32)  # (features, classes)
        self.bias = arrays["bias"].astype(np.float32)
        self.embedding_mean = arrays["embedding_mean"].astype(np.float32)
        cfg = meta["features"]
        self.feature_config = FeatureConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
        self._char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(cfg["char_ngrams"]), sublinear_tf=True,
            lowercase=True, vocabulary=meta["char_vocabulary"], dtype=np.float32,
        )
        self._char.idf_ = arrays["char_idf"]
        self._word = TfidfVectorizer(
            analyzer="word", ngram_range=tuple(cfg["word_ngrams"]), sublinear_tf=True,
            lowercase=True, vocabulary=meta["word_vocabulary"], dtype=np.float32, token_pattern=r"(?u)\b\w+\b",
        )
        self._word.idf_ = arrays["word_idf"]
        # the same rows without scikit-learn's per-call validation (casetrail/tfidf.py says why)
        self._char_rows, self._word_rows = FittedTfidf(self._char), FittedTfidf(self._word)
        self._oos_index = self.labels.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.labels else None

    # -- inference ---------------------------------------------------------------------------
    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        features = build_features(texts, embeddings, self.embedding_mean, self._char_rows, self._word_rows,
                                  self.feature_config)
        return np.asarray(features @ self.weights) + self.bias

    def probabilities(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        return _softmax(self.logits(texts, embeddings), self.temperature)

    def decide(self, probabilities: np.ndarray, top_k: int = 3) -> list[Prediction]:
        """Calibrated probabilities -> intent, applying the out-of-scope class and threshold."""
        out = []
        for row in probabilities:
            order = np.argsort(-row)
            alternatives = [(self.labels[i], float(row[i])) for i in order[:top_k]]
            best = int(order[0])
            in_scope = [i for i in order if i != self._oos_index]
            top_in_scope = int(in_scope[0])
            oos = best == self._oos_index or float(row[top_in_scope]) < self.oos_threshold
            if oos:
                oos_p = float(row[self._oos_index]) if self._oos_index is not None else 1.0 - float(row[top_in_scope])
                out.append(Prediction(OUT_OF_SCOPE, oos_p, True, alternatives))
            else:
                out.append(Prediction(self.labels[top_in_scope], float(row[top_in_scope]), False, alternatives))
        return out

    def top_in_scope(self, probabilities: np.ndarray) -> list[str]:
        """The most probable in-scope intent per row, ignoring out-of-scope (closed-set prediction)."""
        masked = probabilities.copy()
        if self._oos_index is not None:
            masked[:, self._oos_index] = -1.0
        return [self.labels[i] for i in masked.argmax(axis=1)]

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> list[Prediction]:
        return self.decide(self.probabilities(texts, embeddings))

    def recalibrated(self, temperature: float, oos_threshold: float, calibration: dict) -> "IntentModel":
        """The same weights with a temperature and out-of-scope threshold fitted elsewhere (e.g. on a
        development set's tuning half); ``calibration`` says where, and is kept in the artefact."""
        meta = {**self.meta, "temperature": float(temperature), "oos_threshold": float(oos_threshold),
                "calibration": calibration}
        arrays = {"weights": self.weights, "bias": self.bias, "embedding_mean": self.embedding_mean,
                  "char_idf": self._char.idf_, "word_idf": self._word.idf_}
        return IntentModel(meta, arrays, version=f"{meta.get('name', 'intent')}@unsaved")

    # -- storage ------------------------------------------------------------------------------
    def save(self, directory: Path) -> str:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / NPZ_NAME,
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            embedding_mean=self.embedding_mean,
            char_idf=self._char.idf_.astype(np.float32),
            word_idf=self._word.idf_.astype(np.float32),
        )
        (directory / JSON_NAME).write_text(json.dumps(self.meta, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        self.version = artefact_version(directory)
        return self.version

    @classmethod
    def load(cls, directory: Path) -> "IntentModel":
        directory = Path(directory)
        meta, arrays = read_artefact(directory, JSON_NAME, NPZ_NAME, "an intent model")
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{directory}: unsupported intent model format {meta.get('format')!r}")
        return cls(meta, arrays, artefact_version(directory))


def artefact_version(directory: Path) -> str:
    meta = json.loads((Path(directory) / JSON_NAME).read_text(encoding="utf-8"))
    return content_version(directory, JSON_NAME, NPZ_NAME, meta.get("name", "intent"))


def fold_accents(text: str) -> str:
    """Lower-case, without combining accents (ß -> ss): the text the n-gram features read when folding."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ngram_texts(texts: Sequence[str], cfg: FeatureConfig) -> list[str]:
    return [fold_accents(t) for t in texts] if cfg.fold_accents else list(texts)


def build_features(texts, embeddings, embedding_mean, char_vectorizer, word_vectorizer, cfg: FeatureConfig):
    from scipy import sparse

    texts = ngram_texts(texts, cfg)
    centred = np.asarray(embeddings, dtype=np.float32) - embedding_mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    centred = centred / np.where(norms == 0, 1.0, norms) * cfg.embedding_weight
    blocks = [sparse.csr_matrix(centred)]
    blocks.append(char_vectorizer.transform(texts) * cfg.char_weight)
    blocks.append(word_vectorizer.transform(texts) * cfg.word_weight)
    return sparse.hstack(blocks, format="csr", dtype=np.float32)


def _fit_linear(texts, embeddings, y, n_classes, config: TrainConfig, sample_weight=None):
    """Fit vectorisers + logistic regression; returns (coef (features, classes), bias, mean, char, word)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    cfg = config.features
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=cfg.char_ngrams, sublinear_tf=True, lowercase=True,
                           max_features=cfg.char_max_features, min_df=cfg.min_df, dtype=np.float32)
    word = TfidfVectorizer(analyzer="word", ngram_range=cfg.word_ngrams, sublinear_tf=True, lowercase=True,
                           max_features=cfg.word_max_features, min_df=cfg.min_df, dtype=np.float32,
                           token_pattern=r"(?u)\b\w+\b")
    char.fit(ngram_texts(texts, cfg))
    word.fit(ngram_texts(texts, cfg))
    mean = np.asarray(embeddings, dtype=np.float32).mean(axis=0)
    X = build_features(texts, embeddings, mean, char, word, cfg)
    clf = LogisticRegression(C=config.C, max_iter=config.max_iter, tol=1e-3, class_weight=config.class_weight)
    clf.fit(X, y, sample_weight=sample_weight)
    coef = np.zeros((X.shape[1], n_classes), dtype=np.float32)
    bias = np.full(n_classes, -1e4, dtype=np.float32)  # a class absent from a fold can never win
    for column, cls in enumerate(clf.classes_):
        coef[:, cls] = clf.coef_[column] if len(clf.classes_) > 2 else (clf.coef_[0] if column == 1 else -clf.coef_[0]) / 2
        bias[cls] = clf.intercept_[column] if len(clf.classes_) > 2 else (clf.intercept_[0] if column == 1 else -clf.intercept_[0]) / 2
    return coef, bias, mean, char, word


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    embeddings: np.ndarray,
    embedder_name: str,
    name: str = "intent",
    config: TrainConfig = TrainConfig(),
    progress: Callable[[str], None] = lambda message: None,
) -> IntentModel:
    """Train, calibrate and choose thresholds (see module doc). ``embeddings`` align with ``texts``."""
    from sklearn.model_selection import StratifiedKFold

    started = time.monotonic()
    texts = list(texts)
    labels = [normalise_label(l) for l in labels]
    classes = sorted(set(labels))
    if len([c for c in classes if c != OUT_OF_SCOPE]) < 2:
        raise ValueError("training needs at least two in-scope intents")
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[l] for l in labels])
    counts = np.bincount(y, minlength=len(classes))
    folds = max(2, min(config.folds, int(counts.min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=13)
    text_array = np.asarray(texts, dtype=object)
    splits = list(splitter.split(text_array, y))
    candidates = sorted(set(config.C_candidates or (config.C,)))
    best = None
    search: dict[str, float] = {}
    for C in candidates:
        fold_config = replace(config, C=C)
        logits = np.zeros((len(texts), len(classes)), dtype=np.float32)
        for fold, (fit_idx, held_idx) in enumerate(splits, start=1):
            progress(f"C={C}: out-of-fold pass {fold}/{folds}, fitting on {len(fit_idx)} examples")
            coef, bias, mean, char, word = _fit_linear(list(text_array[fit_idx]), embeddings[fit_idx], y[fit_idx],
                                                       len(classes), fold_config)
            X = build_features(list(text_array[held_idx]), embeddings[held_idx], mean, char, word, config.features)
            logits[held_idx] = np.asarray(X @ coef) + bias
        accuracy = float((logits.argmax(axis=1) == y).mean())
        progress(f"C={C}: out-of-fold top-1 accuracy {accuracy:.4f}")
        search[str(C)] = round(accuracy, 4)
        if best is None or accuracy > best[0]:
            best = (accuracy, C, logits)
    _, chosen_C, oof_logits = best
    config = replace(config, C=chosen_C)
    temperature = fit_temperature(oof_logits, y)
    oof_p = _softmax(oof_logits, temperature)

    oos = index.get(OUT_OF_SCOPE)
    in_scope_cols = [i for i in range(len(classes)) if i != oos]
    top_in = np.asarray(in_scope_cols)[oof_p[:, in_scope_cols].argmax(axis=1)]
    top_in_p = oof_p[np.arange(len(y)), top_in]
    predicted_oos = (oof_p.argmax(axis=1) == oos) if oos is not None else np.zeros(len(y), bool)
    is_oos = (y == oos) if oos is not None else np.zeros(len(y), bool)
    in_correct = (top_in == y) & ~predicted_oos
    oos_conf = np.where(predicted_oos[is_oos], 0.0, top_in_p[is_oos]) if oos is not None else None
    oos_threshold = choose_oos_threshold(top_in_p[~is_oos], in_correct[~is_oos], oos_conf, config.oos_weight)
    decided_in = ~predicted_oos & (top_in_p >= oos_threshold)
    autonomous_threshold = max(
        oos_threshold,
        choose_autonomous_threshold(np.where(decided_in, top_in_p, 0.0), (top_in == y) & decided_in, config.target_precision),
    )
    progress(f"temperature {temperature:.3f}, out-of-scope threshold {oos_threshold:.3f}, "
             f"autonomous threshold {autonomous_threshold:.3f}; fitting final model on {len(texts)} examples")
    coef, bias, mean, char, word = _fit_linear(texts, embeddings, y, len(classes), config)
    oof_accuracy = float(np.mean(np.where(is_oos, ~decided_in, decided_in & (top_in == y))))
    meta = {
        "format": FORMAT_VERSION,
        "name": name,
        "labels": classes,
        "embedder": embedder_name,
        "temperature": temperature,
        "oos_threshold": oos_threshold,
        "autonomous_threshold": autonomous_threshold,
        "target_precision": config.target_precision,
        "C": config.C,
        "C_candidates": list(candidates),
        "C_search_out_of_fold_accuracy": search,
        "oos_weight": config.oos_weight,
        "class_weight": config.class_weight,
        "folds": folds,
        "features": {k: list(v) if isinstance(v, tuple) else v for k, v in config.features.__dict__.items()},
        "char_vocabulary": {k: int(v) for k, v in char.vocabulary_.items()},
        "word_vocabulary": {k: int(v) for k, v in word.vocabulary_.items()},
        "training": {
            "examples": len(texts),
            "per_label": {c: int(n) for c, n in zip(classes, counts)},
            "out_of_fold_accuracy": oof_accuracy,
            "seconds": round(time.monotonic() - started, 1),
        },
    }
    arrays = {"weights": coef, "bias": bias, "embedding_mean": mean,
              "char_idf": char.idf_.astype(np.float32), "word_idf": word.idf_.astype(np.float32)}
    return IntentModel(meta, arrays, version=f"{name}@unsaved")
