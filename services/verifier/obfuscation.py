"""Undo the disguises injected instructions wear, before the injection patterns look at a text.

* Unicode compatibility forms (NFKC): fullwidth ``ｉｇｎｏｒｅ``, ligatures, superscripts;
* zero-width and invisible characters (ZWSP, ZWJ, word joiner, soft hyphen, BOM, bidi marks);
* confusables: Cyrillic and Greek letters that look like Latin ones (``іgnоrе`` with
  Cyrillic і/о/е), the skeleton mapping of Unicode TR 39 for the letters that matter here;
* letters spelt out with separators (``i g n o r e``, ``i.g.n.o.r.e``, ``i-g-n-o-r-e``);
* leetspeak (``1gn0r3``, ``@ll``, ``$ystem``), as a second reading.

``readings(text)`` returns the normalised text and, when it differs, its leetspeak
decoding: a pattern that matches either reading found an injection.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# TR 39 confusables (skeleton) for the Cyrillic and Greek letters that pass for Latin ones.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P",
    "Ѕ": "S", "Т": "T", "У": "Y", "Х": "X",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T",
    "Χ": "X", "Υ": "Y", "Ζ": "Z",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"})
# Three or more single letters joined by one separator each: "i g n o r e", "i.g.n.o.r.e".
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_0-9@$][ .\-_*·]){2,}[^\W\d_0-9@$](?![^\W\d_])")
_SEPARATORS = re.compile(r"[ .\-_*·]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = text.translate(_CONFUSABLES)
    return _SPACED.sub(lambda m: _SEPARATORS.sub("", m.group()), text)


_NOT_LETTERS = re.compile(r"[\W\d_]+")


def squashed(text: str) -> str:
    """Letters only, case-folded: what is left of "i g n o r e  a l l" once every separator is gone."""
    return _NOT_LETTERS.sub("", text).casefold()


def readings(text: str) -> tuple[str, ...]:
    plain = normalise(text)
    leet = plain.translate(_LEET)
    return (plain,) if leet == plain else (plain, leet)
