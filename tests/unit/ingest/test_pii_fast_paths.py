"""The detector's fast paths (digit-count prefilters, gated cue scans) find exactly what the plain scans find.

``pii_reference`` is a frozen copy of the detector before the fast paths; every
text below must give the same findings from both.
"""

import datetime as dt
import random
import re
from pathlib import Path

import pytest

import pii_reference as reference
from casetrail.privacy import pii
from services.ingest.offline import pii_eval

TODAY = dt.date(2025, 6, 1)
EVI = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "evi"
LOCALES = (None, "en", "de", "fr-BE", "es", "lt")
NAMES = ((), ("Jonas Jonaitis",), ("Žydrūnė Šimkūnienė", "Marie"), ("Claire Dubois",))


def same(text, locale=None, names=()):
    # uncued full names came after the frozen oracle (tests/unit/ingest/test_pii_uncued_names.py)
    new = [(f.kind.value, f.start, f.end) for f in pii.detect(text, locale, names, today=TODAY, uncued_names=False)]
    old = [(f.kind.value, f.start, f.end) for f in reference.detect(text, locale, names, today=TODAY)]
    assert new == old, (text, locale, names)
    return new


def generated_values(rng: random.Random) -> list[str]:
    values = []
    for locale in pii_eval.LOCALES:
        values += [pii_eval._phone(rng, locale), pii_eval._iban(rng, locale), pii_eval._card(rng),
                   pii_eval._national_id(rng, locale)]
    return values


def test_same_findings_on_generated_ticket_sentences():
    rng = random.Random(5)
    templates = [t for by_locale in pii_eval.TEMPLATES.values() for ts in by_locale.values() for t in ts]
    distractors = [t for ts in pii_eval.DISTRACTORS.values() for t in ts]
    found = 0
    for _ in range(60):
        values = generated_values(rng)
        for value in values:
            text = rng.choice(templates).replace("{city}", "Lyon").replace("{v}", value)
            found += bool(same(text, rng.choice(LOCALES), rng.choice(NAMES)))
        # several sentences in one body, the way tickets arrive
        body = rng.choice(["\n", " ", "\n\nRegards,\n", "\nMerci,\n"]).join(
            rng.choice(templates + distractors).replace("{city}", "Lyon").replace("{v}", rng.choice(values)) for _ in range(4))
        same(body, rng.choice(LOCALES), rng.choice(NAMES))
    assert found > 1000  # the corpus exercises the detectors, not only the prefilters


@pytest.mark.skipif(not (EVI / "records.en.csv").is_file(), reason="EVI records not available")
def test_same_findings_on_the_eval_pii_set():
    for example in pii_eval.build_dataset(EVI, per_type=120, seed=3):
        same(example.text, example.locale, example.known_names)
        same(example.text, None, example.known_names)


def test_few_digits_edge_cases():
    # right at the digit thresholds of each number-shaped type
    for text in ["", "1", "12", "1234", "12345 Berlin", "PLZ 10115", "LT-01103", "LT01103", "SW1A 1AA", "GIR 0AA",
                 "X1234567L", "12345678Z", "T22000129", "born 11/08/1909", "tel 0301234567", "030 1234567",
                 "38703181745", "36574261809", "2 95 10 99 126 111 93", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
                 "٣٨٧٠٣١٨١٧٤٥", "+370 612 34567", "8 612 34567", "(+49) 30 901820", "²³ not digits for re"]:
        for locale in LOCALES:
            same(text, locale)
            same(f"Kodas {text}, ačiū", locale, ("Jonas Jonaitis",))


CUE_WORDS = [re.sub(r"\\s[+*]|\(\?:|\)\?|\\b", " ", cue).replace("  ", " ").strip()
             for cue in pii._STRONG_CUES + pii._WEAK_CUES + pii._CLOSING_CUES]


def test_name_cues_in_every_casing():
    for word in CUE_WORDS:
        for variant in {word, word.upper(), word.title(), word.capitalize(), word.swapcase()}:
            for text in (f"{variant} Anna Maria\nthanks", f"x {variant},\n  Jonas Jonaitis", f"({variant}\nAnna Berg)",
                         f"I am {variant} Bob Stone", variant, f"{variant}\n"):
                same(text)
                same(text, "lt", ("Anna Maria",))


