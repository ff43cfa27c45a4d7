"""What triage reads from a conversation, and how it treats bad input.

The text is ``Conversation.ticket_text()``: the newest customer message, prefixed
by the subject on the first message. Documented behaviour (also in services/triage/README.md):

- empty / whitespace-only text -> flag ``empty_text``; intent ``out_of_scope``
  with confidence 0 (a human looks at it), nothing is embedded.
- no letters or digits at all (emoji only, punctuation) -> flag ``no_words``;
  same as empty, but sentiment is still read from emoji.
- longer than ``MAX_TEXT_CHARS`` -> cut at a word boundary, ``truncated`` set
  and flag ``truncated``; the event never carries the text again anyway.
- control characters (except newline/tab) are removed; Unicode is NFC-normalised.
- the embedding reads at most ``MAX_EMBED_TOKENS`` tokens: the subject and the
  start of the newest customer message (``head_within_tokens``); the rest of
  the kept text still feeds the n-gram features and every lexical signal. Flag
  ``embedding_truncated``. The embedding's cost grows with the token count
  (more than linearly past ~200 tokens: attention), so this bounds the
  worst-case triage time of a long e-mail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable


MAX_TEXT_CHARS = 4000  # E5 reads 512 tokens (~2,000 characters); the rest only costs time
#: tokens (E5's "query: " prefix and special tokens included) the embedding reads; ~1,000 characters
MAX_EMBED_TOKENS = 256
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class PreparedText:
    text: str
    truncated: bool = False
    original_chars: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def classifiable(self) -> bool:
        return "empty_text" not in self.flags and "no_words" not in self.flags


def prepare_text(raw: str, max_chars: int = MAX_TEXT_CHARS) -> PreparedText:
    original = raw or ""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", original)).strip()
    prepared = PreparedText(text=text, original_chars=len(original))
    if not text:
        prepared.flags.append("empty_text")
        return prepared
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars)
        prepared.text = text[: cut if cut > max_chars // 2 else max_chars]
        prepared.truncated = True
        prepared.flags.append("truncated")
    if not _has_letters_or_digits(prepared.text):
        prepared.flags.append("no_words")
    return prepared


def head_within_tokens(text: str, count_tokens: Callable[[str], int], max_tokens: int = MAX_EMBED_TOKENS) -> tuple[str, bool]:
    """The longest prefix of ``text`` ending at a word boundary with at most ``max_tokens`` tokens.

    Returns ``(text, False)`` when the whole text fits. Binary search over word
    boundaries (token counts grow with the prefix), so about log2(words) counts.
    """
    if max_tokens <= 0 or count_tokens(text) <= max_tokens:
        return text, False
    ends = [m.start() for m in re.finditer(r"\s+", text)]
    lo, hi, best = 0, len(ends) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if count_tokens(text[: ends[mid]]) <= max_tokens:
            best, lo = ends[mid], mid + 1
        else:
            hi = mid - 1
    if best is None:  # not even the first word fits: cut by characters
        cut = len(text)
        while cut > 1 and count_tokens(text[:cut]) > max_tokens:
            cut //= 2
        best = cut
    return text[:best].rstrip(), True


def _has_letters_or_digits(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)
