"""Known-name redaction without a regex per customer finds exactly what the compiled alternation found.

``pii_reference`` is the frozen detector that compiled ``(?<![\\w])(?:<full names>|<tokens>)(?![\\w])``
under ``re.IGNORECASE`` for every customer; the shipped one compares case keys of strings instead.
"""

import datetime as dt
import random
import re

import pytest

import pii_reference as reference
from casetrail.privacy import pii
from services.ingest.offline import bench
from services.ingest.normalise import Normaliser

TODAY = dt.date(2025, 6, 1)
LOCALES = (None, "lt", "lt-LT", "en", "de", "fr", "es")


def spans(detector, text, locale=None, names=()):
    extra = {"uncued_names": False} if detector is pii else {}  # the frozen oracle predates uncued full names
    return [(f.kind.value, f.start, f.end) for f in detector.detect(text, locale, names, today=TODAY, **extra)]


def same(text, locale=None, names=()):
    new = spans(pii, text, locale, names)
    assert new == spans(reference, text, locale, names), (text, locale, names)
    return new


def names_found(text, locale=None, names=()):
    return [text[start:end] for kind, start, end in same(text, locale, names) if kind == "NAME"]


# ---------------------------------------------------------------- case keys
def _sre_key_table() -> dict[str, str]:
    _sre = pytest.importorskip("_sre")
    casefix = pytest.importorskip("re._casefix")
    extra = casefix._EXTRA_CASES
    votes: dict[frozenset, dict[int, int]] = {}
    for c in range(0x110000):
        if _sre.unicode_iscased(c) and _sre.unicode_tolower(c) in extra:
            lowered = chr(c).lower()
            cls = frozenset({_sre.unicode_tolower(c), *extra[_sre.unicode_tolower(c)]})
            if len(lowered) == 1:
                votes.setdefault(cls, {}).setdefault(ord(lowered), 0)
                votes[cls][ord(lowered)] += 1
    reps = {cls: max(counts, key=counts.get) for cls, counts in votes.items()}
    table = {}
    for c in range(0x110000):
        if not _sre.unicode_iscased(c):
            continue
        lower = _sre.unicode_tolower(c)
        key = reps[frozenset({lower, *extra[lower]})] if lower in extra else lower
        if chr(c).lower() != chr(key):
            table[chr(c)] = chr(key)
    return table


def test_case_key_table_matches_this_python():
    assert _sre_key_table() == pii._CASE_KEY_EXCEPTIONS


def test_case_keys_agree_with_re_ignorecase():
    # every cased character (and a few uncased ones) as text; pattern characters from
    # Latin, Greek, Cyrillic, the special classes and the characters Unicode upper/lowercases oddly
    candidates = [chr(c) for c in range(0x110000) if chr(c).lower() != chr(c).upper() or chr(c) in pii._CASE_KEY_EXCEPTIONS]
    candidates += list("0123456789 _-'’\u00a0\u2019ʼ中ا")
    haystack = "".join(candidates)
    keys = {ch: pii._case_keys(ch) for ch in candidates}
    pattern_chars = [chr(c) for c in range(0x20, 0x530)] + [chr(c) for c in range(0x1c80, 0x1c89)] + \
        [chr(c) for c in range(0x1e00, 0x2000)] + list(pii._CASE_KEY_EXCEPTIONS) + list("ΣKÅẞ")
    for p in pattern_chars:
        matched = set(re.findall(re.escape(p), haystack, re.IGNORECASE))
        expected = {ch for ch in candidates if keys[ch] == pii._case_keys(p)}
        assert matched == expected, p
    for text in ["ΟΔΥΣΣΕΥΣ Σ", "İstanbul ſ µ", "plain ascii", "Žydrūnė ŠIMKŪNIENĖ"]:
        assert len(pii._case_keys(text)) == len(text)
        assert pii._case_keys(text) == "".join(pii._case_keys(ch) for ch in text)


# ---------------------------------------------------------------- named cases
def test_lithuanian_inflected_names():
    names = ("Žydrūnė Šimkūnienė",)
    text = "Gerb. Žydrūne, Šimkūnienės užsakymas; ŠIMKŪNIENEI išsiųsta. Žydrūnei Šimkūnienei."
    for locale in (None, "lt"):
        assert names_found(text, locale, names) == ["Žydrūne", "Šimkūnienės", "ŠIMKŪNIENEI", "Žydrūnei Šimkūnienei"]
    assert names_found(text, "de", names) == []  # inflection only where the locale is Lithuanian or unknown
    assert names_found("Rūtos Žemaitytės vardu", None, ("Rūta Žemaitytė",)) == ["Rūtos Žemaitytės"]
    assert names_found("Jonai, Jonaitį matėme", "lt", ("Jonas Jonaitis",)) == ["Jonai", "Jonaitį"]
    # the stem must be followed by a case ending, the whole word
    assert names_found("Jonasx Jon Jonaitisas Jonaitiui", "lt", ("Jonas Jonaitis",)) == ["Jonaitiui"]


