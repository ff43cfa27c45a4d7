"""Personal-data detection in free text.

``detect(text, locale=None, known_names=()) -> list[PiiFinding]`` is the one
entry point. Ingest uses it to redact tickets before anything downstream sees
them; the verifier uses it to refuse drafts that leak personal data. Keep the
name and signature stable.

What is found, and how (precision over guesswork: checksums wherever the
format has one):

* ``EMAIL`` - address syntax.
* ``IBAN`` - country code + check digits, validated with python-stdnum
  (ISO 7064 mod 97-10 and the per-country BBAN format).
* ``CARD`` - 13-19 digits (spaces/dashes allowed) with a card-network prefix
  and a valid Luhn checksum.
* ``NATIONAL_ID`` - Lithuanian asmens kodas, German steuerliche
  Identifikationsnummer and Personalausweis document number, French NIR,
  Spanish DNI and NIE; every one checksum-validated.
* ``PHONE`` - candidates parsed with Google's libphonenumber port
  (``phonenumbers``): international numbers (``+``/``00``) must be possible
  numbers, national ones valid numbers of a region implied by the locale (all
  supported regions when the locale is unknown).
* ``DATE_OF_BIRTH`` - a full date that either follows a birth cue ("date of
  birth", "geboren", "né le", "fecha de nacimiento", "gimęs", ...) or lies so far
  back (before ``today - 16 years``) that in a support ticket it is a birth date.
* ``POSTCODE`` - UK and Lithuanian formats anywhere; the ambiguous five-digit
  DE/FR/ES codes only in an address context (a cue word before, or a
  capitalised place name after).
* ``ADDRESS`` - a street line: a street-type word next to a house number in
  the shapes en/de/fr/es/lt write it (``casetrail.privacy.addresses``).
* ``NAME`` - the names the source gives for the customer (``known_names``),
  including Lithuanian inflected forms, plus self-introductions ("my name is
  ...", "je m'appelle ...") and a name line after a closing formula, and a
  full name written with no cue at all: a gazetteer given name and a
  capitalised surname (``casetrail.privacy.person_names``).

Findings never overlap: where two candidates overlap, the stronger kind
(checksummed before heuristic) wins, then the longer span.

Over 400 lines: every kind above feeds one candidate list that one overlap
resolution orders, so the kinds' patterns and validators are kept beside that
order; the largest table, the street-address shapes, already lives in
``casetrail.privacy.addresses``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import string
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
from casetrail.privacy.person_names import uncued_full_names


class PiiKind(str, enum.Enum):
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    CARD = "CARD"
    PHONE = "PHONE"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    POSTCODE = "POSTCODE"
    ADDRESS = "ADDRESS"
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
# Where a pattern's first item is a character class, its "not after a word
# character" lookbehind is written after that class, one character wider:
# ``X(?<![\w].)`` is ``(?<![\w])X`` for a one-character ``X`` (the ``.`` is X
# itself, never a line break here), but a pattern that starts with a class lets
# ``re`` skip every position that cannot start a match in C (2-3x faster scans).
# Under IGNORECASE a cased first class defeats that, so it is spelled out
# case-sensitively: ``[A-Z]`` under IGNORECASE is the 52 ASCII letters and
# İ ı ſ K (Python's ``re`` documentation), ``[XYZ]`` is ``[XYZxyz]``.
_IBAN = re.compile(r"(?-i:[A-Za-z\u0130\u0131\u017f\u212a])(?<![\w].)[A-Z]\d{2}(?:[ \-]?[A-Z0-9]){11,30}(?![\w])",
                   re.IGNORECASE)
_CARD = re.compile(r"[2-6](?<![\w\-].)\d{2,3}(?:[ \-]?\d){9,15}(?![\w])")
_LT_ASMENS = re.compile(r"[1-6](?<![\w+].)\d{10}(?![\w])")
_DE_IDNR = re.compile(r"[1-9](?<![\w+].)\d(?: ?\d{3}){3}(?![\w])")
_DE_AUSWEIS = re.compile(r"[CFGHJKLMNPRTVWXYZ](?<![\w].)[CFGHJKLMNPRTVWXYZ0-9]{8}\d(?![\w])")
_FR_NIR = re.compile(r"[1-478](?<![\w+].) ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w])", re.IGNORECASE)
_ES_DNI = re.compile(r"\d(?<![\w+].)\d{7}[ \-]?[A-Z](?![\w])", re.IGNORECASE)
_ES_NIE = re.compile(r"(?-i:[XYZxyz])(?<![\w].)[ \-]?\d{7}[ \-]?[A-Z](?![\w])", re.IGNORECASE)
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
    (re.compile(r"(\d(?<![\w./-].)\d?)[./-](\d{1,2})[./-]((?:19|20)\d{2})(?![\w/-])"), "dmy"),
    # 1909-08-11, 1909.08.11, 1909/08/11
    (re.compile(r"((?:1(?<![\w./-].)9|2(?<![\w./-].)0)\d{2})[./-](\d{1,2})[./-](\d{1,2})(?![\w/-]|\.\d)"), "ymd"),
    # 11 August 1909, 11. August 1909, 11 de agosto de 1909, 11 août 1909, 11th of August 1909
    (re.compile(rf"(\d(?<![\w].)\d?)(?:st|nd|rd|th|er|\.|º)?\s+(?:of\s+|de\s+)?({_MONTH_ALT})\.?,?\s+(?:de\s+|del\s+)?((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE), "d_m_y"),
    # August 11, 1909
    (re.compile(rf"(?<![\w])({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})(?![\w])", re.IGNORECASE), "m_d_y"),
    # 1909 m. rugpjūčio 11 d.
    (re.compile(rf"((?:1(?<![\w].)9|2(?<![\w].)0)\d{{2}})\s*m\.?\s+({_MONTH_ALT})\s+(\d{{1,2}})(?:\s*d\.?)?(?![\w])", re.IGNORECASE), "y_m_d"),
)
_BIRTH_CUE = re.compile(
    r"(?:date\s+of\s+birth|birth\s*date|birthday|d\.?\s?o\.?\s?b\.?|born(?:\s+on)?|"
    r"geburtsdatum|geburtstag|geboren(?:\s+am)?|geb\.|"
    r"date\s+de\s+naissance|n[ée]e?\s+le|anniversaire|"
    r"fecha\s+de\s+nacimiento|nacid[oa](?:\s+el)?|f\.\s?nac\.|cumpleaños|"
    r"gimimo\s+data|gim(?:ęs|usi|ė)|gimimo\s+diena)",
    re.IGNORECASE,
)
_UK_POSTCODE = re.compile(r"[A-Z](?<![\w].)(?:(?<=G)IR ?0AA|[A-Z]?\d[A-Z\d]? ?\d[A-Z]{2})(?![\w])")
_LT_POSTCODE = re.compile(r"(?<![\w])LT-?\d{5}(?![\w])")
_FIVE_DIGIT_POSTCODE = re.compile(r"(?<![\w\-])(?<!\d[.,])(?:[A-Z]-)?\d{5}(?![\w\-]|[.,]\d|\s*(?:€|\$|£|EUR|USD|GBP|eur|euro))")
_POSTCODE_CUE = re.compile(
    r"(?:post\s?code|postal\s+code|zip(?:\s+code)?|plz|postleitzahl|code\s+postal|c\.?p\.?|"
    r"c[óo]digo\s+postal|pa[šs]to\s+kodas)(?:\s+(?:is|est|ist|lautet|es|yra))?\W{0,3}$",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(r"[ \t]+([^\W\d_][^\W\d_'\-]+)")
# Self-introductions: strong cues take one capitalised word, weak cues two.
# Each cue is an alternation of phrases that start with an ASCII letter.
_STRONG_CUES = (
    r"my\s+name\s+is", r"my\s+name's", r"name:", r"mein\s+name\s+ist", r"ich\s+heiße", r"ich\s+heisse",
    r"je\s+m'appelle", r"je\s+m’appelle", r"mon\s+nom\s+est", r"me\s+llamo", r"mi\s+nombre\s+es",
    r"mano\s+vardas(?:\s+yra)?", r"vardas:", r"nom\s*:", r"nombre\s*:",
)
_WEAK_CUES = (r"\bI\s+am", r"\bI'm", r"\bich\s+bin", r"\bje\s+suis", r"\bsoy", r"\baš\s+esu", r"\bthis\s+is")
_CLOSING_CUES = (
    r"regards", r"best\s+wishes", r"sincerely", r"thanks", r"thank\s+you", r"cheers",
    r"mit\s+freundlichen\s+grüßen", r"freundliche\s+grüße", r"viele\s+grüße", r"lg", r"mfg", r"danke",
    r"cordialement", r"bien\s+à\s+vous", r"merci", r"salutations",
    r"saludos(?:\s+cordiales)?", r"atentamente", r"un\s+saludo", r"gracias",
    r"pagarbiai", r"su\s+pagarba", r"ačiū", r"dėkoju", r"linkėjimai",
)
_INTRO_STRONG = re.compile(r"(?:" + "|".join(_STRONG_CUES) + r")\s+", re.IGNORECASE)
_INTRO_WEAK = re.compile(r"(?:" + "|".join(_WEAK_CUES) + r")\s+", re.IGNORECASE)
_CLOSING = re.compile(r"(?:" + "|".join(_CLOSING_CUES) + r")[ \t]*[,.!]?[ \t]*\n[ \t]*", re.IGNORECASE)
# Characters that match an ASCII letter under re.IGNORECASE (Unicode): the 52
# letters plus these four (Python ``re`` documentation).
_ASCII_FOLD_EXTRAS = "\u0130\u0131\u017f\u212a"


def _initial_gate(pattern: re.Pattern, cues: tuple[str, ...]) -> re.Pattern:
    """``pattern`` behind a one-character lookahead on the cues' first letters.

    Same matches (every match starts with one of those letters, and the class
    holds every character that matches one under IGNORECASE), but ``re`` can
    reject most positions with one class test instead of trying each
    case-insensitive alternative there: 3-5x faster scans.
    """
    initials = set()
    for cue in cues:
        first = cue.removeprefix(r"\b")[0]
        if first not in string.ascii_letters:
            raise ValueError(f"cue {cue!r} must start with an ASCII letter")
        initials.add(first)
    members = sorted(
        ch for ch in string.ascii_letters + _ASCII_FOLD_EXTRAS
        if any(re.fullmatch(initial, ch, re.IGNORECASE) for initial in initials)
    )
    return re.compile("(?=[" + "".join(members) + "])(?:" + pattern.pattern + ")", pattern.flags)


_INTRO_STRONG_SCAN = _initial_gate(_INTRO_STRONG, _STRONG_CUES)
_INTRO_WEAK_SCAN = _initial_gate(_INTRO_WEAK, _WEAK_CUES)
_CLOSING_SCAN = _initial_gate(_CLOSING, _CLOSING_CUES)
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


_DIGIT_RUN = re.compile(r"\d+")


@lru_cache(maxsize=256)
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


# (pattern, checksum, fewest digits a match of the pattern contains, longest
# run of consecutive digits a match contains at least: ``\d{10}`` after a digit
# is a run of 11, ``\d{8}`` one of 8; 1 where spaces may split every group)
_NATIONAL_ID_CHECKS = (
    (_LT_ASMENS, _lt_asmens.is_valid, 11, 11),
    (_DE_IDNR, _de_idnr.is_valid, 11, 3),
    (_DE_AUSWEIS, _ausweis_valid, 1, 1),
    (_FR_NIR, _fr_nir.is_valid, 14, 1),
    (_ES_DNI, _es_dni.is_valid, 8, 8),
    (_ES_NIE, _es_nie.is_valid, 7, 7),
)


def _national_ids(text: str, out: list[PiiFinding], digits: int = 1 << 30, longest_run: int = 1 << 30) -> None:
    for pattern, is_valid, min_digits, min_run in _NATIONAL_ID_CHECKS:
        if digits < min_digits or longest_run < min_run:
            continue
        for m in pattern.finditer(text):
            if is_valid(m.group()):
                out.append(PiiFinding(PiiKind.NATIONAL_ID, m.start(), m.end()))


def _phone_candidates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, candidate) for every phone-shaped run with 7-15 digits that is not a date."""
    candidates = []
    for m in _PHONE.finditer(text):
        candidate = m.group()
        start, end = m.start(), m.end()
        stripped = candidate.lstrip(" \t")
        start += len(candidate) - len(stripped)
        candidate = stripped
        digits = sum(ch.isdigit() for ch in candidate)
        if digits < 7 or digits > 15 or _DATEISH.match(candidate):
            continue
        candidates.append((start, end, candidate))
    return candidates


