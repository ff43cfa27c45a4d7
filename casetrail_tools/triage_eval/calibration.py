"""The intent model's temperature and out-of-scope threshold, fitted on the dev set's TUNE half.

Training picks both on out-of-fold predictions of the training data, whose register
(written examples, public data sets) is not the customers'. Here they are fitted on
what triage reads of the TUNE half's tickets (odd ids): the temperature by negative
log-likelihood, the out-of-scope threshold by ``choose_oos_threshold`` (in-scope
accuracy + ``oos_weight`` x out-of-scope recall). The CHECK half is never read.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from casetrail.policy.taxonomy import OUT_OF_SCOPE
from casetrail_tools.triage_eval.inputs import TriagedTicket


def calibrate(model, items: Sequence[TriagedTicket], oos_weight: float = 0.5):
    """``(recalibrated model, figures)`` from the TUNE-half items that triage classified."""
    from services.triage.intent_model import _softmax, choose_oos_threshold, fit_temperature

    tune = [i for i in items if i.half == "tune" and i.embedding is not None
            and i.ticket.expected.category in model.labels]
    if not tune:
        raise ValueError("no TUNE-half ticket with an expected category the model knows")
    logits = model.logits([i.text for i in tune], np.vstack([i.embedding for i in tune]))
    gold = np.asarray([model.labels.index(i.ticket.expected.category) for i in tune])
    temperature = fit_temperature(logits, gold)
    probabilities = _softmax(logits, temperature)
    oos = model.labels.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in model.labels else None
    in_scope_columns = [c for c in range(len(model.labels)) if c != oos]
    top = np.asarray(in_scope_columns)[probabilities[:, in_scope_columns].argmax(axis=1)]
    top_p = probabilities[np.arange(len(tune)), top]
    predicted_oos = probabilities.argmax(axis=1) == oos if oos is not None else np.zeros(len(tune), bool)
    is_oos = gold == oos if oos is not None else np.zeros(len(tune), bool)
    correct = (top == gold) & ~predicted_oos
    oos_conf = np.where(predicted_oos[is_oos], 0.0, top_p[is_oos]) if oos is not None else None
    threshold = choose_oos_threshold(top_p[~is_oos], correct[~is_oos], oos_conf, oos_weight)
    figures = {
        "fitted_on": "dev set TUNE half (odd ids): what triage reads after ingest",
        "tickets": len(tune),
        "temperature_before": round(float(model.temperature), 4),
        "oos_threshold_before": round(float(model.oos_threshold), 4),
        "temperature": round(float(temperature), 4),
        "oos_threshold": round(float(threshold), 4),
        "oos_weight": oos_weight,
    }
    return model.recalibrated(temperature, threshold, figures), figures
