"""Which of casetrail's five languages a text is written in (lingua, offline).

The detector is restricted to en/de/fr/es/lt — the only languages a reply may
be in — and its models are loaded once per process (about 1.5 s, then well
under a millisecond per reply).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Optional

_LOCK = threading.Lock()
_DETECTOR = None
_FAST_DETECTOR = None
_CODES = {"ENGLISH": "en", "GERMAN": "de", "FRENCH": "fr", "SPANISH": "es", "LITHUANIAN": "lt"}


def _detector(fast: bool = False):
    """High accuracy for whole replies; lingua's low-accuracy mode (trigrams only,
    several times faster) for single sentences, which are long enough for it."""
    global _DETECTOR, _FAST_DETECTOR
    with _LOCK:
        if _DETECTOR is None:
            from lingua import Language, LanguageDetectorBuilder

            languages = [getattr(Language, name) for name in _CODES]
            builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
            _DETECTOR = builder.build()
            _FAST_DETECTOR = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models() \
                .with_low_accuracy_mode().build()
        return _FAST_DETECTOR if fast else _DETECTOR


def identify(text: str, fast: bool = False) -> list[tuple[str, float]]:
    """(locale, confidence) for the five languages, most likely first; [] when there is nothing to read."""
    if not any(ch.isalpha() for ch in text):
        return []
    if len(text) > REMEMBERED_TEXT_CHARS:  # a whole reply: identified once, not kept
        return list(_confidences(text, fast))
    return list(_remembered_confidences(text, fast))


#: sentences up to this long are remembered (8,192 of them)
REMEMBERED_TEXT_CHARS = 300


def _confidences(text: str, fast: bool) -> tuple[tuple[str, float], ...]:
    values = _detector(fast).compute_language_confidence_values(text)
    return tuple((_CODES[v.language.name], float(v.value)) for v in values)


@lru_cache(maxsize=8192)
def _remembered_confidences(text: str, fast: bool) -> tuple[tuple[str, float], ...]:
    # Replies repeat their greeting, disclosure and clause sentences, and the language
    # check identifies each sentence on its own.
    return _confidences(text, fast)


def warm_up() -> None:
    """Load the language models now (service start-up), not on the first draft."""
    identify("warm up")


def top_language(text: str) -> Optional[tuple[str, float]]:
    ranked = identify(text)
    return ranked[0] if ranked else None
