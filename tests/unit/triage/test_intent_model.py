"""Intent model: training, calibration, thresholds, safe artefact round trip, evaluation figures."""

import json
import zipfile

import numpy as np
import pytest

from casetrail.policy.taxonomy import OUT_OF_SCOPE
from services.triage.offline.evaluation import evaluate, risk_coverage
from services.triage.intent_model import (
    IntentModel, TrainConfig, choose_autonomous_threshold, fit_temperature, train,
)

WORDS = {
    "order_status": ["where is my parcel", "package not arrived", "tracking number delivery", "when will my order come"],
    "return_request": ["return the shoes", "refund my money", "send item back", "exchange for a refund"],
    "account_access": ["cannot log in", "reset my password", "account locked", "two factor login code"],
    OUT_OF_SCOPE: ["weather tomorrow", "tell me a joke", "capital of france", "football score"],
}


def _data(seed=0, repeats=6):
    rng = np.random.default_rng(seed)
    centres = {label: rng.normal(size=16) for label in WORDS}
    texts, labels, vectors = [], [], []
    for label, phrases in WORDS.items():
        for r in range(repeats):
            for phrase in phrases:
                texts.append(f"{phrase} {'please' if r % 2 else ''} {r}")
                labels.append("oos" if label == OUT_OF_SCOPE and r % 2 else label)  # both OOS spellings
                vectors.append(centres[label] + rng.normal(scale=0.8, size=16))
    v = np.asarray(vectors, dtype=np.float32)
    return texts, labels, v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def model():
    texts, labels, vectors = _data()
    return train(texts, labels, vectors, "test-embedder", name="unit", config=TrainConfig(C=5.0, folds=3))


def test_learns_intents_and_out_of_scope(model):
    texts, labels, vectors = _data(seed=0, repeats=2)
    predictions = model.predict(["where is my parcel now", "tell me a joke"], vectors[[0, -1]])
    assert predictions[0].intent == "order_status" and not predictions[0].out_of_scope
    assert predictions[1].intent == OUT_OF_SCOPE and predictions[1].out_of_scope
    assert model.labels == sorted(WORDS) and 0 < model.temperature < 20
    assert 0 <= model.oos_threshold <= model.autonomous_threshold <= 1
    assert all(0 <= p.confidence <= 1 for p in predictions)
    probabilities = model.probabilities(texts, vectors)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_artefact_is_pickle_free_and_round_trips_with_a_content_version(model, tmp_path):
    version = model.save(tmp_path / "m")
    assert version.startswith("unit@") and len(version) == len("unit@") + 12
    with zipfile.ZipFile(tmp_path / "m" / "intent-model.npz") as archive:
        for name in archive.namelist():
            assert archive.read(name)[:6] == b"\x93NUMPY"  # plain arrays
    with np.load(tmp_path / "m" / "intent-model.npz", allow_pickle=False) as data:
        assert {"weights", "bias", "char_idf", "word_idf", "embedding_mean"} <= set(data.files)
    meta = json.loads((tmp_path / "m" / "intent-model.json").read_text())
    assert meta["embedder"] == "test-embedder" and meta["labels"] == model.labels
    loaded = IntentModel.load(tmp_path / "m")
    assert loaded.version == version
    texts, _, vectors = _data(seed=3, repeats=1)
    np.testing.assert_allclose(loaded.probabilities(texts, vectors), model.probabilities(texts, vectors), atol=2e-3)
    # any change to the artefact changes the version stamped on events
    meta["temperature"] = 1.2345
    (tmp_path / "m" / "intent-model.json").write_text(json.dumps(meta))
    assert IntentModel.load(tmp_path / "m").version != version


def test_loading_garbage_is_a_clear_error(tmp_path):
    (tmp_path / "intent-model.json").write_text("{}")
    with pytest.raises(ValueError, match="not an intent model|unsupported"):
        IntentModel.load(tmp_path)


def test_temperature_scaling_fixes_overconfidence():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), y] += 1.0
    overconfident = logits * 5
    assert fit_temperature(overconfident, y) == pytest.approx(5.0, rel=0.25)


