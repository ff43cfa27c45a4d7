"""Keep only what the customer just wrote: quoted history and signatures removed.

mail-parser-reply knows the reply headers ("On ... wrote:", "Am ... schrieb",
"Le ... a écrit", "El ... escribió", Outlook "From:/Sent:" blocks), sign-offs
and "Sent from my phone" lines for en/de/fr/es; Lithuanian is registered here
in the library's own language table. Lines quoted with ``>`` that survive
(inline quoting without a header) are dropped as well.
"""

from __future__ import annotations

import re
import threading
import time

import regex
from mailparser_reply import constants as _reply_constants
from mailparser_reply.parser import EmailMessage

LANGUAGES = ("en", "de", "fr", "es", "lt")

_reply_constants.MAIL_LANGUAGES.setdefault(
    "lt",
    {
        "wrote_header": r"^(" + _reply_constants.QUOTED_MATCH_INCLUDE + r"\S.{0,200}\srašė:)$",
        "from_header": r"((?:(?:^|\n|\n" + _reply_constants.QUOTED_MATCH_INCLUDE
        + r")[* ]*(?:Nuo|Išsiųsta|Kam|Tema|Data|Kopija):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
        "disclaimers": [r"(?:Konfidencialumo|Konfidenciali) (?:informacija|pastaba):", "Atsakomybės apribojimas:"],
        "signatures": ["Pagarbiai", "Su pagarba", "Linkėjimai", "Geros dienos", "Ačiū,", "Dėkoju,"],
        "sent_from": "Išsiųsta iš mano|Siųsta iš mano",
    },
)

# mail-parser-reply builds its three patterns (reply headers, disclaimers,
# signatures) from the language table on every ``EmailMessage`` (string joins,
# then ``re.compile``, ~0.03 ms per message). The languages and options are the
# same for every call here, so build them once and hand them to each message:
# the same pattern objects it would have built.
_TEMPLATE = EmailMessage(text="", languages=list(LANGUAGES), keep_hyphen_lists=True)

# The library's header pattern backtracks exponentially on some texts (runs of
# "Name: value" lines that do not form a reply header: 27 s of CPU for a 13 KB
# body found by the fuzz suite). ``re`` cannot be interrupted, so the same
# patterns run on the ``regex`` engine with a time limit; past it the body keeps
# only the cheap, linear stripping below (signature delimiter, ">" lines).
MATCH_SECONDS = 0.1


_deadline = threading.local()


def _remaining() -> float:
    left = getattr(_deadline, "at", float("inf")) - time.monotonic()
    if left <= 0:
        raise TimeoutError("reply stripping ran out of time")
    return left


class _TimedPattern:
    """A compiled ``regex`` pattern whose calls share one deadline per ``strip_reply`` call."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern.pattern
        self.flags = pattern.flags
        self._compiled = regex.compile(pattern.pattern, pattern.flags & ~re.UNICODE)

    def findall(self, text, *args):
        return self._compiled.findall(text, *args, timeout=_remaining())

    def search(self, text, *args):
        return self._compiled.search(text, *args, timeout=_remaining())


_PATTERNS = {
    "_header_regex": _TimedPattern(_TEMPLATE.HEADER_REGEX),
    "_disclaimers_regex": _TimedPattern(_TEMPLATE.DISCLAIMERS_REGEX),
    "_signature_regex": _TimedPattern(_TEMPLATE.SIGNATURE_REGEX),
}

_QUOTED_LINE = re.compile(r"^[ \t]*>")
_SIG_SEPARATOR = re.compile(r"^-- ?$", re.MULTILINE)


def strip_reply(text: str) -> str:
    """The newest reply of an e-mail or e-mail-like body, without quote and signature."""
    if not text.strip():
        return ""
    separator = _SIG_SEPARATOR.search(text)
    if separator:  # RFC 3676 signature delimiter: everything after it is signature
        text = text[: separator.start()]
    _deadline.at = time.monotonic() + MATCH_SECONDS
    try:
        message = EmailMessage(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True, **_PATTERNS).read()
    except TimeoutError:
        message = None  # pathological layout: linear stripping only
    finally:
        _deadline.at = float("inf")
    body = message.replies[0].body if message and message.replies else text
    if not body.strip():
        # Only a quote and a signature: keep the full reply rather than nothing.
        body = message.replies[0].full_body if message and message.replies else text
    lines = [line for line in body.split("\n") if not _QUOTED_LINE.match(line)]
    return "\n".join(lines).strip()
