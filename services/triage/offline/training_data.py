"""The default intent model's training file, built from the project's own examples and public data.

``casetrail triage build-data`` writes ``services/triage/data/default_intents.csv``
(``text,label,language,source``) from:

- ``services/triage/data/own_intents.csv``: examples written by the project for the shop
  taxonomy in en/de/fr/es/lt (``source`` = ``own``), never copied from the dev set;
- register variants of those examples (``own+<variant>``): the same request all
  lower-case without punctuation, without diacritics (how many customers type
  Lithuanian, French and Spanish), with a typo, or wrapped in an e-mail greeting and
  signature. Deterministic (the choice hangs on a hash of the text), at most one per row;
- ABCD (ASAPP, MIT): the customer turns opening its sample dialogues and the FAQ
  questions its agent guidelines list, mapped to categories (``abcd:<subflow>``);
- BANKING77 and CLINC150 rows mapped by ``public_intents`` (``banking77:<intent>``,
  ``clinc150:<intent>``), sampled per intent.

Nothing here reads ``evaluation/``: the dev set is for calibration and measurement only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Iterable

from casetrail.policy.taxonomy import DEFAULT_CATEGORIES, OUT_OF_SCOPE
from services.triage.offline.public_intents import Row, banking77_rows, check_tables, clinc150_rows

DATA_DIR = Path(__file__).parents[1] / "data"
OWN_EXAMPLES = DATA_DIR / "own_intents.csv"
TRAINING_FILE = DATA_DIR / "default_intents.csv"
COLUMNS = ("text", "label", "language", "source")

GREETINGS = {"en": ("Hello,", "Hi,", "Dear Acme team,"), "de": ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"),
             "fr": ("Bonjour,", "Bonsoir,", "Madame, Monsieur,"), "es": ("Hola:", "Buenos días,", "Estimados señores:"),
             "lt": ("Sveiki,", "Laba diena,", "Gerbiamieji,")}
CLOSINGS = {"en": ("Thanks", "Best regards", "Kind regards"), "de": ("Danke", "Viele Grüße", "Mit freundlichen Grüßen"),
            "fr": ("Merci", "Cordialement", "Bien à vous"), "es": ("Gracias", "Un saludo", "Atentamente"),
            "lt": ("Ačiū", "Pagarbiai", "Geros dienos")}
# Made-up names and numbers for signatures (ingest redacts real ones to [NAME_1], [PHONE_1] anyway).
SIGNERS = ("Alex Morgan", "Jana Novak", "Pierre Lambert", "Ana Ruiz", "Tomas Petraitis", "[NAME_1]")
PHONES = ("+370 612 00000", "+49 151 0000000", "[PHONE_1]", "")
_GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_PUNCTUATION = re.compile(r"[.,!?;:¿¡\"()]")


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


def without_diacritics(text: str, language: str) -> str:
    if language == "de":
        return text.translate(_GERMAN_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def lower_no_punctuation(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def with_typo(text: str, seed: int) -> str:
    """Two neighbouring letters swapped in one word of five letters or more (none: unchanged)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = candidates[seed % len(candidates)]
    word = words[i]
    j = 1 + (seed // 7) % (len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words)


def as_email(text: str, language: str, seed: int) -> str:
    greeting = GREETINGS[language][seed % 3]
    closing = CLOSINGS[language][(seed // 3) % 3]
    signer = SIGNERS[(seed // 9) % len(SIGNERS)]
    phone = PHONES[(seed // 53) % len(PHONES)]
    return f"{greeting}\n\n{text}\n\n{closing},\n{signer}" + (f"\n{phone}" if phone else "")


def register_variant(row: Row) -> Row | None:
    """One variant of an own example, or None when the chosen one would not differ (or the text is an e-mail)."""
    seed = _hash(row.text)
    if "\n" in row.text:
        return None
    kind = ("lowercase", "no_diacritics", "typo", "email", "lowercase", "no_diacritics", "none")[seed % 7]
    if kind == "lowercase":
        text = lower_no_punctuation(row.text)
    elif kind == "no_diacritics":
        text = without_diacritics(row.text, row.language)
        if text == row.text:
            kind, text = "lowercase", lower_no_punctuation(row.text)
    elif kind == "typo":
        text = with_typo(row.text, seed // 11)
    elif kind == "email":
        text = as_email(row.text, row.language, seed // 13)
    else:
        return None
    if text == row.text or not text.strip():
        return None
    return Row(text, row.label, row.language, f"{row.source}+{kind}")


def read_rows(path: Path) -> list[Row]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [Row(r["text"], r["label"], r["language"], r["source"]) for r in csv.DictReader(handle)]


# ABCD (ASAPP, MIT): FAQ questions named in the agent guidelines -> the shop category that answers them.
ABCD_FAQ = {
    "Pricing FAQ": {"Price of gift wrapping": "place_order", "Price of stitching your name": "product_question",
                    "Price of overnight shipping": "delivery_options",
                    "Does shopping cart qualify for free shipping": "delivery_options"},
    "Policy FAQ": {"Refund policy": "refund_policy", "Return policy": "refund_policy"},
}
# Single-item FAQs (boots, shirt, jeans, jacket): every question is about a product.
ABCD_PRODUCT_SUBFLOWS = ("Boots FAQ", "Shirt FAQ", "Jeans FAQ", "Jacket FAQ")
# The opening customer turns of the three sample dialogues, by subflow.
ABCD_SAMPLE_SUBFLOWS = {"return_size": "return_request", "refund_status": "refund_status"}


def abcd_rows(directory: Path) -> list[Row]:
    guidelines = json.loads((directory / "guidelines.json").read_text(encoding="utf-8"))
    rows: list[Row] = []
    for flow in guidelines.values():
        for name, subflow in flow["subflows"].items():
            instructions = subflow.get("instructions", [])
            if name in ABCD_PRODUCT_SUBFLOWS and len(instructions) > 1:
                item = name.split()[0].lower()
                for question in instructions[1].split(","):
                    question = question.strip().rstrip(".")
                    if len(question.split()) >= 3:
                        rows.append(Row(f"{question} ({item})", "product_question", "en", f"abcd:{name}"))
            for question, label in ABCD_FAQ.get(name, {}).items():
                rows.append(Row(question, label, "en", f"abcd:{name}"))
    samples = json.loads((directory / "abcd_sample.json").read_text(encoding="utf-8"))
    for dialogue in samples:
        label = ABCD_SAMPLE_SUBFLOWS.get(dialogue["scenario"]["subflow"])
        first = next((text for speaker, text in dialogue["original"] if speaker == "customer"), None)
        if label and first:
            rows.append(Row(first, label, "en", f"abcd:sample:{dialogue['scenario']['subflow']}"))
    return rows


def build(datasets: Path, own: Path = OWN_EXAMPLES, *, banking_per_intent: int = 40, banking_per_oos_intent: int = 8,
          clinc_per_intent: int = 40, clinc_per_oos_intent: int = 6, clinc_oos_queries: int = 100) -> list[Row]:
    check_tables()
    own_rows = read_rows(own)
    unknown = {r.label for r in own_rows} - set(DEFAULT_CATEGORIES) - {OUT_OF_SCOPE}
    if unknown:
        raise ValueError(f"{own}: unknown labels {sorted(unknown)}")
    rows = list(own_rows)
    rows += [v for v in (register_variant(r) for r in own_rows) if v is not None]
    rows += abcd_rows(datasets / "abcd")
    rows += banking77_rows(datasets / "banking77" / "train.csv", banking_per_intent, banking_per_oos_intent)
    rows += clinc150_rows(datasets / "clinc150" / "data_full_train_val.json", clinc_per_intent,
                          clinc_per_oos_intent, clinc_oos_queries)
    seen: set[str] = set()
    unique = []
    for row in rows:  # the first of identical texts wins (own rows come first)
        key = " ".join(row.text.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def write_rows(rows: Iterable[Row], path: Path) -> Counter:
    counts: Counter = Counter()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow((row.text, row.label, row.language, row.source))
            counts[row.source.split(":")[0].split("+")[0]] += 1
    return counts
