"""Numbers, amounts, percentages, durations, dates and times in en/de/fr/es/lt text.

The statement check compares what a reply sentence claims with what its cited
clause says, so both sides are reduced to typed, normalised quantities:
``30 Tage`` == ``30 days`` == ``thirty days`` == ``vier Wochen`` minus two
days, ``€50`` == ``50 EUR`` == ``50,00 €``, ``2 weeks`` == ``14 days``.
Number words count only directly before a unit (``zwei Wochen``), so an
article such as ``eine Rückerstattung`` is never read as the number 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

# ---------------------------------------------------------------- number words

_EN_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
             "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_DE_UNITS = {"null": 0, "ein": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "eines": 1, "eins": 1,
             "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
             "elf": 11, "zwölf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16,
             "siebzehn": 17, "achtzehn": 18, "neunzehn": 19}
_DE_TENS = {"zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "sechzig": 60,
            "siebzig": 70, "achtzig": 80, "neunzig": 90}
_FR_UNITS = {"zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
             "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
             "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19}
_FR_TENS = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "soixante-dix": 70,
            "quatre-vingt": 80, "quatre-vingts": 80, "quatre-vingt-dix": 90}
_ES_UNITS = {"cero": 0, "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
             "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14,
             "quince": 15, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
             "veintiuno": 21, "veintiún": 21, "veintiuna": 21, "veintidós": 22, "veintitrés": 23,
             "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26, "veintisiete": 27, "veintiocho": 28,
             "veintinueve": 29}
_ES_TENS = {"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
            "noventa": 90}
_LT_UNITS = {"nulis": 0, "vienas": 1, "viena": 1, "vieną": 1, "vienos": 1, "vieno": 1, "du": 2, "dvi": 2,
             "dviejų": 2, "trys": 3, "tris": 3, "trijų": 3, "keturi": 4, "keturias": 4, "keturių": 4,
             "penki": 5, "penkias": 5, "penkių": 5, "šeši": 6, "šešias": 6, "šešių": 6, "septyni": 7,
             "septynias": 7, "septynių": 7, "aštuoni": 8, "aštuonias": 8, "aštuonių": 8, "devyni": 9,
             "devynias": 9, "devynių": 9, "dešimt": 10, "vienuolika": 11, "dvylika": 12, "trylika": 13,
             "keturiolika": 14, "penkiolika": 15, "šešiolika": 16, "septyniolika": 17, "aštuoniolika": 18,
             "devyniolika": 19}
_LT_TENS = {"dvidešimt": 20, "trisdešimt": 30, "keturiasdešimt": 40, "penkiasdešimt": 50, "šešiasdešimt": 60,
            "septyniasdešimt": 70, "aštuoniasdešimt": 80, "devyniasdešimt": 90}
_HUNDREDS = {"hundred": 100, "hundert": 100, "einhundert": 100, "cent": 100, "cien": 100, "ciento": 100,
             "šimtas": 100, "šimto": 100}

_WORD_VALUES: dict[str, int] = {}
for _table in (_EN_UNITS, _EN_TENS, _DE_UNITS, _DE_TENS, _FR_UNITS, _FR_TENS, _ES_UNITS, _ES_TENS, _LT_UNITS,
               _LT_TENS, _HUNDREDS):
    _WORD_VALUES.update(_table)
_TENS: dict[str, int] = {**_EN_TENS, **_DE_TENS, **_FR_TENS, **_ES_TENS, **_LT_TENS}
_UNITS: dict[str, int] = {k: v for k, v in {**_EN_UNITS, **_DE_UNITS, **_FR_UNITS, **_ES_UNITS, **_LT_UNITS}.items()
                          if 1 <= v <= 9}


def word_to_number(phrase: str) -> Optional[int]:
    """``thirty-one``, ``einunddreißig``, ``trente et un``, ``treinta y uno``, ``trisdešimt vienas``."""
    text = phrase.lower().strip()
    if text in _WORD_VALUES:
        return _WORD_VALUES[text]
    # German compounds: <unit>und<tens>
    for tens_word, tens in _DE_TENS.items():
        if text.endswith("und" + tens_word):
            unit = _DE_UNITS.get(text[: -len("und" + tens_word)]) or (1 if text.startswith("ein") else None)
            if unit and unit < 10:
                return tens + unit
    parts = [p for p in re.split(r"[\s\-]+", text) if p not in ("and", "et", "y")]
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _UNITS:
        return _TENS[parts[0]] + _UNITS[parts[1]]
    if len(parts) == 2 and parts[0] == "soixante" and parts[1] in _FR_UNITS:  # soixante et onze
        return 60 + _FR_UNITS[parts[1]]
    if len(parts) == 2 and parts[0] in ("quatre-vingt",) and parts[1] in _FR_UNITS:
        return 80 + _FR_UNITS[parts[1]]
    return None


_WORD_ALTERNATION = "|".join(sorted((re.escape(w) for w in _WORD_VALUES), key=len, reverse=True))
# A number word, optionally a compound (``thirty-one``, ``trente et un``, ``treinta y uno``, ``einunddreißig``).
NUMBER_WORD = (
    rf"(?:[a-zäöüßéèêáíóúñàâçûùëïąčęėįšųūž]+und(?:{'|'.join(_DE_TENS)})"
    rf"|(?:{_WORD_ALTERNATION})(?:(?:[\s\-]+(?:et|y|and)[\s\-]+|[\s\-]+)(?:{_WORD_ALTERNATION}))?)"
)

# ---------------------------------------------------------------- digits

_DIGITS = r"\d{1,3}(?:[.,\u00a0\u202f\u2009]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
# amounts may group thousands with a plain space ("1 000 €" in French)
_MONEY_DIGITS = r"\d{1,3}(?:[.,\u00a0\u202f\u2009 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"


def parse_decimal(raw: str, locale: str) -> Optional[float]:
    """``1,000.50`` (en), ``1.000,50`` (de/es/lt), ``1 000,50`` (fr), ``50,00``, ``1.000``."""
    text = re.sub(r"[\u00a0\u202f\u2009 ]", "", raw)
    if not text:
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        if len(tail) == 3 and locale == "en" and text.count(",") >= 1 and head.replace(",", "").isdigit():
            text = text.replace(",", "")  # 1,000
        elif text.count(",") > 1:
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    elif "." in text:
        head, _, tail = text.rpartition(".")
        if text.count(".") > 1 or (len(tail) == 3 and locale != "en"):
            text = text.replace(".", "")  # 1.000 (thousands outside English)
    try:
        return float(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- vocabulary

_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}
_CURRENCY_CODE = r"EUR|USD|GBP|eur|euros?|Euros?|eurų|eurai|eurus|euro|dollars?|dólares"
_CURRENCY_NAMES = {"eur": "EUR", "euro": "EUR", "euros": "EUR", "eurų": "EUR", "eurai": "EUR", "eurus": "EUR",
                   "usd": "USD", "dollar": "USD", "dollars": "USD", "dólares": "USD", "gbp": "GBP"}

_PERCENT_WORDS = r"%|percent|per\s+cent|prozent|pour\s*cent|por\s+ciento|procent[ųaiaus]*|proc\."

# unit word -> (normalised unit, factor)
_DURATION_UNITS: list[tuple[str, str, int]] = [
    # business days first, so "30 business days" is not read as calendar days
    (r"business\s+days?|working\s+days?|werktage?n?|arbeitstage?n?|jours?\s+ouvr(?:é|a)(?:s|bles?)|"
     r"días?\s+(?:hábiles|laborables)|darbo\s+(?:dien(?:a|os|ų|as|ą|omis))", "business_day", 1),
    (r"calendar\s+days?|kalendertage?n?|jours?\s+calendaires?|días?\s+naturales|kalendorin(?:ių|ės|es)\s+dien(?:ų|os|as)",
     "day", 1),
    (r"days?|tage?n?|tages|jours?|días?|dien(?:a|os|ų|as|ą|omis)|d\.(?!\w)", "day", 1),
    (r"weeks?|wochen?|semaines?|semanas?|savait(?:ė|ės|ę|es|ių)", "day", 7),
    (r"months?|monate?n?|monats|mois|mes(?:es)?|mėnes(?:io|ių|ius|iai)|mėnuo|mėn\.", "month", 1),
    (r"years?|jahre?n?|jahres|ans?|années?|años?|met(?:ai|ų|us)", "month", 12),
    (r"hours?|stunden?|heures?|horas?|valand(?:a|os|ų|as|ą)|val\.", "minute", 60),
    (r"minutes?|minuten?|minutos?|minut(?:ė|ės|ių|es|ę)|min\.", "minute", 1),
]
_DURATION_RE = "|".join(f"(?P<u{i}>{pattern})" for i, (pattern, _, _) in enumerate(_DURATION_UNITS))

_MONTHS: dict[str, int] = {}
for _names in (
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "sausio vasario kovo balandžio gegužės birželio liepos rugpjūčio rugsėjo spalio lapkričio gruodžio",
    "sausis vasaris kovas balandis gegužė birželis liepa rugpjūtis rugsėjis spalis lapkritis gruodis",
):
    for _index, _name in enumerate(_names.split(), start=1):
        _MONTHS[_name] = _index
_MONTHS.update({"jänner": 1, "setiembre": 9, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
                "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12})
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))

_UPPER_BOUND = (r"(?:up\s+to|at\s+most|no\s+more\s+than|maximum(?:\s+of)?|max\.?|bis\s+zu|höchstens|maximal|"
                r"jusqu['’]\s*à|au\s+maximum|au\s+plus|hasta|como\s+máximo|iki|ne\s+daugiau\s+kaip|daugiausia)")


@dataclass(frozen=True)
class Quantity:
    """One typed, normalised quantity found in a text."""

    kind: str  # money | percent | duration | date | time | number
    value: float | tuple
    unit: str = ""  # currency code, normalised duration unit
    upper_bound: bool = False  # "up to €50": any smaller amount follows from the clause
    text: str = ""  # the span as written, for check details
    number: float = 0.0  # the number as written, before unit normalisation

    def describe(self) -> str:
        return self.text or f"{self.value} {self.unit}".strip()


_FLAGS = re.IGNORECASE | re.UNICODE
_NUM = rf"(?:{_DIGITS}|{NUMBER_WORD})"
_RANGE_SEP = r"\s*(?:-|–|—|to|bis|à|a|iki|and|und|et|y|ir)\s*"

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")
_DAY_MONTH = re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+(?:de\s+)?({_MONTH_RE})\.?(?:\s+(?:de\s+)?(\d{{4}}))?(?!\w)", _FLAGS)
_MONTH_DAY = re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s+(\d{{1,2}})(?:\s*d\.|(?:st|nd|rd|th)?)(?:,?\s+(\d{{4}}))?(?!\w)", _FLAGS)
_LT_YEAR_MONTH_DAY = re.compile(rf"(?<!\d)(\d{{4}})\s*m\.\s+({_MONTH_RE})\s+(\d{{1,2}})\s*d\.", _FLAGS)
_TIME = re.compile(r"(?<![\d.:,])([01]?\d|2[0-4])(?::|h|\.(?=\d\d\s*Uhr))([0-5]\d)(?![\d])")
_MONEY_BEFORE = re.compile(rf"(?P<cur>[€$£]|\b(?:EUR|USD|GBP)\b)\s?(?P<num>{_MONEY_DIGITS})", _FLAGS)


def _unit_patterns(number: str, money_number: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """Money-after, percent and duration patterns for a given number syntax."""
    money_after = re.compile(
        rf"(?<![\w.,])(?P<num>{money_number})\s?(?P<cur>[€$£]|(?<!\w)(?:{_CURRENCY_CODE})(?!\w))", _FLAGS)
    percent = re.compile(rf"(?<![\w.,])(?P<num>{number})\s?(?:{_PERCENT_WORDS})(?!\w)", _FLAGS)
    duration = re.compile(
        rf"(?<![\w.,])(?P<first>{number})(?:{_RANGE_SEP}(?P<second>{number}))?\s*(?:-\s*)?(?:{_DURATION_RE})(?!\w)",
        _FLAGS)
    return money_after, percent, duration


# Two compiled variants: number words make the patterns slow, and most texts have none.
_WITH_WORDS = _unit_patterns(_NUM, f"{_MONEY_DIGITS}|{NUMBER_WORD}")
_DIGITS_ONLY = _unit_patterns(f"(?:{_DIGITS})", _MONEY_DIGITS)
_WORD_TOKENS = frozenset(_WORD_VALUES)
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_GERMAN_COMPOUND = re.compile(rf"\w+und(?:{'|'.join(_DE_TENS)})")
_PLAIN_NUMBER = re.compile(rf"(?<![\w.,])({_DIGITS})(?![\w])")
_BOUND_BEFORE = re.compile(rf"{_UPPER_BOUND}\s*$", _FLAGS)
# Things that look like numbers but are identifiers: placeholders [ORDER_1], citation markers, versions.
_OPAQUE = re.compile(r"\[[^\]\n]{1,80}\]|\b[\w.\-]+@[\w.\-+]+\b|\bv\d+(?:\.\d+)*\b|#\w+", _FLAGS)


def _number(raw: str, locale: str) -> Optional[float]:
    raw = raw.strip()
    if raw and raw[0].isdigit():
        return parse_decimal(raw, locale)
    value = word_to_number(raw)
    return float(value) if value is not None else None


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def extract_quantities(text: str, locale: str = "en") -> list[Quantity]:
    """Every quantity in ``text``; each character belongs to at most one quantity."""
    if len(text) > REMEMBERED_TEXT_CHARS:  # a customer's long e-mail: read, not kept
        return _read_quantities(text, locale)
    return list(_remembered_quantities(text, locale))


#: texts up to this long are remembered (4,096 of them: a few MB at most)
REMEMBERED_TEXT_CHARS = 1000


@lru_cache(maxsize=4096)
def _remembered_quantities(text: str, locale: str) -> tuple[Quantity, ...]:
    # The verifier reads the same template and clause sentences in draft after draft, and
    # this is its costliest step (dozens of regex passes per text); a Quantity is frozen,
    # so sharing one between callers is safe.
    return tuple(_read_quantities(text, locale))


def _read_quantities(text: str, locale: str) -> list[Quantity]:
    work = _OPAQUE.sub(lambda m: " " * len(m.group(0)), text.replace("\u00a0", " ").replace("\u202f", " "))
    found: list[Quantity] = []
    lowered = work.lower()
    has_words = any(token in _WORD_TOKENS or _GERMAN_COMPOUND.fullmatch(token) for token in _TOKEN.findall(lowered))
    if not has_words and not any(ch.isdigit() for ch in work):
        return found
    money_after, percent, duration = _WITH_WORDS if has_words else _DIGITS_ONLY

    def bounded(start: int) -> bool:
        return bool(_BOUND_BEFORE.search(work[max(0, start - 40):start]))

    # dates first: "15.03.2026" must not become a number and a time
    for pattern, order in ((_LT_YEAR_MONTH_DAY, "ymd_named"), (_ISO_DATE, "ymd"), (_NUMERIC_DATE, "dmy"),
                           (_DAY_MONTH, "d_month"), (_MONTH_DAY, "month_d")):
        for match in list(pattern.finditer(work)):
            groups = match.groups()
            try:
                if order == "ymd":
                    year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
                elif order == "ymd_named":
                    year, month, day = int(groups[0]), _MONTHS[groups[1].lower()], int(groups[2])
                elif order == "dmy":
                    day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
                elif order == "d_month":
                    day, month = int(groups[0]), _MONTHS[groups[1].lower()]
                    year = int(groups[2]) if groups[2] else None
                else:
                    month, day = _MONTHS[groups[0].lower()], int(groups[1])
                    year = int(groups[2]) if groups[2] else None
            except (KeyError, ValueError):
                continue
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            found.append(Quantity("date", (year, month, day), text=match.group(0).strip()))
            work = _mask(work, match.start(), match.end())

    for pattern in (_MONEY_BEFORE, money_after):
        for match in list(pattern.finditer(work)):
            value = _number(match.group("num"), locale)
            if value is None:
                continue
            symbol = match.group("cur")
            currency = _CURRENCY_SYMBOLS.get(symbol) or _CURRENCY_NAMES.get(symbol.lower(), symbol.upper())
            found.append(Quantity("money", round(value, 2), currency, bounded(match.start()), match.group(0).strip(),
                                  value))
            work = _mask(work, match.start(), match.end())

    for match in list(percent.finditer(work)):
        value = _number(match.group("num"), locale)
        if value is None:
            continue
        found.append(Quantity("percent", round(value, 2), "%", bounded(match.start()), match.group(0).strip(),
                                  value))
        work = _mask(work, match.start(), match.end())

    for match in list(_TIME.finditer(work)):
        found.append(Quantity("time", (int(match.group(1)) % 24, int(match.group(2))), text=match.group(0)))
        work = _mask(work, match.start(), match.end())

    for match in list(duration.finditer(work)):
        unit_index = next(i for i in range(len(_DURATION_UNITS)) if match.group(f"u{i}") is not None)
        _, unit, factor = _DURATION_UNITS[unit_index]
        for key in ("first", "second"):
            raw = match.group(key)
            if raw is None:
                continue
            value = _number(raw, locale)
            if value is None:
                continue
            found.append(Quantity("duration", round(value * factor, 4), unit, bounded(match.start()),
                                  match.group(0).strip(), value))
        work = _mask(work, match.start(), match.end())

    for match in _PLAIN_NUMBER.finditer(work):
        value = parse_decimal(match.group(1), locale)
        if value is not None:
            found.append(Quantity("number", round(value, 4), text=match.group(1), number=value))
    return found


def supported_by(claim: Quantity, evidence: list[Quantity]) -> bool:
    """Does ``claim`` appear in, or follow from, the quantities of a clause?"""
    for fact in evidence:
        if claim.kind == "number":
            # a bare number is supported by the same number written anywhere in the clause
            if fact.kind not in ("date", "time") and (fact.number == claim.value or fact.value == claim.value):
                return True
            continue
        if fact.kind != claim.kind:
            continue
        if claim.kind == "date":
            (cy, cm, cd), (fy, fm, fd) = claim.value, fact.value
            if (cm, cd) == (fm, fd) and (cy is None or fy is None or cy == fy):
                return True
            continue
        if claim.unit != fact.unit:
            continue
        if claim.value == fact.value:
            return True
        if fact.upper_bound and claim.kind in ("money", "percent") and 0 <= claim.value <= fact.value:
            return True
    return False
