"""Split a reply into sentences and find the citation markers each one carries.

A drafted reply cites inline, ``… within 30 days. [returns.window@2026-11]``
(a marker standing after the full stop belongs to the sentence before it), and
the draft's ``citations`` list repeats each cited sentence. Both are read, so a
sentence counts as cited whichever way the composer attached its clause.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

# [clause_id@kb_version], optionally several in one bracket: [a@v1; b@v1]
CITATION_MARKER = re.compile(r"\[\s*([\w.\-:/]+@[\w.\-+:]+(?:\s*[;,]\s*[\w.\-:/]+@[\w.\-+:]+)*)\s*\]")
PLACEHOLDER = re.compile(r"\[([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*?)(?:_(\d+))?\]")

# Abbreviations whose full stop does not end a sentence (all five locales).
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "approx", "no", "nr", "dr", "mr", "mrs", "ms", "st", "vs", "incl", "excl", "max", "min",
    "z.b", "bzw", "ca", "u.a", "usw", "ggf", "inkl", "zzgl", "mwst", "str", "mo", "di", "mi", "do", "fr", "sa", "so",
    "p.ex", "env", "cf", "mme", "m", "art", "p", "ej", "sr", "sra", "núm", "aprox", "pág", "vnt", "pvz", "val",
    "d", "m", "g", "t.y", "proc", "mėn", "tel", "kt", "pan",
}
_LEADING_MARKER = re.compile(r"[ \t]*" + CITATION_MARKER.pattern + r"[ \t]*")
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'»”)]*\s+|\n+")


# A composer's numbered marker, "… 30 days. [1]", whose number indexes the draft's citations list.
NUMBERED_MARKER = re.compile(r"[ \t]*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")


def without_markers(text: str) -> str:
    """The reply as the customer reads it: citation markers (numbered or ``[clause@version]``) removed.

    Markers are for the verifier, the agent and the audit trail, which keep the cited text; a
    customer shown a bare "[1]" has no source list to look it up in."""
    stripped = NUMBERED_MARKER.sub("", re.sub(r"[ \t]*" + CITATION_MARKER.pattern, "", text))
    return re.sub(r"[ \t]+\n", "\n", stripped)


def normalise(text: str) -> str:
    """Comparable form of a sentence: markers removed, case and spacing folded."""
    # Checks compare every reply sentence with every citation, so one draft normalises the
    # same few sentences about a hundred times: sentence-sized texts are remembered.
    return _remembered_normalise(text) if len(text) <= 1000 else _normalise(text)


@lru_cache(maxsize=16384)
def _remembered_normalise(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    without = NUMBERED_MARKER.sub(" ", CITATION_MARKER.sub(" ", text))
    folded = unicodedata.normalize("NFKC", without).casefold()
    return re.sub(r"\s+", " ", folded).strip(" .!?…")


def marker_refs(text: str) -> list[str]:
    refs: list[str] = []
    for match in CITATION_MARKER.finditer(text):
        refs.extend(part.strip() for part in re.split(r"[;,]", match.group(1)) if part.strip())
    return refs


@dataclass
class Sentence:
    text: str  # as written, markers included
    refs: list[str] = field(default_factory=list)  # clause_id@kb_version from inline markers

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", CITATION_MARKER.sub(" ", self.text)).strip()

    @property
    def key(self) -> str:
        return normalise(self.text)


def _ends_with_abbreviation(chunk: str) -> bool:
    match = re.search(r"([\w.]+)\.$", chunk.rstrip())
    if not match:
        return False
    word = match.group(1).casefold()
    if len(word.rsplit(".", 1)[-1]) == 1 and word[-1].isalpha():
        return True  # single letters: "z. B.", "15 d.", "2026 m.", initials
    # a digit before the full stop ends a sentence ("30 days."), except Lithuanian "15 d." style handled by "d"
    return word in _ABBREVIATIONS


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with the citation markers that belong to each."""
    pieces: list[str] = []
    start = 0
    consumed = 0
    for match in _BOUNDARY.finditer(text):
        if match.start() < consumed:
            continue
        chunk = text[start:match.start()]
        following = text[match.end():match.end() + 1]
        if "\n" not in match.group(0) and (_ends_with_abbreviation(chunk) or (following and following.islower())):
            continue  # "z. B. 30 Tage" or "15 d. kovo": not a boundary
        # markers standing after the full stop ("… 30 days. [refunds.window@v1] Next …") stay with this sentence
        end = match.end()
        marker = _LEADING_MARKER.match(text, end)
        while marker:
            chunk = text[start:marker.end()]
            end = marker.end()
            marker = _LEADING_MARKER.match(text, end)
        pieces.append(chunk)
        start = end
        consumed = end
    pieces.append(text[start:])

    sentences: list[Sentence] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        refs = marker_refs(piece)
        if not CITATION_MARKER.sub("", piece).strip(" .;,") and sentences:
            # a marker on its own after the full stop belongs to the sentence before it
            sentences[-1].text = f"{sentences[-1].text} {piece}"
            sentences[-1].refs.extend(refs)
            continue
        sentences.append(Sentence(piece, refs))
    return sentences
