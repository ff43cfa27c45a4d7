"""Replace personal data with typed, numbered placeholders (``[EMAIL_1]``).

One ``Redactor`` per conversation: the same value gets the same placeholder in
every message (``[EMAIL_1]`` twice means the customer wrote the same address
twice), so drafts can still say "we wrote to your e-mail address" and triage
can still see that a phone number was given. Counts per type are kept; the
values never leave this object.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Optional

from casetrail.privacy.pii import PiiKind, detect

_SQUASH = re.compile(r"[\s\-./()]+")


class Redactor:
    def __init__(self, locale: Optional[str] = None, known_names: Iterable[str] = ()):
        self.locale = locale
        self.known_names = tuple(n for n in known_names if n)
        self._numbers: dict[tuple[str, str], int] = {}
        self._per_kind: Counter[str] = Counter()
        self.findings: Counter[str] = Counter()  # occurrences replaced, by type

    def _placeholder(self, kind: PiiKind, value: str) -> str:
        normalised = _SQUASH.sub("", value).casefold()
        key = (kind.value, normalised)
        number = self._numbers.get(key)
        if number is None:
            self._per_kind[kind.value] += 1
            number = self._numbers[key] = self._per_kind[kind.value]
        return f"[{kind.value}_{number}]"

    def redact(self, text: str) -> str:
        if not text:
            return text
        findings = detect(text, self.locale, self.known_names)
        if not findings:
            return text
        parts: list[str] = []
        position = 0
        for finding in findings:
            parts.append(text[position:finding.start])
            parts.append(self._placeholder(finding.kind, text[finding.start:finding.end]))
            self.findings[finding.kind.value] += 1
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)
