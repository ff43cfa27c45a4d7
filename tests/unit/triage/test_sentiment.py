"""Sentiment: the documented XED mapping, the heads, and the shipped model in every language."""

import numpy as np
import pytest

from services.triage.sentiment import (
    SentimentExample, SentimentModel, is_held_out, surface_frustration, train_sentiment, xed_polarity,
)
from services.triage.triager import DEFAULT_SENTIMENT_MODEL


def test_xed_mapping():
    assert xed_polarity({1}) == "negative" and xed_polarity({3, 6}) == "negative" and xed_polarity({4, 7}) == "negative"
    assert xed_polarity({5}) == "positive" and xed_polarity({2, 8}) == "positive" and xed_polarity({5, 7}) == "positive"
    assert xed_polarity({7}) is None and xed_polarity({1, 5}) is None and xed_polarity(set()) is None


def test_held_out_split_is_deterministic():
    assert is_held_out("some line") == is_held_out("some line")
    share = np.mean([is_held_out(f"line {i}") for i in range(5000)])
    assert 0.17 < share < 0.23


def test_surface_cues():
    assert surface_frustration("WHY DOES NOTHING WORK?!") == pytest.approx(0.4)
    assert surface_frustration("thanks, all good") == 0.0


def test_trained_heads_on_synthetic_embeddings(tmp_path):
    rng = np.random.default_rng(0)
    centres = {"negative": rng.normal(size=8), "neutral": rng.normal(size=8), "positive": rng.normal(size=8)}
    examples, vectors = [], []
    for polarity, centre in centres.items():
        for i in range(60):
            examples.append(SentimentExample(f"{polarity} {i}", polarity, polarity == "negative" and i % 2 == 0, "en"))
            vectors.append(centre + rng.normal(scale=0.3, size=8))
    vectors = np.asarray(vectors, dtype=np.float32)
    model = train_sentiment(examples, vectors, "test-embedder")
    scores = model.score(["a", "b"], np.stack([centres["negative"], centres["positive"]]))
    assert scores[0][0] < -0.5 < 0.5 < scores[1][0]
    assert scores[0][1] > scores[1][1]
    version = model.save(tmp_path)
    loaded = SentimentModel.load(tmp_path)
    assert loaded.version == version and version.startswith("sentiment@")
    assert loaded.score(["a"], centres["negative"][None, :])[0] == scores[0]


@pytest.fixture(scope="module")
def shipped():
    from casetrail.embeddings import default_embedder

    return SentimentModel.load(DEFAULT_SENTIMENT_MODEL), default_embedder()


@pytest.mark.parametrize("negative,positive", [
    ("This is terrible, I am furious, nothing works and nobody answers!", "Thank you so much, everything works perfectly!"),
    ("Das ist eine Frechheit, ich bin wirklich wütend!", "Vielen Dank, ich bin sehr zufrieden!"),
    ("C'est inadmissible, je suis vraiment en colère !", "Merci beaucoup, je suis très content !"),
    ("Es una vergüenza, estoy muy enfadado.", "¡Muchas gracias, estoy encantado!"),
    ("Tai siaubinga, esu labai piktas ir nusivylęs!", "Labai ačiū, esu labai patenkintas!"),
])
def test_shipped_model_reads_tone_in_every_language(shipped, negative, positive):
    model, embedder = shipped
    (neg, neg_frustration), (pos, pos_frustration) = model.score([negative, positive], embedder.embed([negative, positive]))
    assert -1 <= neg < 0 < pos <= 1
    assert neg_frustration > pos_frustration and 0 <= pos_frustration <= 1
