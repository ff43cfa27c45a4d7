"""Sentiment in [-1, 1] and frustration in [0, 1], in every supported language.

A multilingual embedding carries the tone of a sentence across languages, so
two small linear heads over the (already computed) conversation embedding do
the work — no English word list applied to German:

- polarity head: 4 levels (very_negative, negative, neutral, positive);
  ``sentiment`` = the expected value of the level, with values −1, −0.5, 0, +1
  (``LEVEL_VALUES``), so "very negative" (the tenant's ``sentiment < -0.6`` rule)
  needs the very-negative level to dominate. Models trained before the levels
  (3 classes) read as P(positive) − P(negative);
- frustration head: P(anger or disgust), raised a little by surface cues that
  are language-independent (runs of "!!!"/"?!", shouting in capitals).

Training data (``casetrail triage train-sentiment``): a sample of XED
movie-subtitle lines (en annotated, de/fr/es projections) mapped to polarity —
see ``xed_polarity`` — and the project's support-style lines in all five
languages (services/triage/data/sentiment_own.csv: angry, dissatisfied and
pleased customers, and plain requests as neutral — "I want to delete my account"
is a request, not an insult; built by ``services/triage/offline/sentiment_data.py``)
plus the Lithuanian lines of services/triage/data/sentiment_lt.csv.
Artefact: ``sentiment-model.npz`` + ``sentiment-model.json`` (no pickle).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from services.triage.artefacts import content_version, read_artefact

POLARITIES = ("negative", "neutral", "positive")  # XED's polarities and the 3-class models' labels
LEVELS = ("very_negative", "negative", "neutral", "positive")
LEVEL_VALUES = {"very_negative": -1.0, "negative": -0.5, "neutral": 0.0, "positive": 1.0}
_THREE_CLASS_VALUES = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
# XED emotions: anger 1, anticipation 2, disgust 3, fear 4, joy 5, sadness 6, surprise 7, trust 8.
NEGATIVE_EMOTIONS = {1, 3, 4, 6}
POSITIVE_EMOTIONS = {2, 5, 8}
FRUSTRATION_EMOTIONS = {1, 3}
NPZ_NAME = "sentiment-model.npz"
JSON_NAME = "sentiment-model.json"
_EXCLAIM = re.compile(r"[!?]{2,}")


def xed_polarity(emotions: set[int]) -> Optional[str]:
    """negative if only anger/disgust/fear/sadness (+surprise); positive if only anticipation/joy/trust (+surprise);
    None (dropped) for surprise alone or a mix of both sides."""
    negative, positive = bool(emotions & NEGATIVE_EMOTIONS), bool(emotions & POSITIVE_EMOTIONS)
    if negative and not positive:
        return "negative"
    if positive and not negative:
        return "positive"
    return None


@dataclass
class SentimentExample:
    text: str
    polarity: str
    frustrated: bool
    language: str


def is_held_out(text: str, percent: int = 20) -> bool:
    """Deterministic test split by text hash: the same line is always on the same side."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 100 < percent


def read_xed(directory: Path, language: str) -> list[SentimentExample]:
    """One language's polarity examples: ``en`` = en-annotated.tsv; others = ``<lang>-projections.tsv``."""
    name = "en-annotated.tsv" if language == "en" else f"{language}-projections.tsv"
    examples = []
    with open(Path(directory) / name, encoding="utf-8") as handle:
        for line in handle:
            if "\t" not in line:
                continue
            text, labels = line.rstrip("\n").rsplit("\t", 1)
            try:
                emotions = {int(x) for x in labels.replace(" ", "").split(",") if x}
            except ValueError:
                continue
            polarity = xed_polarity(emotions)
            if polarity and text.strip():
                examples.append(SentimentExample(text.strip(), polarity, bool(emotions & FRUSTRATION_EMOTIONS), language))
    return examples