def _is_phone(candidate: str, regions: tuple[str, ...]) -> bool:
    """Whether libphonenumber takes ``candidate`` for a phone number (the costly part)."""
    if candidate.startswith(("+", "00", "(+", "(00")):
        number = candidate.replace("(0)", "")
        if number.startswith("00"):
            number = "+" + number[2:]
        try:
            parsed = phonenumbers.parse(number, None)
        except NumberParseException:
            return False
        return phonenumbers.is_possible_number(parsed)
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
            return True
    return False


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


_YEAR = re.compile(r"(?:1(?<!\d.)9|2(?<!\d.)0)\d{2}(?!\d)")


# What every "August 11, 1909" match holds after its month name: a day, then the year.
_DAY_BEFORE_YEAR = re.compile(r"\d(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}(?![\w])", re.IGNORECASE)


def _dates_of_birth(text: str, out: list[PiiFinding], today: dt.date) -> None:
    if not _YEAR.search(text):  # every recognised date format carries a four-digit year
        return
    cutoff_year = today.year - 16
    for pattern, order in _DATE_PATTERNS:
        if order == "m_d_y" and not _DAY_BEFORE_YEAR.search(text):
            continue  # its month alternation is tried at every position: look for the day and year first
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


def _postcodes(text: str, out: list[PiiFinding], digits: int = 1 << 30, longest_run: int = 1 << 30) -> None:
    for m in _UK_POSTCODE.finditer(text):
        out.append(PiiFinding(PiiKind.POSTCODE, m.start(), m.end()))
    if digits < 5 or longest_run < 5:  # LT-NNNNN and the five-digit codes: five digits in a row
        return
    if "LT" in text:
        for m in _LT_POSTCODE.finditer(text):
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


