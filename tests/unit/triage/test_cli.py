"""`casetrail triage train` / `eval` end to end on small files (real embedder, no cache)."""

import csv
import json

import pytest
from typer.testing import CliRunner

from services.triage.offline.cli import app
from services.triage.intent_model import IntentModel

ROWS = {
    "order_status": ["where is my order", "my parcel has not arrived", "tracking number please", "when does my package come",
                     "wo ist mein Paket", "où est ma commande", "dónde está mi pedido", "kur mano siuntinys"],
    "account_access": ["I cannot log in", "reset my password", "my account is locked", "login code does not work",
                       "ich kann mich nicht anmelden", "mot de passe oublié", "no puedo entrar en mi cuenta",
                       "negaliu prisijungti"],
    "invoice": ["I need an invoice", "why is my bill higher", "change my plan to yearly", "wrong VAT number on invoice",
                "Rechnung bitte", "facture incorrecte", "necesito una factura", "reikia sąskaitos faktūros"],
}


@pytest.fixture()
def labelled(tmp_path):
    path = tmp_path / "labelled.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in ROWS.items():
            writer.writerows((t, label) for t in texts)
    return path


def test_train_writes_a_versioned_artefact_and_eval_reports_figures(labelled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "--data", str(labelled), "--out", str(out), "--name", "tiny", "--C", "1,10",
                                 "--cache-dir", ""])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    model = IntentModel.load(out)
    assert summary["version"] == model.version and model.version.startswith("tiny@")
    assert model.meta["C"] in (1.0, 10.0) and model.meta["C_candidates"] == [1.0, 10.0]

    figures = tmp_path / "figures" / "eval.json"
    result = runner.invoke(app, ["eval", "--train", str(labelled), "--test", str(labelled), "--format", "csv",
                                 "--holdout", "0.25", "--json", str(figures), "--latency-samples", "3", "--cache-dir", "",
                                 "--C", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(figures.read_text())
    assert f"\n{'accuracy':>24}: {report['accuracy']}\n" in result.stdout  # printed as well as written
    assert report["examples"] == 6 and 0 <= report["accuracy"] <= 1 and report["closed_set_accuracy"] >= 0.5
    assert set(report["per_intent"]) == set(ROWS)
    assert report["risk_coverage"][0]["threshold"] == 0.0 and report["latency"]["samples"] == 3
    assert report["machine"]["cores"] >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "labelled.csv", "model"]  # '' disables the cache


def test_bad_training_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nhello,world\n")
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "m"), "--cache-dir", ""])
    assert result.exit_code == 2 and "needs a header with 'text' and 'label'" in result.output
