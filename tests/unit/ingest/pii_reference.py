"""Frozen copy of casetrail/privacy/pii.py before the detector fast paths (prefilters, gated cue scans).

Only for tests/unit/ingest/test_pii_fast_paths.py: the shipped detector must find exactly what this one finds.

Over 400 lines: a verbatim copy of the detector as it was, kept whole so it stays the oracle (never edited).
"""
from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

import phonenumbers
from phonenumbers import NumberParseException
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.de import idnr as _de_idnr
from stdnum.es import dni as _es_dni
from stdnum.es import nie as _es_nie
from stdnum.fr import nir as _fr_nir
from stdnum.lt import asmens as _lt_asmens

from casetrail.privacy.addresses import street_addresses


class PiiKind(str, enum.Enum):
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    CARD = "CARD"
    PHONE = "PHONE"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    POSTCODE = "POSTCODE"
    ADDRESS = "ADDRESS"  # added with street addresses (issue 17); they have no fast path of their own
    NAME = "NAME"

    def __str__(self) -> str:  # so f"[{kind}_1]" reads "[EMAIL_1]"
        return self.value


# Overlap resolution: lower rank wins.
_RANK = {kind: rank for rank, kind in enumerate(PiiKind)}


@dataclass(frozen=True, slots=True)
class PiiFinding:
    kind: PiiKind
    start: int
    end: int

    def text(self, source: str) -> str:
        return source[self.start:self.end]


# Regions whose national phone formats a locale implies (first = most likely).
LOCALE_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US", "IE"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "CH"),
    "es": ("ES",),
    "lt": ("LT",),
}
ALL_REGIONS: tuple[str, ...] = tuple(dict.fromkeys(r for regions in LOCALE_REGIONS.values() for r in regions))

