"""The default intent model's training data: the public-data mapping, register variants, the build."""

import csv
import json

from casetrail.policy.taxonomy import DEFAULT_CATEGORIES, OUT_OF_SCOPE
from services.triage.offline import public_intents, training_data
from services.triage.offline.public_intents import DROP, Row


def test_every_mapping_names_a_category_out_of_scope_or_drop():
    public_intents.check_tables()
    allowed = set(DEFAULT_CATEGORIES) | {OUT_OF_SCOPE, DROP}
    assert set(public_intents.BANKING77.values()) <= allowed and set(public_intents.CLINC150.values()) <= allowed


def test_banking77_rows_follow_the_table_and_the_sample_sizes(tmp_path):
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows([(f"charged twice {i}", "transaction_charged_twice") for i in range(5)])
        writer.writerows([(f"top up failed {i}", "top_up_failed") for i in range(5)])
        writer.writerows([(f"fee on card {i}", "card_payment_fee_charged") for i in range(5)])  # dropped
    rows = public_intents.banking77_rows(path, per_category_intent=3, per_oos_intent=2)
    labels = [r.label for r in rows]
    assert labels.count("payment_issue") == 3 and labels.count(OUT_OF_SCOPE) == 2 and len(rows) == 5
    assert {r.source for r in rows} == {"banking77:transaction_charged_twice", "banking77:top_up_failed"}


def test_clinc150_reads_train_and_oos_train_only(tmp_path):
    path = tmp_path / "clinc.json"
    path.write_text(json.dumps({
        "train": [["track my package", "order_status"], ["book a flight", "book_flight"], ["cancel that", "cancel"]],
        "val": [["val text must not appear", "order_status"]],
        "oos_train": [["how tall is a giraffe", "oos"]], "oos_val": [["oos val", "oos"]],
    }))
    rows = public_intents.clinc150_rows(path, per_category_intent=5, per_oos_intent=5, oos_queries=5)
    assert {(r.text, r.label) for r in rows} == {("track my package", "order_status"), ("book a flight", OUT_OF_SCOPE),
                                                 ("how tall is a giraffe", OUT_OF_SCOPE)}


def test_register_variants_are_deterministic_and_keep_the_label():
    row = Row("Wo ist meine Bestellung? Ich warte schon lange.", "order_status", "de", "own")
    variant = training_data.register_variant(row)
    assert variant == training_data.register_variant(row)
    assert variant is None or (variant.label == "order_status" and variant.text != row.text
                               and variant.source.startswith("own+"))
    assert training_data.without_diacritics("Užsakymą atšaukti", "lt") == "Uzsakyma atsaukti"
    assert training_data.without_diacritics("Rückgabe größer", "de") == "Rueckgabe groesser"
    assert training_data.lower_no_punctuation("Hallo, wo ist es?!") == "hallo wo ist es"
    assert training_data.with_typo("delivery", 0) != "delivery" and sorted(training_data.with_typo("delivery", 0)) == \
        sorted("delivery")
    email = training_data.as_email("where is my order", "lt", 5)
    assert email.startswith(training_data.GREETINGS["lt"][5 % 3]) and "where is my order" in email
    assert training_data.register_variant(Row("Hello,\n\nfirst line", "invoice", "en", "own")) is None


def test_the_shipped_training_files_are_labelled_with_the_taxonomy_and_name_their_sources():
    allowed = set(DEFAULT_CATEGORIES) | {OUT_OF_SCOPE}
    own = training_data.read_rows(training_data.OWN_EXAMPLES)
    built = training_data.read_rows(training_data.TRAINING_FILE)
    assert {r.label for r in own} == allowed and {r.label for r in built} == allowed
    assert {r.language for r in own} == {"en", "de", "fr", "es", "lt"}
    assert all(r.source == "own" for r in own)
    prefixes = {r.source.split(":")[0].split("+")[0] for r in built}
    assert prefixes == {"own", "abcd", "banking77", "clinc150"}
    assert len(own) >= 3000 and len(built) >= len(own)
