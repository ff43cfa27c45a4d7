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


@pytest.mark.parametrize("request_text", [
    "I want to delete my account", "cancel my order please", "Bitte löschen Sie mein Konto",
    "Je veux annuler ma commande", "Quiero darme de baja de la newsletter", "Noriu ištrinti savo paskyrą",
    "how do i return these shoes", "Kur mano užsakymas?",
])
def test_shipped_model_does_not_read_a_plain_request_as_negative(shipped, request_text):
    model, embedder = shipped
    (sentiment, _), = model.score([request_text], embedder.embed([request_text]))
    assert sentiment > -0.3  # far from the tenant's very-negative rule (< -0.6)


@pytest.mark.parametrize("furious", [
    "This is absolutely disgraceful, third time I write and you keep ignoring me! Worst shop ever!!",
    "Das ist eine bodenlose Frechheit, ihr seid Betrüger und ignoriert mich seit Wochen!",
    "C'est une honte, vous êtes des escrocs, je suis furieux !!",
    "Es una vergüenza, son unos ladrones y nadie me contesta, estoy harta!!",
    "Tai gėda, jūs sukčiai, niekas neatsako jau savaitę!!",
])
def test_shipped_model_flags_a_furious_customer_very_negative(shipped, furious):
    model, embedder = shipped
    (sentiment, frustration), = model.score([furious], embedder.embed([furious]))
    assert sentiment < -0.6 and frustration > 0.4


def test_four_levels_read_as_the_expected_value(tmp_path):
    rng = np.random.default_rng(2)
    levels = ("very_negative", "negative", "neutral", "positive")
    centres = {level: rng.normal(size=8) * 3 for level in levels}
    examples, vectors = [], []
    for level in levels:
        for i in range(50):
            examples.append(SentimentExample(f"{level} {i}", level, level == "very_negative", "en"))
            vectors.append(centres[level] + rng.normal(scale=0.3, size=8))
    model = train_sentiment(examples, np.asarray(vectors, dtype=np.float32), "test-embedder")
    assert model.labels == list(levels) and model.meta["values"]["negative"] == -0.5
    scores = [s for s, _ in model.score(list(levels), np.stack([centres[level] for level in levels]))]
    assert scores[0] < -0.6 < scores[1] < -0.2 and abs(scores[2]) < 0.2 and scores[3] > 0.6
    model.save(tmp_path)
    assert [s for s, _ in SentimentModel.load(tmp_path).score(["x"], centres["negative"][None, :])] == [scores[1]]


def test_derived_support_lines_label_requests_neutral_and_strong_complaints_very_negative():
    from services.triage.offline.public_intents import Row
    from services.triage.offline.sentiment_data import derived_rows

    rows = derived_rows([
        Row("I want to delete my account", "account_delete", "en", "own"),
        Row("stop spamming me with emails", "newsletter", "en", "own"),  # a negative cue: not a neutral line
        Row("Worst service ever, a disgrace", "complaint", "en", "own"),
        Row("I am not satisfied with the answer", "complaint", "en", "own"),
        Row("Thanks, great service!", "feedback", "en", "own"),
        Row("Add a dark mode please", "feedback", "en", "own"),  # a suggestion: no label
        Row("my card was declined", "payment_issue", "en", "own"),  # a problem report: no label
    ])
    assert [(text, level) for text, level, *_ in rows] == [
        ("I want to delete my account", "neutral"), ("Worst service ever, a disgrace", "very_negative"),
        ("I am not satisfied with the answer", "negative"), ("Thanks, great service!", "positive")]
