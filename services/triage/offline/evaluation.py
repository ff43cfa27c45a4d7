"""Quality figures of an intent classifier on a labelled test set (pure: predictions in, numbers out).

- accuracy: over every test example; an out-of-scope example is right when
  predicted out of scope.
- in_scope_accuracy (CLINC150's "in-domain accuracy"): over in-scope examples
  only; predicting ``out_of_scope`` for one of them counts as an error.
- oos_recall / oos_precision: for the ``out_of_scope`` label.
- macro_f1 and per-intent precision/recall/F1/support over the gold labels.
- risk–coverage: for each confidence threshold, the share of decisions kept
  (confidence >= threshold and not out of scope) and the accuracy of those kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from casetrail.policy.taxonomy import OUT_OF_SCOPE

THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99)


def per_label_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold))
    tp = Counter(g for g, p in zip(gold, predicted) if g == p)
    pred_count = Counter(predicted)
    gold_count = Counter(gold)
    scores = {}
    for label in labels:
        precision = tp[label] / pred_count[label] if pred_count[label] else 0.0
        recall = tp[label] / gold_count[label] if gold_count[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                         "support": gold_count[label]}
    return scores


def risk_coverage(gold: Sequence[str], predicted: Sequence[str], confidence: Sequence[float],
                  thresholds: Sequence[float] = THRESHOLDS) -> list[dict[str, float]]:
    gold_a, pred_a, conf = np.asarray(gold), np.asarray(predicted), np.asarray(confidence, dtype=float)
    decided = pred_a != OUT_OF_SCOPE
    rows = []
    for threshold in sorted(set(thresholds)):
        kept = decided & (conf >= threshold)
        n = int(kept.sum())
        accuracy = float((gold_a[kept] == pred_a[kept]).mean()) if n else None
        rows.append({"threshold": round(float(threshold), 4), "coverage": round(n / len(gold_a), 4),
                     "kept": n, "accuracy": None if accuracy is None else round(accuracy, 4)})
    return rows


def evaluate(gold: Sequence[str], predicted: Sequence[str], confidence: Sequence[float],
             autonomous_threshold: float | None = None) -> dict:
    gold, predicted = list(gold), list(predicted)
    if not gold or len(gold) != len(predicted) or len(confidence) != len(gold):
        raise ValueError("gold, predicted and confidence must be non-empty and of equal length")
    correct = np.asarray([g == p for g, p in zip(gold, predicted)])
    in_scope = np.asarray([g != OUT_OF_SCOPE for g in gold])
    per_label = per_label_scores(gold, predicted)
    report: dict = {
        "examples": len(gold),
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(np.mean([s["f1"] for s in per_label.values()])), 4),
    }
    if not in_scope.all():
        is_oos_pred = np.asarray([p == OUT_OF_SCOPE for p in predicted])
        report["in_scope_accuracy"] = round(float(correct[in_scope].mean()), 4) if in_scope.any() else None
        report["oos_recall"] = round(float(is_oos_pred[~in_scope].mean()), 4)
        report["oos_precision"] = round(float((~in_scope[is_oos_pred]).mean()), 4) if is_oos_pred.any() else None
        report["in_scope_macro_f1"] = round(float(np.mean([s["f1"] for l, s in per_label.items() if l != OUT_OF_SCOPE])), 4)
    thresholds = list(THRESHOLDS) + ([autonomous_threshold] if autonomous_threshold is not None else [])
    report["risk_coverage"] = risk_coverage(gold, predicted, confidence, thresholds)
    if autonomous_threshold is not None:
        row = next(r for r in report["risk_coverage"] if r["threshold"] == round(float(autonomous_threshold), 4))
        report["at_autonomous_threshold"] = {"threshold": round(float(autonomous_threshold), 4),
                                             "precision": row["accuracy"], "coverage": row["coverage"]}
    report["per_intent"] = per_label
    return report