# Case-insensitive comparison exactly as ``re.IGNORECASE`` does it for str
# patterns: one character against one, ``c`` matching ``t`` when their simple
# lowercase forms are equal or belong to one of the few classes ``re`` adds
# (s/ſ, i/ı, µ/μ, σ/ς, ...; ``re._casefix``). A character's key is one member
# of its class (an uncased character: itself), so two characters match iff
# their keys are equal; for every character except those below the key is
# ``ch.lower()``, so
# ``text.lower()`` gives the keys of a whole text in one C call. The table is
# generated from ``_sre`` and ``re._casefix`` (tests/unit/ingest/test_pii_names.py
# regenerates and compares it); "Σ" is lowered by context (final sigma) by
# ``str.lower``, so texts holding it take the per-character path too.
_CASE_KEY_EXCEPTIONS = {
    "\u00b5": "\u03bc", "\u0130": "i", "\u0131": "i", "\u017f": "s", "\u0345": "\u03b9", "\u03c2": "\u03c3",
    "\u03d0": "\u03b2", "\u03d1": "\u03b8", "\u03d5": "\u03c6", "\u03d6": "\u03c0", "\u03f0": "\u03ba",
    "\u03f1": "\u03c1", "\u03f5": "\u03b5", "\u1c80": "\u0432", "\u1c81": "\u0434", "\u1c82": "\u043e",
    "\u1c83": "\u0441", "\u1c84": "\u0442", "\u1c85": "\u0442", "\u1c86": "\u044a", "\u1c87": "\u0463",
    "\u1c88": "\ua64b", "\u1e9b": "\u1e61", "\u1fbe": "\u03b9", "\u1fd3": "\u0390", "\u1fe3": "\u03b0",
    "\ufb06": "\ufb05",
}
_CASE_KEY_SLOW = re.compile("[" + "".join(_CASE_KEY_EXCEPTIONS) + "\u03a3]")


