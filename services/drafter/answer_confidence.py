"""How likely the cited clause answers the question: a calibrated probability in [0, 1].

A logistic model over the answer's features (``services/drafter/answer.py``), fitted
offline on the tune half of the project's development set (``casetrail eval calibrate``),
where a draft counts as answering when a reviewer who read that request with that first
cited clause said it answers (``evaluation/judged/``), else when its clause belongs to the
category the request was labelled with; checked on the other half. It replaces a
hand-weighted formula whose values sat just above the grounding floor for every draft,
so a verifier comparing it with a category threshold stopped answers that were right.

The artefact is JSON (weights, intercept, version, how it was fitted): nothing
unpickled, content-addressed version stamped on every draft.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from services.drafter.answer import FEATURE_NAMES, AnswerFeatures

DEFAULT_PATH = Path(__file__).parent / "models" / "answer-confidence.json"


@dataclass(frozen=True)
class AnswerConfidence:
    intercept: float
    weights: dict[str, float]
    fitted_on: dict = field(default_factory=dict)  # what it was fitted and checked on, for people

    @property
    def version(self) -> str:
        body = json.dumps({"intercept": self.intercept, "weights": self.weights}, sort_keys=True).encode()
        return f"answer-confidence@{hashlib.sha256(body).hexdigest()[:12]}"

    def probability(self, features: AnswerFeatures) -> float:
        z = self.intercept + sum(self.weights[name] * value
                                 for name, value in zip(FEATURE_NAMES, features.as_vector()))
        return round(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))), 4)

    def to_json(self) -> str:
        return json.dumps({"intercept": self.intercept, "weights": self.weights, "fitted_on": self.fitted_on},
                          indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> "AnswerConfidence":
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
            weights = {name: float(doc["weights"][name]) for name in FEATURE_NAMES}
            return cls(intercept=float(doc["intercept"]), weights=weights, fitted_on=doc.get("fitted_on", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not an answer-confidence model ({exc}); "
                             f"fit one with `casetrail eval calibrate`") from exc


def fit(features: Sequence[AnswerFeatures], answers: Sequence[bool], fitted_on: dict) -> AnswerConfidence:
    """Logistic regression (scikit-learn, lightly regularised) of ``answers`` on the features."""
    from sklearn.linear_model import LogisticRegression

    if len(set(answers)) < 2:
        raise ValueError("calibration needs drafts that answer and drafts that do not")
    model = LogisticRegression(C=10.0, max_iter=1000)
    model.fit([f.as_vector() for f in features], list(answers))
    weights = {name: round(float(w), 6) for name, w in zip(FEATURE_NAMES, model.coef_[0])}
    return AnswerConfidence(intercept=round(float(model.intercept_[0]), 6), weights=weights, fitted_on=fitted_on)
