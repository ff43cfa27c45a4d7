"""Draft confidence: how much the router may trust a draft, in [0, 1].

    confidence = intent^0.5 * retrieval^0.3 * coverage^0.2     (weighted geometric mean)

* ``intent``   - triage's calibrated intent confidence (wrong intent, wrong answer).
* ``retrieval`` - how far the weakest cited clause's score sits between the
  grounding threshold and a "strong" score:
  ``clip((min cited score - threshold) / (strong - threshold), 0.05, 1)``.
  A clause just over the threshold supports the draft weakly, not at all
  (hence the 0.05 floor: it passed the threshold).
* ``coverage`` - share of the reply's factual sentences that carry a citation
  (framing such as the greeting, opener, closing and AI disclosure is not
  factual). The template composer only states cited sentences (coverage 1);
  an LLM draft may not.

A geometric mean so that any factor near zero pulls the whole down: a well
grounded answer to the wrong intent is not a confident draft. Weights favour
the intent because retrieval scores of small embedders are compressed.
"""

from __future__ import annotations

import math
from typing import Sequence

WEIGHTS = {"intent": 0.5, "retrieval": 0.3, "coverage": 0.2}


def retrieval_support(cited_scores: Sequence[float], threshold: float, strong: float) -> float:
    if not cited_scores:
        return 0.0
    span = max(strong - threshold, 1e-6)
    return min(1.0, max(0.05, (min(cited_scores) - threshold) / span))


def draft_confidence(intent_confidence: float, retrieval: float, coverage: float) -> float:
    factors = {
        "intent": min(1.0, max(0.0, intent_confidence)),
        "retrieval": min(1.0, max(0.0, retrieval)),
        "coverage": min(1.0, max(0.0, coverage)),
    }
    if any(value <= 0.0 for value in factors.values()):
        return 0.0
    return round(math.exp(sum(WEIGHTS[k] * math.log(v) for k, v in factors.items())), 4)