def test_names_next_to_punctuation_and_in_other_words():
    names = ("Anna Berg",)
    text = "(Anna), «Berg»; Anna-Berg Anna's anna.berg@x.io _Anna Annabel Bergen Berg2 Berg_ Weinberg x-Berg"
    # Anna-Berg: two words; the e-mail address wins over the name inside it; x-Berg: "-" ends a word
    assert names_found(text, "en", names) == ["Anna", "Berg", "Anna", "Berg", "Anna", "Berg"]
    assert names_found("Annabel Bergmann Hannah Weinberg", None, names) == []


def test_multi_word_names_and_case_variants():
    names = ("María José Núñez", "Jean-Luc O'Brien")
    text = "MARÍA JOSÉ NÚÑEZ\nmaría  josé\tnúñez, María\nJosé; JEAN-LUC o'brien, Jean-Luc, jean luc, O'Brien's"
    assert names_found(text, "es", names) == ["MARÍA JOSÉ NÚÑEZ", "maría  josé\tnúñez", "María", "José", "JEAN-LUC o'brien",
                                              "Jean-Luc", "O'Brien"]
    for variant in ("ſtefan", "STEFAN", "Stefan", "ſTEFAN"):  # ſ matches s under re.IGNORECASE
        assert names_found(f"Hi {variant}!", None, ("Stefan Kühn",)) == [variant]
    assert names_found("İvan, ıvan, Ivan", None, ("Ivan Petrov",)) == ["İvan", "ıvan", "Ivan"]


def test_overlapping_and_repeated_names():
    names = ("Anna Maria Berg", "Anna Maria", "Maria")
    text = "Anna Maria Berg, Anna Maria, Maria Berg, Maria, Anna"
    assert names_found(text, "en", names) == ["Anna Maria Berg", "Anna Maria", "Maria", "Berg", "Maria", "Anna"]
    assert names_found("nothing here", "en", ("I", "a", "the", "")) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_case_ending_of_lithuanian_names(locale):
    names = ("Kęstutis Stankevičius", "Rūta Žemaitytė", "Ugnė Vasiliauskienė", "Tomas Kairys", "Jurgis Butkus")
    stems = ["Kęstut", "Stankevič", "Rūt", "Žemaityt", "Ugn", "Vasiliauskien", "Tom", "Kair", "Jurg", "Butk"]
    for stem in stems:
        for ending in pii._LT_ENDINGS + ("", "i", "ių", "ėje", "x"):
            for word in (stem + ending, (stem + ending).upper(), (stem + ending).lower()):
                same(f"{word}, {word}.", locale, names)
                same(f"Sveiki {word} {stems[1]}{ending}!", locale, names)


# ---------------------------------------------------------------- fuzz
_FRAGMENTS = ["Jonas", "Jono", "Jonaitis", "Jonaitį", "Jonait", "JONAI", "jon", "Anna", "anna", "Annas", "Maria", "Berg",
              "Žydrūnė", "Žydrūnės", "ŽYDRŪNEI", "Šimkūnienė", "šimkūnienę", "O'Brien", "Jean-Luc", "Jean", "Luc",
              "ſtefan", "İvan", "ıvan", "Ivan", "ΣΙΣΥΦΟΣ", "Σίσυφος", "µ", "μ", "x", "_", "2", "ą", "as", "ui", "ės"]
_GLUE = [" ", "  ", "\n", "\t", "\u00a0", "-", "'", ",", ".", "", "", "(", ")", "_", "’", "\u2028"]
_NAME_SETS = [("Jonas Jonaitis",), ("Žydrūnė Šimkūnienė", "Marie"), ("Anna Maria Berg", "Anna Maria", "Maria"),
              ("Jean-Luc O'Brien",), ("Stefan Kühn", "Ivan Petrov"), ("Σίσυφος Ανδρέου",), ("jonas", "JONAITIS"),
              ("Anna", "Berg", "Anna Berg"), ("Dr. Jonas J. Jonaitis-Petraitis",)]


def test_random_texts_from_name_fragments():
    rng = random.Random(23)
    for _ in range(6000):
        text = "".join(rng.choice(_FRAGMENTS) + rng.choice(_GLUE) for _ in range(rng.randint(1, 12)))
        same(text, rng.choice(LOCALES), rng.choice(_NAME_SETS))


def test_bench_customers_on_their_tickets():
    # the honest bench's customers (en/de/fr/es/lt, inflected, multi-word, hyphenated) on the texts they appear in
    normaliser = Normaliser(detect_locale=False)
    found = 0
    for ticket in bench.sample_tickets(270, seed=5):
        parsed = normaliser.parse(ticket.record)
        texts = [m.body_text for m in parsed.messages] + [parsed.subject or ""]
        for text in texts:
            for locale in (None, ticket.locale):
                found += len(names_found(text, locale, parsed.customer.names))
                names_found(f"{text}\n{ticket.customer.genitive()} {ticket.customer.name.upper()}", locale,
                            (ticket.customer.name,))
    assert found > 300