def _case_keys(text: str) -> str:
    """``text`` with every character replaced by its ``re.IGNORECASE`` key (same length)."""
    if text.isascii() or not _CASE_KEY_SLOW.search(text):
        return text.lower()
    return "".join(_CASE_KEY_EXCEPTIONS.get(ch) or ch.lower() for ch in text)


_LT_ENDINGS_BY_LENGTH = tuple(sorted(_LT_ENDINGS, key=len, reverse=True))
_LT_ENDINGS_ALT = r"(?:" + "|".join(_LT_ENDINGS_BY_LENGTH) + r")"
_LT_ENDING_SET = frozenset(_LT_ENDINGS)
_LT_ENDINGS_BY_SIZE = tuple(
    (size, frozenset(e for e in _LT_ENDINGS if len(e) == size)) for size in sorted({len(e) for e in _LT_ENDINGS}, reverse=True)
)
_SPACES = re.compile(r"\s+")
_WORD_RUN = re.compile(r"\w*")


def _token_pattern(token: str, lithuanian: bool) -> tuple[str, str, bool]:
    """(regex the detector used to compile for ``token``, its case keys, whether a Lithuanian ending follows).

    A Lithuanian name token (4+ letters, a case ending after a 3+ letter stem)
    matches its stem followed by any case ending; other tokens match as written.
    """
    if lithuanian and len(token) >= 4:
        lowered = token.lower()
        # The longest ending that leaves a stem of 3+ letters (at most one ending of each length fits).
        for length, endings in _LT_ENDINGS_BY_SIZE:
            if len(token) - length >= 3 and lowered[-length:] in endings:
                stem = token[:-length]
                return re.escape(stem) + _LT_ENDINGS_ALT, _case_keys(stem), True
    return re.escape(token), _case_keys(token), False


