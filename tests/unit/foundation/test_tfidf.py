"""FittedTfidf.transform gives scikit-learn's TfidfVectorizer.transform output."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from casetrail.tfidf import FittedTfidf

ROOT = Path(__file__).resolve().parents[3]


def _texts() -> list[str]:
    rows = [json.loads(line) for path in sorted((ROOT / "evaluation" / "dev").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows]


TEXTS = _texts()
UNSEEN = ["", "   ", "zzzz qqqq", "Wo ist meine Bestellung?!", "Kur yra mano užsakymas?", "x" * 3000,
          "Commande n°12345 — livrée ? Ça fait 2 semaines…"]


@pytest.mark.parametrize("settings", [
    dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32),
    dict(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32, token_pattern=r"(?u)\b\w+\b"),
    dict(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
    dict(analyzer="word", sublinear_tf=False, min_df=2),
    dict(analyzer="char", ngram_range=(1, 3), norm=None),
])
def test_rows_equal_scikit_learns(settings):
    vectorizer = TfidfVectorizer(lowercase=True, **settings).fit(TEXTS[::5])
    fast = FittedTfidf(vectorizer)
    texts = TEXTS[1::20] + UNSEEN
    expected, got = vectorizer.transform(texts), fast.transform(texts)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-5, atol=1e-7)
    assert got.nnz == expected.nnz


def test_a_binary_or_l1_vectorizer_is_refused():
    with pytest.raises(ValueError, match="l2"):
        FittedTfidf(TfidfVectorizer(norm="l1").fit(TEXTS[:50]))