def test_autonomous_threshold_reaches_target_precision():
    confidence = np.linspace(0.0, 1.0, 1001)
    correct = (confidence >= 0.5) | (np.arange(1001) % 3 == 0)
    threshold = choose_autonomous_threshold(confidence, correct, 0.99)
    kept = confidence >= threshold
    assert correct[kept].mean() >= 0.99 and threshold <= 0.51
    assert choose_autonomous_threshold(np.array([0.9, 0.8]), np.array([False, False]), 0.99) == 1.0




def test_evaluation_figures():
    gold = ["a", "a", "b", "b", OUT_OF_SCOPE, OUT_OF_SCOPE]
    predicted = ["a", "b", "b", OUT_OF_SCOPE, OUT_OF_SCOPE, "a"]
    confidence = [0.9, 0.4, 0.95, 0.2, 0.8, 0.6]
    report = evaluate(gold, predicted, confidence, autonomous_threshold=0.85)
    assert report["accuracy"] == pytest.approx(3 / 6, abs=1e-4)
    assert report["in_scope_accuracy"] == pytest.approx(2 / 4, abs=1e-4)
    assert report["oos_recall"] == 0.5 and report["oos_precision"] == 0.5
    assert report["at_autonomous_threshold"] == {"threshold": 0.85, "precision": 1.0, "coverage": round(2 / 6, 4)}
    assert report["per_intent"]["b"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    rows = risk_coverage(gold, predicted, confidence, [0.0, 0.99])
    assert rows[0]["coverage"] == round(4 / 6, 4) and rows[1]["kept"] == 0 and rows[1]["accuracy"] is None


def test_wilson_bound_is_conservative_for_small_samples():
    from services.triage.intent_model import wilson_lower_bound

    small, large = wilson_lower_bound(np.array([10, 1000]), np.array([10, 1000]))
    assert small < 0.75 < 0.99 < large <= 1.0


def test_C_is_chosen_among_candidates_by_out_of_fold_accuracy():
    texts, labels, vectors = _data(seed=4, repeats=4)
    rng = np.random.default_rng(0)
    labels = [l if rng.random() > 0.3 else "order_status" for l in labels]  # label noise: C matters
    model = train(texts, labels, vectors, "e", config=TrainConfig(C_candidates=(0.0001, 5.0, 100.0), folds=2))
    search = model.meta["C_search_out_of_fold_accuracy"]
    assert set(search) == {"0.0001", "5.0", "100.0"}
    best = max(search.values())
    assert search[str(model.meta["C"])] == best and model.meta["C"] == min(float(c) for c, a in search.items() if a == best)


def test_accent_folding_makes_typed_without_accents_the_same_ngrams(tmp_path):
    from services.triage.intent_model import FeatureConfig, fold_accents

    assert fold_accents("Užsakymas ANNULÉE Straße") == "uzsakymas annulee strasse"
    texts, labels, vectors = _data()
    texts = [t.replace("parcel", "siuntą").replace("password", "slaptažodį") for t in texts]
    folded = train(texts, labels, vectors, "test-embedder", name="fold",
                   config=TrainConfig(C=5.0, folds=3, class_weight="balanced", features=FeatureConfig(fold_accents=True)))
    assert folded.meta["features"]["fold_accents"] is True and folded.meta["class_weight"] == "balanced"
    with_accents = folded.probabilities(["where is my siuntą"], vectors[:1])
    without = folded.probabilities(["where is my siunta"], vectors[:1])
    np.testing.assert_allclose(with_accents, without, atol=1e-6)  # the n-grams see the same text
    folded.save(tmp_path / "f")
    np.testing.assert_allclose(IntentModel.load(tmp_path / "f").probabilities(["where is my siunta"], vectors[:1]),
                               without, atol=2e-3)


def test_recalibrated_keeps_the_weights_and_records_where_it_was_fitted(model, tmp_path):
    texts, _, vectors = _data(seed=4, repeats=1)
    hotter = model.recalibrated(model.temperature * 2, 0.4, {"fitted_on": "unit", "tickets": 3})
    logits = model.logits(texts, vectors)
    np.testing.assert_allclose(hotter.logits(texts, vectors), logits, atol=1e-5)
    assert hotter.probabilities(texts, vectors).max() < model.probabilities(texts, vectors).max()
    version = hotter.save(tmp_path / "h")
    loaded = IntentModel.load(tmp_path / "h")
    assert loaded.version == version != model.version
    assert loaded.oos_threshold == 0.4 and loaded.meta["calibration"] == {"fitted_on": "unit", "tickets": 3}