@dataclass(frozen=True, slots=True)
class _NamePlan:
    # Alternatives in the order the former alternation regex tried them (full
    # names, then single tokens, each longest pattern first); an alternative is
    # a tuple of (case keys, Lithuanian ending follows) per token.
    alternatives: tuple[tuple[tuple[str, bool], ...], ...]
    probes: tuple[str, ...]  # case keys every match starts with (first token or stem of an alternative)


@lru_cache(maxsize=1024)
def _known_name_plan(names: tuple[str, ...], lithuanian: bool) -> Optional[_NamePlan]:
    r"""What to look for: no regex compiled per customer, only strings (a few microseconds).

    Matches exactly what ``(?<![\w])(?:<full names>|<tokens>)(?![\w])`` under
    ``re.IGNORECASE`` matched (the alternation this replaces): the same pattern
    strings are built and ordered the same way, and each one is matched by
    string comparison of case keys.
    """
    full: set[str] = set()
    single: set[str] = set()
    specs: dict[str, tuple[tuple[str, bool], ...]] = {}
    for name in names:
        tokens = [t for t in _CAP_WORD.findall(name) if len(t) >= 2 and t.casefold() not in _NOT_NAMES]
        forms = [_token_pattern(t, lithuanian) for t in tokens]
        for pattern, keys, inflected in forms:
            specs[pattern] = ((keys, inflected),)
        if len(forms) > 1:
            joined = r"\s+".join(pattern for pattern, _, _ in forms)
            specs[joined] = tuple((keys, inflected) for _, keys, inflected in forms)
            full.add(joined)
        single.update(pattern for pattern, _, _ in forms)
    if not single:
        return None
    # Full names first, so "Jonas Jonaitis" is one finding, not two.
    ordered = sorted(full, key=len, reverse=True) + sorted(single, key=len, reverse=True)
    alternatives = tuple(specs[pattern] for pattern in ordered)
    return _NamePlan(alternatives, tuple(dict.fromkeys(alternative[0][0] for alternative in alternatives)))


def _is_word(ch: str) -> bool:  # ``\w`` of ``re`` for str patterns
    return ch.isalnum() or ch == "_"


def _match_alternative(text: str, keys: str, start: int, alternative: tuple[tuple[str, bool], ...]) -> Optional[int]:
    """End of ``alternative`` matched at ``start`` (tokens separated by whitespace, ending at a word boundary)."""
    position = start
    for index, (token, inflected) in enumerate(alternative):
        if index:
            gap = _SPACES.match(text, position)
            if gap is None:
                return None
            position = gap.end()
        if not keys.startswith(token, position):
            return None
        end = position + len(token)
        if inflected:
            # Case endings are letters and the token must end before a non-word
            # character, so the only ending that can match runs to the end of the word.
            word_end = _WORD_RUN.match(text, end).end()
            if keys[end:word_end] not in _LT_ENDING_SET:
                return None
            end = word_end
        elif end < len(text) and _is_word(text[end]):
            return None
        position = end
    return position