def test_initial_gate_covers_case_folded_initials():
    # re.IGNORECASE matches "i" with "İ"/"ı", "s" with "ſ", "k" with the Kelvin sign: the gate must too
    for text in ["ſincerely,\nAnna", "İ am Anna Berg", "ı'm Anna Berg", "SINCERELY,\nAnna", "This is Anna Berg"]:
        assert [m.span() for m in pii._CLOSING_SCAN.finditer(text)] == [m.span() for m in pii._CLOSING.finditer(text)]
        assert [m.span() for m in pii._INTRO_WEAK_SCAN.finditer(text)] == [m.span() for m in pii._INTRO_WEAK.finditer(text)]
    with pytest.raises(ValueError):
        pii._initial_gate(re.compile("(?:ž)"), ("ž",))


def test_random_character_soup():
    rng = random.Random(11)
    alphabet = "0123456789 -+()./\n\tabcdeILSKXYZ@éžİıſ:'"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        same(text, rng.choice(LOCALES), rng.choice(NAMES))


# The scans as they were written before the lookbehind moved behind the first class.
_LEADING_LOOKBEHIND = {
    "_CARD": re.compile(r"(?<![\w\-])[2-6]\d{2,3}(?:[ \-]?\d){9,15}(?![\w])"),
    "_LT_ASMENS": re.compile(r"(?<![\w+])[1-6]\d{10}(?![\w])"),
    "_DE_AUSWEIS": re.compile(r"(?<![\w])[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d(?![\w])"),
    "_FR_NIR": re.compile(r"(?<![\w+])[1-478] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w])",
                          re.IGNORECASE),
    "_ES_DNI": re.compile(r"(?<![\w+])\d{8}[ \-]?[A-Z](?![\w])", re.IGNORECASE),
    "_IBAN": re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){11,30}(?![\w])", re.IGNORECASE),
    "_ES_NIE": re.compile(r"(?<![\w])[XYZ][ \-]?\d{7}[ \-]?[A-Z](?![\w])", re.IGNORECASE),
}


def test_spelled_out_first_classes_are_what_ignorecase_matches():
    for ignorecase, spelled in ((r"[A-Z]", r"[A-Za-z\u0130\u0131\u017f\u212a]"), (r"[XYZ]", r"[XYZxyz]")):
        every = [chr(c) for c in range(0x110000)]
        assert [c for c in every if re.fullmatch(ignorecase, c, re.IGNORECASE)] == [c for c in every if re.fullmatch(spelled, c)]


def test_lookbehind_after_the_first_class_matches_the_same_spans():
    rng = random.Random(23)
    alphabet = "0123456789012345678901234567890123456789 -+_\n.ABCFGXYZabxzéİıſK٣²LTDE"
    texts = ["", "1", "12345678Z", "x12345678Z", "+12345678Z", "_38703181745", "38703181745", "-4111111111111111",
             "T22000129", "éT22000129", "DE89 3704 0044 0532 0130 00", "xDE89370400440532013000", "de89370400440532013000",
             "X1234567L", "ſX1234567L", "x 1234567 l", "İt89370400440532013000", "ıT60X0542811101000000123456", "2 95 10 99 126 111 93", "\n12345678z\n", "٣٨٧٠٣١٨١٧٤٥", "a\n38703181745"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20000)]
    for name, before in _LEADING_LOOKBEHIND.items():
        after = getattr(pii, name)
        for text in texts:
            assert [m.span() for m in after.finditer(text)] == [m.span() for m in before.finditer(text)], (name, text)