# ---------------------------------------------------------------- patterns
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])")
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){11,30}(?![\w])", re.IGNORECASE)
_CARD = re.compile(r"(?<![\w\-])[2-6]\d{2,3}(?:[ \-]?\d){9,15}(?![\w])")
_LT_ASMENS = re.compile(r"(?<![\w+])[1-6]\d{10}(?![\w])")
_DE_IDNR = re.compile(r"(?<![\w+])[1-9]\d(?: ?\d{3}){3}(?![\w])")
_DE_AUSWEIS = re.compile(r"(?<![\w])[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d(?![\w])")
_FR_NIR = re.compile(r"(?<![\w+])[1-478] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w])", re.IGNORECASE)
_ES_DNI = re.compile(r"(?<![\w+])\d{8}[ \-]?[A-Z](?![\w])", re.IGNORECASE)
_ES_NIE = re.compile(r"(?<![\w])[XYZ][ \-]?\d{7}[ \-]?[A-Z](?![\w])", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+#/.,\-])(?:\+|\b00)?[ \t]?(?:\(\s?\+?\d{1,4}\s?\)[ \t]?)?\d(?:[ \t\u00a0().\-/]{0,2}\d){5,16}(?![\w])")
_DATEISH = re.compile(r"^\s*(?:\d{1,2}[./\-]\d{1,2}[./\-]\d{2,4}|\d{4}[./\-]\d{1,2}[./\-]\d{1,2})\s*$")
# Card networks: IIN prefix and the lengths that network issues (Luhn on top).
_CARD_NETWORKS = (
    (re.compile(r"^4"), (13, 16, 19)),                                   # Visa
    (re.compile(r"^(?:5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720))"), (16,)),     # Mastercard
    (re.compile(r"^3[47]"), (15,)),                                      # American Express
    (re.compile(r"^3(?:0[0-5]|[689])"), (14, 16, 19)),                   # Diners Club
    (re.compile(r"^35(?:2[89]|[3-8])"), (16, 17, 18, 19)),               # JCB
    (re.compile(r"^6(?:011|5|4[4-9])"), (16, 17, 18, 19)),               # Discover
    (re.compile(r"^62"), (16, 17, 18, 19)),                              # UnionPay
    (re.compile(r"^(?:5[06-9]|6\d)"), (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
)

_MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
    # de
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10,
    "dezember": 12,
    # fr
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    # es
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    # lt (nominative and genitive)
    "sausis": 1, "sausio": 1, "vasaris": 2, "vasario": 2, "kovas": 3, "kovo": 3, "balandis": 4, "balandžio": 4,
    "gegužė": 5, "gegužės": 5, "birželis": 6, "birželio": 6, "liepa": 7, "liepos": 7, "rugpjūtis": 8,
    "rugpjūčio": 8, "rugsėjis": 9, "rugsėjo": 9, "spalis": 10, "spalio": 10, "lapkritis": 11, "lapkričio": 11,
    "gruodis": 12, "gruodžio": 12,
}
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_DATE_PATTERNS = (
    # 11/08/1909, 11.08.1909, 11-08-1909 (day first or month first: both are dates)
    (re.compile(r"(?<![\w./-])(\d{1,2})[./-](\d{1,2})[./-]((?:19|20)\d{2})(?![\w/-])"), "dmy"),
    # 1909-08-11, 1909.08.11, 1909/08/11
    (re.compile(r"(?<![\w./-])((?:19|20)\d{2})[./-](\d{1,2})[./-](\d{1,2})(?![\w/-]|\.\d)"), "ymd"),
    # 11 August 1909, 11. August 1909, 11 de agosto de 1909, 11 août 1909, 11th of August 1909
    (re.compile(rf"(?<![\w])(\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?\s+(?:of\s+|de\s+)?({_MONTH_ALT})\.?,?\s+(?:de\s+|del\s+)?((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE), "d_m_y"),
    # August 11, 1909
    (re.compile(rf"(?<![\w])({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE), "m_d_y"),
    # 1909 m. rugpjūčio 11 d.
    (re.compile(rf"(?<![\w])((?:19|20)\d{{2}})\s*m\.?\s+({_MONTH_ALT})\s+(\d{{1,2}})(?:\s*d\.?)?(?![\w])", re.IGNORECASE), "y_m_d"),
)
_BIRTH_CUE = re.compile(
    r"(?:date\s+of\s+birth|birth\s*date|birthday|d\.?\s?o\.?\s?b\.?|born(?:\s+on)?|"
    r"geburtsdatum|geburtstag|geboren(?:\s+am)?|geb\.|"
    r"date\s+de\s+naissance|n[ée]e?\s+le|anniversaire|"
    r"fecha\s+de\s+nacimiento|nacid[oa](?:\s+el)?|f\.\s?nac\.|cumpleaños|"
    r"gimimo\s+data|gim(?:ęs|usi|ė)|gimimo\s+diena)",
    re.IGNORECASE,
)
_UK_POSTCODE = re.compile(r"(?<![\w])(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})(?![\w])")
_LT_POSTCODE = re.compile(r"(?<![\w])LT-?\d{5}(?![\w])")
_FIVE_DIGIT_POSTCODE = re.compile(r"(?<![\w\-])(?<!\d[.,])(?:[A-Z]-)?\d{5}(?![\w\-]|[.,]\d|\s*(?:€|\$|£|EUR|USD|GBP|eur|euro))")
_POSTCODE_CUE = re.compile(
    r"(?:post\s?code|postal\s+code|zip(?:\s+code)?|plz|postleitzahl|code\s+postal|c\.?p\.?|"
    r"c[óo]digo\s+postal|pa[šs]to\s+kodas)(?:\s+(?:is|est|ist|lautet|es|yra))?\W{0,3}$",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(r"[ \t]+([^\W\d_][^\W\d_'\-]+)")
# Self-introductions: strong cues take one capitalised word, weak cues two.
_INTRO_STRONG = re.compile(
    r"(?:my\s+name\s+is|my\s+name's|name:|mein\s+name\s+ist|ich\s+heiße|ich\s+heisse|"
    r"je\s+m'appelle|je\s+m’appelle|mon\s+nom\s+est|me\s+llamo|mi\s+nombre\s+es|"
    r"mano\s+vardas(?:\s+yra)?|vardas:|nom\s*:|nombre\s*:)\s+",
    re.IGNORECASE,
)
_INTRO_WEAK = re.compile(r"(?:\bI\s+am|\bI'm|\bich\s+bin|\bje\s+suis|\bsoy|\baš\s+esu|\bthis\s+is)\s+", re.IGNORECASE)
_CLOSING = re.compile(
    r"(?:regards|best\s+wishes|sincerely|thanks|thank\s+you|cheers|"
    r"mit\s+freundlichen\s+grüßen|freundliche\s+grüße|viele\s+grüße|lg|mfg|danke|"
    r"cordialement|bien\s+à\s+vous|merci|salutations|"
    r"saludos(?:\s+cordiales)?|atentamente|un\s+saludo|gracias|"
    r"pagarbiai|su\s+pagarba|ačiū|dėkoju|linkėjimai)[ \t]*[,.!]?[ \t]*\n[ \t]*",
    re.IGNORECASE,
)
_CAP_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")
_NOT_NAMES = frozenset(
    """i a the and or but if you we they he she it my your our their this that please thanks thank hello hi
    dear team support customer service order refund account sorry very really so not just also still
    ich und oder aber bitte danke hallo sehr nicht auch noch wir sie er es mein meine
    je et ou mais merci bonjour très pas aussi encore nous vous il elle mon ma
    yo y o pero gracias hola muy no también todavía nosotros usted él ella mi
    aš ir ar bet ačiū labas labai ne taip pat dar mes jūs jis ji mano
    """.split()
)
# Lithuanian case endings of personal names (nominative, genitive, dative,
# accusative, instrumental, locative, vocative; masculine and feminine).
_LT_ENDINGS = ("iaus", "iui", "ams", "ai", "as", "is", "ys", "us", "ius", "ės", "os", "ei", "ą", "ę", "į", "ų",
               "ui", "u", "o", "e", "ė", "a", "y")


def _region_hint(locale: Optional[str]) -> tuple[str, ...]:
    if not locale:
        return ALL_REGIONS
    parts = re.split(r"[-_]", locale)
    language = parts[0].lower()
    regions = list(LOCALE_REGIONS.get(language, ()))
    if len(parts) > 1 and len(parts[-1]) == 2:
        regions.insert(0, parts[-1].upper())
    return tuple(dict.fromkeys(regions)) or ALL_REGIONS


def _compact(s: str) -> str:
    return re.sub(r"[\s\-]", "", s)


# ------------------------------------------------------------- detectors
def _emails(text: str, out: list[PiiFinding]) -> None:
    for m in _EMAIL.finditer(text):
        out.append(PiiFinding(PiiKind.EMAIL, m.start(), m.end()))


def _ibans(text: str, out: list[PiiFinding]) -> None:
    for m in _IBAN.finditer(text):
        raw = m.group()
        # Trailing uppercase words can be swallowed by the grouped pattern
        # ("... 0130 00 EUR"): shorten until the remaining prefix validates.
        positions = [i for i, ch in enumerate(raw) if ch not in " -"]
        compact = "".join(raw[i] for i in positions).upper()
        for length in range(len(compact), 14, -1):
            if _iban.is_valid(compact[:length]):
                out.append(PiiFinding(PiiKind.IBAN, m.start(), m.start() + positions[length - 1] + 1))
                break


def _cards(text: str, out: list[PiiFinding]) -> None:
    for m in _CARD.finditer(text):
        digits = _compact(m.group())
        if any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in _CARD_NETWORKS) and _luhn.is_valid(digits):
            out.append(PiiFinding(PiiKind.CARD, m.start(), m.end()))


def _ausweis_valid(code: str) -> bool:
    # ICAO 9303 check digit (weights 7, 3, 1) over the 9-character serial.
    code = code.upper()
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in code[:9]]
    return sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10 == int(code[9])


_NATIONAL_ID_CHECKS = (
    (_LT_ASMENS, _lt_asmens.is_valid),
    (_DE_IDNR, _de_idnr.is_valid),
    (_DE_AUSWEIS, _ausweis_valid),
    (_FR_NIR, _fr_nir.is_valid),
    (_ES_DNI, _es_dni.is_valid),
    (_ES_NIE, _es_nie.is_valid),
)


def _national_ids(text: str, out: list[PiiFinding]) -> None:
    for pattern, is_valid in _NATIONAL_ID_CHECKS:
        for m in pattern.finditer(text):
            if is_valid(m.group()):
                out.append(PiiFinding(PiiKind.NATIONAL_ID, m.start(), m.end()))


def _phones(text: str, regions: tuple[str, ...], out: list[PiiFinding]) -> None:
    for m in _PHONE.finditer(text):
        candidate = m.group()
        start, end = m.start(), m.end()
        stripped = candidate.lstrip(" \t")
        start += len(candidate) - len(stripped)
        candidate = stripped
        digits = sum(ch.isdigit() for ch in candidate)
        if digits < 7 or digits > 15 or _DATEISH.match(candidate):
            continue
        if candidate.startswith(("+", "00", "(+", "(00")):
            number = candidate.replace("(0)", "")
            if number.startswith("00"):
                number = "+" + number[2:]
            try:
                parsed = phonenumbers.parse(number, None)
            except NumberParseException:
                continue
            if phonenumbers.is_possible_number(parsed):
                out.append(PiiFinding(PiiKind.PHONE, start, end))
            continue
        for region in regions:
            # A national number is written with its trunk prefix where the
            # region has one (0 in DE/FR/GB, 8 in LT): without it a bare digit
            # run is far more likely an order or invoice number.
            trunk = _TRUNK_PREFIXES.get(region)
            if trunk and not candidate.lstrip("(").startswith(trunk):
                continue
            try:
                parsed = phonenumbers.parse(candidate, region)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number_for_region(parsed, region):
                out.append(PiiFinding(PiiKind.PHONE, start, end))
                break


# National (trunk) prefixes as people write them; regions without one (ES, and
# US where the "1" is usually omitted) accept any valid national number.
_TRUNK_PREFIXES: dict[str, tuple[str, ...]] = {
    "GB": ("0",), "IE": ("0",), "DE": ("0",), "AT": ("0",), "CH": ("0",),
    "FR": ("0",), "BE": ("0",), "LT": ("8", "0"),
}


def _valid_date(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def _dates_of_birth(text: str, out: list[PiiFinding], today: dt.date) -> None:
    if not _YEAR.search(text):  # every recognised date format carries a four-digit year
        return
    cutoff_year = today.year - 16
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            a, b, c = m.group(1), m.group(2), m.group(3)
            if order == "dmy":
                year = int(c)
                date = _valid_date(year, int(b), int(a)) or _valid_date(year, int(a), int(b))
            elif order == "ymd":
                year = int(a)
                date = _valid_date(year, int(b), int(c))
            elif order == "d_m_y":
                year = int(c)
                date = _valid_date(year, _MONTHS[b.lower()], int(a))
            elif order == "m_d_y":
                year = int(c)
                date = _valid_date(year, _MONTHS[a.lower()], int(b))
            else:  # y_m_d
                year = int(a)
                date = _valid_date(year, _MONTHS[b.lower()], int(c))
            if date is None or date > today:
                continue
            cued = _BIRTH_CUE.search(text, max(0, m.start() - 40), m.start()) is not None
            if cued or year <= cutoff_year:
                out.append(PiiFinding(PiiKind.DATE_OF_BIRTH, m.start(), m.end()))


def _postcodes(text: str, out: list[PiiFinding]) -> None:
    for pattern in (_UK_POSTCODE, _LT_POSTCODE):
        for m in pattern.finditer(text):
            out.append(PiiFinding(PiiKind.POSTCODE, m.start(), m.end()))
    for m in _FIVE_DIGIT_POSTCODE.finditer(text):
        cued = _POSTCODE_CUE.search(text[max(0, m.start() - 30):m.start()]) is not None
        if not cued:
            place = _PLACE_AFTER.match(text, m.end())
            cued = bool(place) and place.group(1)[0].isupper() and not place.group(1).isupper()
        if cued:
            out.append(PiiFinding(PiiKind.POSTCODE, m.start(), m.end()))


def _fold(s: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch)).casefold()


def _token_pattern(token: str, lithuanian: bool) -> str:
    if lithuanian and len(token) >= 4:
        for ending in sorted(_LT_ENDINGS, key=len, reverse=True):
            if token.lower().endswith(ending) and len(token) - len(ending) >= 3:
                return re.escape(token[: -len(ending)]) + r"(?:" + "|".join(sorted(_LT_ENDINGS, key=len, reverse=True)) + r")"
    return re.escape(token)


@lru_cache(maxsize=4096)
def _known_name_pattern(names: tuple[str, ...], lithuanian: bool) -> Optional[re.Pattern]:
    full: set[str] = set()
    single: set[str] = set()
    for name in names:
        tokens = [t for t in _CAP_WORD.findall(name) if len(t) >= 2 and t.casefold() not in _NOT_NAMES]
        patterns = [_token_pattern(t, lithuanian) for t in tokens]
        if len(patterns) > 1:
            full.add(r"\s+".join(patterns))
        single.update(patterns)
    if not single:
        return None
    # Full names first, so "Jonas Jonaitis" is one finding, not two.
    ordered = sorted(full, key=len, reverse=True) + sorted(single, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(ordered) + r")(?![\w])", re.IGNORECASE)


def _capitalised_run(text: str, pos: int, min_words: int, max_words: int = 3) -> Optional[tuple[int, int]]:
    words: list[tuple[int, int]] = []
    i = pos
    while len(words) < max_words:
        m = _CAP_WORD.match(text, i)
        if not m or not m.group()[0].isupper() or m.group().casefold() in _NOT_NAMES:
            break
        words.append((m.start(), m.end()))
        gap = re.match(r"[ \t]+", text[m.end():m.end() + 3])
        if not gap:
            break
        i = m.end() + gap.end()
    if len(words) < min_words:
        return None
    return words[0][0], words[-1][1]


def _names(text: str, known_names: tuple[str, ...], locale: Optional[str], out: list[PiiFinding]) -> None:
    if known_names:
        lithuanian = locale is None or locale.lower().startswith("lt")
        pattern = _known_name_pattern(known_names, lithuanian)
        if pattern is not None:
            for m in pattern.finditer(text):
                out.append(PiiFinding(PiiKind.NAME, m.start(), m.end()))
    for cue, min_words in ((_INTRO_STRONG, 1), (_INTRO_WEAK, 2), (_CLOSING, 1)):
        for m in cue.finditer(text):
            span = _capitalised_run(text, m.end(), min_words)
            if span:
                out.append(PiiFinding(PiiKind.NAME, *span))


def _resolve(findings: list[PiiFinding]) -> list[PiiFinding]:
    """Keep non-overlapping findings: stronger kind first, then longer span."""
    if len(findings) < 2:
        return findings
    chosen: list[PiiFinding] = []
    for f in sorted(findings, key=lambda f: (_RANK[f.kind], -(f.end - f.start), f.start)):
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    chosen.sort(key=lambda f: f.start)
    return chosen


def detect(
    text: str,
    locale: Optional[str] = None,
    known_names: Iterable[str] = (),
    *,
    today: Optional[dt.date] = None,
) -> list[PiiFinding]:
    """Every personal-data span in ``text``, sorted by position, non-overlapping.

    ``locale`` ("de", "fr-BE", ...) narrows national phone formats to the
    regions it implies; ``None`` tries every supported region.
    ``known_names`` are the customer's names as the source gives them.
    """
    if not text:
        return []
    out: list[PiiFinding] = []
    if "@" in text:
        _emails(text, out)
    has_digits = any(ch.isdigit() for ch in text)
    if has_digits:
        _ibans(text, out)
        _cards(text, out)
        _national_ids(text, out)
        _phones(text, _region_hint(locale), out)
        _dates_of_birth(text, out, today or dt.date.today())
        _postcodes(text, out)
        out.extend(PiiFinding(PiiKind.ADDRESS, start, end) for start, end in street_addresses(text))
    names = tuple(n for n in known_names if n)
    _names(text, names, locale, out)
    return _resolve(out)


def kinds() -> tuple[str, ...]:
    return tuple(k.value for k in PiiKind)