def _known_names(text: str, keys: str, plan: _NamePlan, out: list[PiiFinding]) -> None:
    starts: set[int] = set()
    for probe in plan.probes:
        at = keys.find(probe)
        while at >= 0:
            if at == 0 or not _is_word(text[at - 1]):
                starts.add(at)
            at = keys.find(probe, at + 1)
    covered = 0
    for start in sorted(starts):
        if start < covered:  # inside the previous match (scanning resumes after a match)
            continue
        for alternative in plan.alternatives:
            end = _match_alternative(text, keys, start, alternative)
            if end is not None:
                out.append(PiiFinding(PiiKind.NAME, start, end))
                covered = end
                break


_BLANKS = re.compile(r"[ \t]+")


def _capitalised_run(text: str, pos: int, min_words: int, max_words: int = 3) -> Optional[tuple[int, int]]:
    words: list[tuple[int, int]] = []
    i = pos
    while len(words) < max_words:
        m = _CAP_WORD.match(text, i)
        if not m or not m.group()[0].isupper() or m.group().casefold() in _NOT_NAMES:
            break
        words.append((m.start(), m.end()))
        gap = _BLANKS.match(text[m.end():m.end() + 3])
        if not gap:
            break
        i = m.end() + gap.end()
    if len(words) < min_words:
        return None
    return words[0][0], words[-1][1]


_WHITESPACE = re.compile(r"\s")


def _case_key_pattern(pattern: re.Pattern) -> re.Pattern:
    """A case-sensitive pattern over case keys that matches wherever ``pattern`` can start a match.

    Built from a cue pattern (literal letters, ``\\s``, ``\\b``, groups, quantifiers
    and uncased classes): each literal becomes its ``re.IGNORECASE`` case key and
    the lookarounds (``\\b``, the initial gate) are dropped, so it is looser than
    ``pattern``. Searching the case keys of a text with it is one fast
    case-sensitive scan; only where it matches does ``pattern`` itself run.
    """
    source = pattern.pattern
    if source.startswith("(?=["):  # the initial gate
        source = source[source.index("])") + 2:]
    out: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            escape = source[i:i + 2]
            if escape != "\\b":
                out.append(escape)
            i += 2
            continue
        if ch == "[":  # an uncased class ([ \t], [,.!]) stays as it is
            close = source.index("]", i)
            if any(c.lower() != c.upper() for c in re.sub(r"\\.", "", source[i + 1:close])):  # escapes (\t) aside
                raise ValueError(f"cue class {source[i:close + 1]!r} holds cased letters: no case-key prefilter for it")
            out.append(source[i:close + 1])
            i = close + 1
            continue
        out.append(_case_keys(ch) if ch.isalpha() else ch)
        i += 1
    return re.compile("".join(out))


# (cue pattern, its case-key prefilter, capitalised words a name needs after it)
_CUE_SCANS = tuple(
    (scan, _case_key_pattern(scan), min_words)
    for scan, min_words in ((_INTRO_STRONG_SCAN, 1), (_INTRO_WEAK_SCAN, 2), (_CLOSING_SCAN, 1))
)


def _cue_matches(text: str, keys: str, cue: re.Pattern, prefilter: re.Pattern):
    """``cue.finditer(text)``, trying ``cue`` only where its case-key prefilter matches ``keys``.

    Wherever ``cue`` matches, the prefilter matches too (a case key for each
    letter, fewer conditions), so walking the prefilter's hits left to right -
    resuming after a confirmed match, one position on after a refused one -
    yields the same non-overlapping matches as ``finditer``, at a fraction of
    the cost: most texts hold no cue word at all.
    """
    position = 0
    while True:
        hit = prefilter.search(keys, position)
        if hit is None:
            return
        match = cue.match(text, hit.start())
        if match is None:
            position = hit.start() + 1
        else:
            yield match
            position = match.end()  # cue matches are never empty