def test_digit_run_gates_at_their_thresholds():
    # national ids / postcodes that need digits in a row, next to texts with as many digits split up
    for text in ["3870318174 5", "38703181745", "1234567 8Z", "12345678Z", "X 123456 7L", "X1234567L", "1234 5 Berlin",
                 "12345 Berlin", "LT-0110 3", "LT-01103", "12 345 678 901", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6"]:
        for locale in LOCALES:
            same(text, locale)
            same(f"Nr. {text} 12", locale, ("Jonas Jonaitis",))


def _cue_texts(rng: random.Random, count: int) -> list[str]:
    """Texts dense in cue words, in every casing, with case-folding look-alikes and overlaps."""
    fragments = CUE_WORDS + ["I am", "i'm", "İ am", "ı'm", "ſincerely", "ſaludos", "thank", "than", "nom :", "name",
                             "Anna", "Berg", "Jonas", "Žydrūnė", ",", ".", "!", "\n", " ", "\t", "  ", "x", "_", "é",
                             "ΣΑΣ", "grüße", "GRÜSSE", "grüẞe", "K", "ačiū", "AČIŪ", "mano vardas yra", "lg", "LG,\n"]
    texts = []
    for _ in range(count):
        parts = [rng.choice(fragments) for _ in range(rng.randint(1, 12))]
        parts = [p.upper() if rng.random() < 0.2 else p.swapcase() if rng.random() < 0.1 else p for p in parts]
        texts.append("".join(p + rng.choice(["", " ", "\n", " ", ", "]) for p in parts))
    return texts


def test_cue_prefilter_finds_exactly_what_finditer_finds():
    # The case-key prefilter may only skip positions where the cue cannot match.
    rng = random.Random(5)
    texts = _cue_texts(rng, 20000) + [w for w in CUE_WORDS] + ["ſincerely,\nAnna", "İ am Anna Berg", "ı'm Anna Berg"]
    found = 0
    for text in texts:
        keys = pii._case_keys(text)
        for cue, prefilter, _ in pii._CUE_SCANS:
            expected = [m.span() for m in cue.finditer(text)]
            assert [m.span() for m in pii._cue_matches(text, keys, cue, prefilter)] == expected, (text, cue.pattern)
            found += len(expected)
    assert found > 5000  # the texts do exercise the cues


def test_cue_prefilter_is_looser_than_the_cue_at_every_position():
    rng = random.Random(6)
    for text in _cue_texts(rng, 3000):
        keys = pii._case_keys(text)
        for cue, prefilter, _ in pii._CUE_SCANS:
            for position in range(len(text)):
                if cue.match(text, position):
                    assert prefilter.match(keys, position), (text, position, cue.pattern)


def test_cue_prefilter_keeps_uncased_classes_and_drops_lookarounds():
    closing = pii._CUE_SCANS[2][1].pattern
    assert "[ \\t]*[,.!]?[ \\t]*\\n[ \\t]*" in closing
    weak = pii._CUE_SCANS[1][1].pattern
    assert "\\b" not in weak and "(?=" not in weak and "i\\s+am" in weak
    with pytest.raises(ValueError):  # a cased class would need case keys of its own
        pii._case_key_pattern(re.compile(r"(?:[Mm]y\s+name)", re.IGNORECASE))


def test_phone_candidates_inside_stronger_findings_are_not_parsed(monkeypatch):
    parsed = []
    real_parse = pii.phonenumbers.parse
    monkeypatch.setattr(pii.phonenumbers, "parse", lambda number, region=None: parsed.append(number) or real_parse(number, region))
    # An asmens kodas is phone-shaped (11 digits); the national id holds its span, so no phone check is needed.
    assert [f.kind for f in pii.detect("Mano asmens kodas 38703181745.", "en")] == [pii.PiiKind.NATIONAL_ID]
    assert parsed == []
    # A phone candidate nothing stronger overlaps is still checked, once per region tried.
    assert [f.kind for f in pii.detect("Call 030 1234567 or 38703181745", "de")] == [pii.PiiKind.PHONE, pii.PiiKind.NATIONAL_ID]
    assert parsed == ["030 1234567"]


def test_lazy_phone_checks_agree_with_the_reference_on_mixed_numbers():
    rng = random.Random(13)
    pieces = ["38703181745", "+370 612 34567", "8 612 34567", "030 1234567", "06 12 34 56 78", "+49 30 901820",
              "DE89 3704 0044 0532 0130 00", "LT12 1000 0111 0100 1000", "4111 1111 1111 1111", "X1234567L",
              "12345678Z", "2 95 10 99 126 111 93", "11/08/1909", "PLZ 10115", "jonas.38703181745@example.lt",
              "0301234567@x.de", "(+49) 30 901820", "12345", "ES-88231", "Jonas Jonaitis", "tel.", "+", "-", " ", "\n", "00"]
    for _ in range(4000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", ", ", "\n", "-"]) for _ in range(rng.randint(1, 6)))
        same(text, rng.choice(LOCALES), rng.choice(NAMES))


# The patterns as they were written before their first character class was moved
# in front of the "not after a word character" lookbehind.
_LOOKBEHIND_FIRST = {
    "_UK_POSTCODE": (r"(?<![\w])(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})(?![\w])", 0),
    "_DE_IDNR": (r"(?<![\w+])[1-9]\d(?: ?\d{3}){3}(?![\w])", 0),
    "_YEAR": (r"(?<!\d)(?:19|20)\d{2}(?!\d)", 0),
}
_DATES_LOOKBEHIND_FIRST = [
    (r"(?<![\w./-])(\d{1,2})[./-](\d{1,2})[./-]((?:19|20)\d{2})(?![\w/-])", 0),
    (r"(?<![\w./-])((?:19|20)\d{2})[./-](\d{1,2})[./-](\d{1,2})(?![\w/-]|\.\d)", 0),
    (rf"(?<![\w])(\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?\s+(?:of\s+|de\s+)?({pii._MONTH_ALT})\.?,?\s+(?:de\s+|del\s+)?((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE),
    (rf"(?<![\w])({pii._MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE),
    (rf"(?<![\w])((?:19|20)\d{{2}})\s*m\.?\s+({pii._MONTH_ALT})\s+(\d{{1,2}})(?:\s*d\.?)?(?![\w])", re.IGNORECASE),
]


def _date_and_code_texts(rng: random.Random, count: int) -> list[str]:
    """Dates in every recognised shape (and near misses) and postcode/id-like codes, in random context."""
    context = ["", "", " ", "x", "_", "1", ".", "/", "-", "+", "\n", "born ", "né le ", "é", "G", "LT"]
    days = ["1", "8", "11", "31", "00", "123", "07"]
    years = ["1909", "2001", "1899", "2099", "19", "20011", "190"]
    months = ["August", "AUGUST", "août", "Aout", "rugpjūčio", "Mai", "sept", "Sept.", "mayo", "Augus"]
    seps = [".", "/", "-", " ", ". ", "//"]
    shapes = [
        lambda: rng.choice(days) + rng.choice(seps) + rng.choice(days) + rng.choice(seps) + rng.choice(years),
        lambda: rng.choice(years) + rng.choice(seps) + rng.choice(days) + rng.choice(seps) + rng.choice(days),
        lambda: rng.choice(days) + rng.choice(["", "th", "ST", ".", "º", "er"]) + rng.choice([" ", "  ", "\n"])
        + rng.choice(["", "of ", "de "]) + rng.choice(months) + rng.choice(["", ".", ","]) + " "
        + rng.choice(["", "de ", "del "]) + rng.choice(years),
        lambda: rng.choice(months) + rng.choice(["", "."]) + " " + rng.choice(days) + rng.choice(["", "th", "nd"])
        + rng.choice(["", ","]) + rng.choice([" ", "\t"]) + rng.choice(years),
        lambda: rng.choice(years) + rng.choice(["", " "]) + rng.choice(["m.", "m", "M."]) + " " + rng.choice(months) + " "
        + rng.choice(days) + rng.choice(["", " d.", "d", " D"]),
        lambda: rng.choice(["SW1A 1AA", "GIR 0AA", "GIR0AA", "EC1A1BB", "W1 1AA", "M11AE", "sw1a 1aa", "GXR 0AA"]),
        lambda: rng.choice(["65 929 970 489", "65929970489", "12 345 678 901", "01 234 567 890"]),
    ]
    return ["".join(rng.choice(context) + rng.choice(shapes)() + rng.choice(context) for _ in range(rng.randint(1, 3)))
            for _ in range(count)]


def test_patterns_with_the_class_first_match_what_the_lookbehind_first_ones_matched():
    rng = random.Random(21)
    texts = _date_and_code_texts(rng, 30000)
    pairs = [(getattr(pii, name), re.compile(source, flags)) for name, (source, flags) in _LOOKBEHIND_FIRST.items()]
    pairs += [(new, re.compile(source, flags)) for (new, _), (source, flags) in zip(pii._DATE_PATTERNS, _DATES_LOOKBEHIND_FIRST)]
    found = 0
    for text in texts:
        for new, old in pairs:
            expected = [(m.span(), m.groups()) for m in old.finditer(text)]
            assert [(m.span(), m.groups()) for m in new.finditer(text)] == expected, (text, old.pattern[:60])
            found += len(expected)
    assert found > 20000


def test_month_day_year_gate_never_skips_a_match():
    rng = random.Random(22)
    month_day_year = pii._DATE_PATTERNS[3][0]
    matched = 0
    for text in _date_and_code_texts(rng, 30000):
        if month_day_year.search(text):
            matched += 1
            assert pii._DAY_BEFORE_YEAR.search(text), text
    assert matched > 500
