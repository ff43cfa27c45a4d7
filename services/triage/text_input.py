"""What triage reads from a conversation, and how it treats bad input.

The text is the newest customer message, prefixed by the subject on the first
message. Documented behaviour (also in services/triage/README.md):

- empty / whitespace-only text -> flag ``empty_text``; intent ``out_of_scope``
  with confidence 0 (a human looks at it), nothing is embedded.
- no letters or digits at all (emoji only, punctuation) -> flag ``no_words``;
  same as empty, but sentiment is still read from emoji.
- longer than ``MAX_TEXT_CHARS`` -> cut at a word boundary, ``truncated`` set
  and flag ``truncated``; the event never carries the text again anyway.
- control characters (except newline/tab) are removed; Unicode is NFC-normalised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from casetrail.events.conversation import AuthorRole, Conversation

MAX_TEXT_CHARS = 4000  # E5 reads 512 tokens (~2,000 characters); the rest only costs time
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


def _has_letters_or_digits(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def conversation_text(conversation: Conversation) -> str:
    """Subject (when the conversation has one customer message) + the newest customer message."""
    latest = conversation.latest_customer_text()
    customer_messages = sum(1 for m in conversation.messages if m.author_role == AuthorRole.customer)
    if conversation.subject and customer_messages <= 1 and conversation.subject.strip() not in latest:
        return f"{conversation.subject.strip()}\n{latest}"
    return latest