def read_xed_neutral(directory: Path) -> list[SentimentExample]:
    examples = []
    with open(Path(directory) / "neu_en.txt", encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t", 1)
            if len(parts) == 2 and parts[1].strip():
                examples.append(SentimentExample(parts[1].strip(), "neutral", False, "en"))
    return examples


def read_own_examples(path: Path, language: Optional[str] = None) -> list[SentimentExample]:
    """``text,polarity,frustrated`` (+ ``language`` when ``language`` is not given)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [SentimentExample(r["text"], r["polarity"], r["frustrated"] == "1", language or r["language"])
                for r in csv.DictReader(handle)]


def surface_frustration(text: str) -> float:
    """Language-independent cues: '!!!', '?!', long runs of capitals. In [0, 0.4]."""
    cue = 0.0
    if _EXCLAIM.search(text):
        cue += 0.2
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        cue += 0.2
    return cue


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SentimentModel:
    def __init__(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.meta = meta
        self.embedder_name = meta["embedder"]
        self.labels: list[str] = list(meta.get("labels") or POLARITIES)
        values = meta.get("values") or _THREE_CLASS_VALUES
        self.values = np.asarray([values[label] for label in self.labels], dtype=np.float32)
        self.temperature = float(meta.get("temperature", 1.0))
        self.polarity_w = arrays["polarity_weights"].astype(np.float32)
        self.polarity_b = arrays["polarity_bias"].astype(np.float32)
        self.frustration_w = arrays["frustration_weights"].astype(np.float32)
        self.frustration_b = float(arrays["frustration_bias"][0])
        self.mean = arrays["embedding_mean"].astype(np.float32)
        self.version = meta.get("version", "sentiment@unsaved")

    def _centred(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.asarray(embeddings, dtype=np.float32) - self.mean
        n = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.where(n == 0, 1.0, n)

    def polarity_probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        return _softmax((self._centred(embeddings) @ self.polarity_w + self.polarity_b) / self.temperature)

    def score(self, texts: Sequence[str], embeddings: np.ndarray) -> list[tuple[float, float]]:
        """(sentiment in [-1, 1], frustration in [0, 1]) per text."""
        x = self._centred(embeddings)
        p = _softmax((x @ self.polarity_w + self.polarity_b) / self.temperature)
        f = 1.0 / (1.0 + np.exp(-(x @ self.frustration_w + self.frustration_b)))
        negative_share = p[:, self.values < 0].sum(axis=1)
        neutral_share = p[:, self.values == 0].sum(axis=1)
        out = []
        for text, row, frustration, negative, neutral in zip(texts, p, f, negative_share, neutral_share):
            sentiment = float(row @ self.values)
            # Frustration is a negative state: a positive message is not frustrated whatever the head says.
            value = float(frustration) * float(negative + 0.5 * neutral) + surface_frustration(text) * (1.0 if sentiment < 0 else 0.25)
            out.append((round(max(-1.0, min(1.0, sentiment)), 4), round(max(0.0, min(1.0, value)), 4)))
        return out

    def save(self, directory: Path, arrays_extra: Optional[dict] = None) -> str:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / NPZ_NAME, polarity_weights=self.polarity_w, polarity_bias=self.polarity_b,
            frustration_weights=self.frustration_w, frustration_bias=np.asarray([self.frustration_b], np.float32),
            embedding_mean=self.mean,
        )
        meta = {k: v for k, v in self.meta.items() if k != "version"}
        (directory / JSON_NAME).write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        self.version = _version(directory)
        return self.version

    @classmethod
    def load(cls, directory: Path) -> "SentimentModel":
        directory = Path(directory)
        meta, arrays = read_artefact(directory, JSON_NAME, NPZ_NAME, "a sentiment model")
        meta["version"] = _version(directory)
        return cls(meta, arrays)


def _version(directory: Path) -> str:
    return content_version(directory, JSON_NAME, NPZ_NAME, "sentiment")


def train_sentiment(examples: Sequence[SentimentExample], embeddings: np.ndarray, embedder_name: str, C: float = 1.0) -> SentimentModel:
    from sklearn.linear_model import LogisticRegression

    mean = np.asarray(embeddings, dtype=np.float32).mean(axis=0)
    x = np.asarray(embeddings, dtype=np.float32) - mean
    x /= np.where(np.linalg.norm(x, axis=1, keepdims=True) == 0, 1.0, np.linalg.norm(x, axis=1, keepdims=True))
    labels = [level for level in LEVELS if any(e.polarity == level for e in examples)]
    y = np.asarray([labels.index(e.polarity) for e in examples])
    polarity = LogisticRegression(C=C, max_iter=1000, class_weight="balanced").fit(x, y)
    frustrated = np.asarray([e.frustrated for e in examples], dtype=int)
    frustration = LogisticRegression(C=C, max_iter=1000, class_weight="balanced").fit(x, frustrated)
    counts: dict[str, dict[str, int]] = {}
    for e in examples:
        counts.setdefault(e.language, {}).setdefault(e.polarity, 0)
        counts[e.language][e.polarity] += 1
    meta = {"format": 1, "embedder": embedder_name, "labels": labels,
            "values": {label: (LEVEL_VALUES if "very_negative" in labels else _THREE_CLASS_VALUES)[label]
                       for label in labels}, "C": C, "training_counts": counts,
            "mapping": {"negative": sorted(NEGATIVE_EMOTIONS), "positive": sorted(POSITIVE_EMOTIONS),
                        "frustration": sorted(FRUSTRATION_EMOTIONS), "dropped": "surprise alone; mixed polarity"}}
    arrays = {"polarity_weights": polarity.coef_.T.astype(np.float32), "polarity_bias": polarity.intercept_.astype(np.float32),
              "frustration_weights": frustration.coef_[0].astype(np.float32),
              "frustration_bias": np.asarray([frustration.intercept_[0]], np.float32), "embedding_mean": mean}
    return SentimentModel(meta, arrays)
