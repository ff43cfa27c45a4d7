"""Full names written without a cue ("please leave the parcel with Teresa Smith").

A cue (a self-introduction, a closing formula) or the source's own customer name finds most names
(``casetrail.privacy.pii``); a name written in passing has neither. Here a *given name* from a
gazetteer, capitalised, followed by a capitalised word that can be a surname, is a name:

* given names: the U.S. Census 1990 first-name lists (5,163 names; public domain) shipped in the
  ``names`` package (MIT), matched without accents (``Agnès`` = ``agnes``);
* the surname: any capitalised word of two or more letters that is not in ``_NOT_SURNAMES``
  (colours, months, days and the words that follow a given name as a product or place:
  "Rose Gold", "May Sale", "Jordan Retro"), so European surnames the Census never saw count too.

Single given names ("give it to Teresa") are not redacted: most capitalised given names in
support text without a surname are products, places or months. Measured with ``casetrail ingest
eval-pii`` (docs/security.md): recall on EVI full names and false findings on the dev set's tickets.
The lists load once, on first use.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

# An upper-case letter of the five locales' alphabets (Latin-1 and Latin Extended-A): ``re`` has no \p{Lu}.
_UPPER = "A-ZÀ-ÖØ-Þ" + "".join(chr(c) for c in range(0x100, 0x17F) if chr(c).isupper())
# Two capitalised words (an apostrophe or hyphen inside: O'Neill, Smith-Jones); linear: the parts are
# separated by characters the letters cannot be.
_WORD = rf"[{_UPPER}][^\W\d_]*(?:['’\-][^\W\d_]+)*"
_CAPITALISED = re.compile(rf"(?<![^\W\d_])({_WORD})[ \t]+({_WORD})(?![^\W\d_])")

# Words that follow a given name without being a surname, in the five languages, and given names
# that are mostly something else in a shop's mail (months, colours, "Del"/"Dėl" = of / about,
# "Santa Cruz", "Van"/"Von" particles). Lower case, accents removed.
_NOT_SURNAMES = frozenset("""
    gold silver white black grey gray green red blue pink rose purple orange yellow brown beige navy cream ivory
    jade ruby olive coral amber pearl violet lilac
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    sale pay card plus pro max mini air edition size store shop order delivery express prime premium
    i a the and or to of in on at for with from by my your our this that it is be
    und oder der die das den dem mit von fur bei zu im am
    et ou le la les de des du en au avec pour par sur
    y o el los las del con por para
    ir ar su be is per
    street road lane avenue strasse platz rue avenida calle gatve
""".split())
_NOT_GIVEN = frozenset("""
    may june april august will mark bill grant rose ruby jade amber pearl olive iris ivy hope faith joy
    dawn summer autumn winter august sale max page lane chance rich sunny honey crystal
    del dan don van von san santa ben per
""".split())


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """The gazetteer's given names (folded), without the ones that are mostly other words."""
    folder = files("names")
    found = set()
    for name in ("dist.female.first", "dist.male.first"):
        for line in folder.joinpath(name).read_text(encoding="ascii").splitlines():
            if line.strip():
                found.add(_fold(line.split()[0]))
    return frozenset(found - _NOT_GIVEN)


def uncued_full_names(text: str) -> list[tuple[int, int]]:
    """Spans of ``Given Surname`` in ``text`` (non-overlapping, left to right)."""
    known = given_names()
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        match = _CAPITALISED.search(text, position)
        if match is None:
            return spans
        given, surname = match.group(1), match.group(2)
        if (len(given) >= 3 and len(surname) >= 2 and not surname.isupper()
                and _fold(given) in known and _fold(surname) not in _NOT_SURNAMES):
            spans.append((match.start(1), match.end(2)))
            position = match.end(2)
        else:
            position = match.start(2)  # the second word may start a name itself
