"""Support-style sentiment lines for the sentiment head, in the four levels triage reports.

``services/triage/data/sentiment_own.csv`` (``text,polarity,frustrated,language,source``):

- ``own:sentiment``: lines written for sentiment — furious customers (very_negative,
  frustrated), dissatisfied ones (negative), pleased ones (positive) — in en/de/fr/es/lt;
- ``own_intents:request``: the project's own intent examples of routine request
  categories (order status, cancellation, account deletion, invoices, ...) as
  *neutral*, unless a negative cue is in them ("wtf", "annoying", "!!", shouting, ...):
  asking to delete an account or cancel an order is a request, not an insult. This is
  what the XED-only model got wrong (issue 15);
- ``own_intents:feedback``: own ``feedback`` examples with a positive cue ("thank",
  "great", "danke", "merci", "gracias", "ačiū", ...) as *positive*;
- ``own_intents:complaint``: own ``complaint`` and ``legal_threat`` examples as
  *very_negative* (frustrated) when a strong cue is in them ("worst", "disgrace",
  "Frechheit", "arnaque", "vergüenza", "gėda", shouting, "!!"), else *negative*.

The cue lists are the labelling rule for the derived rows; they are not used at run time.
Nothing here reads the development set.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterable

from services.triage.offline.public_intents import Row
from services.triage.offline.training_data import DATA_DIR, OWN_EXAMPLES, read_rows

SENTIMENT_OWN = DATA_DIR / "sentiment_own.csv"
ROUTINE_REQUESTS = frozenset({
    "order_status", "delivery_time", "delivery_options", "order_change", "address_change", "order_cancellation",
    "cancellation_fee", "place_order", "invoice", "payment_methods", "return_request", "refund_policy",
    "account_create", "account_delete", "account_edit", "newsletter", "product_question",
})
NEGATIVE_CUES = re.compile(
    r"wtf|ugh|smh|bruh|annoy|ridiculous|useless|spam|unacceptable|disgust|sick of|fed up|rude|stop sending|"
    r"nerv|frechheit|mies|schnauze|ärger|unverschämt|zuzuspammen|"
    r"marre|nul\b|pénible|agaçant|honte|spammer|"
    r"harto|harta|basura|molest|vergüenza|spam|"
    r"erzin|nusibodo|gana\b|gėda|siaubing|nustokit|"
    r"!!|\?\?", re.IGNORECASE)
STRONG_CUES = re.compile(
    r"worst|disgrac|disgust|joke|useless|furious|trash|garbage|sick of|fed up|unacceptable|ridiculous|shameful|"
    r"never again|scam|rip-off|appalling|awful|terrible|"
    r"schlechtest|frechheit|unmöglich|witz|nutzlos|mies|abzocke|katastroph|schnauze|nie wieder|unverschämt|"
    r"pire|\bnul\b|honte|inadmissible|arnaque|marre|blague|lamentable|catastroph|déplorable|plus jamais|dégo|"
    r"peor|vergüenza|basura|inaceptable|hart[oa]|estafa|desastre|penoso|pésimo|nunca más|asco|"
    r"blogiaus|gėda|siaubing|nepriimtin|juoking|nusibodo|\bgana\b|niekam tik|apgailėtin|sukč|niekada daugiau|"
    r"!!", re.IGNORECASE)


POSITIVE_CUES = re.compile(
    r"thank|great|love|excellent|happy|perfect|brilliant|compliment|keep up|top\b|super|"
    r"danke|toll|zufrieden|lob|weiter so|merci|ravie|bravo|continuez|gracias|genial|encantad|felicitar|sigan|"
    r"ačiū|aciu|puik|patenkint|patiko|pagirti|taip ir toliau", re.IGNORECASE)


def shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def derived_rows(intents: Iterable[Row]) -> list[tuple[str, str, bool, str, str]]:
    rows = []
    for row in intents:
        if row.label in ROUTINE_REQUESTS:
            if not NEGATIVE_CUES.search(row.text) and not shouting(row.text):
                rows.append((row.text, "neutral", False, row.language, "own_intents:request"))
        elif row.label == "feedback":
            if POSITIVE_CUES.search(row.text):
                rows.append((row.text, "positive", False, row.language, "own_intents:feedback"))
        elif row.label in ("complaint", "legal_threat"):
            strong = bool(STRONG_CUES.search(row.text)) or shouting(row.text)
            rows.append((row.text, "very_negative" if strong else "negative", strong, row.language,
                         "own_intents:complaint"))
    return rows


def written_rows(folder: Path) -> list[tuple[str, str, bool, str, str]]:
    """``<locale>.txt`` files of ``## level`` blocks (the source of the ``own:sentiment`` rows)."""
    rows = []
    for path in sorted(Path(folder).glob("*.txt")):
        level = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("## "):
                level = line[3:].strip()
            elif line.strip():
                rows.append((line.strip(), level, level == "very_negative", path.stem, "own:sentiment"))
    return rows


def write(rows: list[tuple[str, str, bool, str, str]], path: Path = SENTIMENT_OWN) -> None:
    seen: set[str] = set()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("text", "polarity", "frustrated", "language", "source"))
        for text, level, frustrated, language, source in rows:
            if text.lower() not in seen:
                seen.add(text.lower())
                writer.writerow((text, level, int(frustrated), language, source))


def written_in(path: Path = SENTIMENT_OWN) -> list[tuple[str, str, bool, str, str]]:
    """The ``own:sentiment`` rows already in the CSV (the written lines are kept there)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [(r["text"], r["polarity"], r["frustrated"] == "1", r["language"], r["source"])
                for r in csv.DictReader(handle) if r["source"] == "own:sentiment"]


def rebuild(path: Path = SENTIMENT_OWN) -> list[tuple[str, str, bool, str, str]]:
    """The written lines of ``path`` plus the rows derived from the current own intent examples."""
    rows = written_in(path) + derived_rows(read_rows(OWN_EXAMPLES))
    write(rows, path)
    return rows