def _names(text: str, known_names: tuple[str, ...], locale: Optional[str], out: list[PiiFinding],
           uncued: bool = True) -> None:
    has_whitespace = _WHITESPACE.search(text) is not None
    plan = None
    if known_names:
        lithuanian = locale is None or locale.lower().startswith("lt")
        plan = _known_name_plan(known_names, lithuanian)
    if plan is None and not has_whitespace:
        return
    keys = _case_keys(text)
    if plan is not None:
        _known_names(text, keys, plan, out)
    if not has_whitespace:  # every cue ends in whitespace (\s+, or a line break after a closing formula)
        return
    cues = _CUE_SCANS if "\n" in text else _CUE_SCANS[:2]  # a closing formula ends its line
    for cue, prefilter, min_words in cues:
        for m in _cue_matches(text, keys, cue, prefilter):
            span = _capitalised_run(text, m.end(), min_words)
            if span:
                out.append(PiiFinding(PiiKind.NAME, *span))
    # A full name written in passing, with no cue at all (casetrail.privacy.person_names).
    if uncued:
        out.extend(PiiFinding(PiiKind.NAME, start, end) for start, end in uncued_full_names(text))


def _resolve(
    findings: list[PiiFinding],
    phone_candidates: list[tuple[int, int, str]] = (),
    regions: tuple[str, ...] = (),
) -> list[PiiFinding]:
    """Keep non-overlapping findings: stronger kind first, then longer span.

    Phone candidates are checked with libphonenumber only when their turn
    comes and nothing stronger already holds their span (a national id or an
    IBAN is often phone-shaped): a candidate that would lose anyway is never
    parsed, and the result is what checking every candidate first would give.
    """
    if len(findings) < 2 and not phone_candidates:
        return findings
    chosen: list[PiiFinding] = []

    def free(start: int, end: int) -> bool:
        return all(end <= c.start or start >= c.end for c in chosen)

    phones_pending = bool(phone_candidates)
    for f in sorted(findings, key=lambda f: (_RANK[f.kind], -(f.end - f.start), f.start)):
        if phones_pending and _RANK[f.kind] > _PHONE_RANK:
            _choose_phones(phone_candidates, regions, free, chosen)
            phones_pending = False
        if free(f.start, f.end):
            chosen.append(f)
    if phones_pending:
        _choose_phones(phone_candidates, regions, free, chosen)
    chosen.sort(key=lambda f: f.start)
    return chosen


_PHONE_RANK = _RANK[PiiKind.PHONE]


def _choose_phones(candidates, regions, free, chosen: list[PiiFinding]) -> None:
    # Phones in the order _resolve takes findings of one kind: longer span first, then position.
    for start, end, candidate in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if free(start, end) and _is_phone(candidate, regions):
            chosen.append(PiiFinding(PiiKind.PHONE, start, end))


def detect(
    text: str,
    locale: Optional[str] = None,
    known_names: Iterable[str] = (),
    *,
    today: Optional[dt.date] = None,
    uncued_names: bool = True,
) -> list[PiiFinding]:
    """Every personal-data span in ``text``, sorted by position, non-overlapping.

    ``locale`` ("de", "fr-BE", ...) narrows national phone formats to the
    regions it implies; ``None`` tries every supported region.
    ``known_names`` are the customer's names as the source gives them.
    ``uncued_names``: also full names written with no cue (the gazetteer of
    ``casetrail.privacy.person_names``); off only to compare with a detector
    that predates it.
    """
    if not text:
        return []
    out: list[PiiFinding] = []
    phone_candidates: list[tuple[int, int, str]] = []
    if "@" in text:
        _emails(text, out)
    # Every number-shaped kind needs decimal digits (``\d``), most of them
    # several: a detector runs only when the text has as many digits as the
    # shortest match of its pattern holds (and, for patterns that need digits
    # in a row, as long a run of consecutive digits).
    runs = _DIGIT_RUN.findall(text)
    if runs:
        lengths = list(map(len, runs))
        digits = sum(lengths)
        longest = max(lengths)
        if digits >= 2:
            _ibans(text, out)
        if digits >= 12:
            _cards(text, out)
        _national_ids(text, out, digits, longest)
        if digits >= 7:
            phone_candidates = _phone_candidates(text)
        if digits >= 4:
            _dates_of_birth(text, out, today or dt.date.today())
        _postcodes(text, out, digits, longest)
        out.extend(PiiFinding(PiiKind.ADDRESS, start, end) for start, end in street_addresses(text))
    names = tuple(n for n in known_names if n)
    _names(text, names, locale, out, uncued_names)
    return _resolve(out, phone_candidates, _region_hint(locale) if phone_candidates else ())


def kinds() -> tuple[str, ...]:
    return tuple(k.value for k in PiiKind)
