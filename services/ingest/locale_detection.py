"""Which supported language a ticket is written in - or an honest "don't know".

lingua-language-detector (models ship inside the wheel, nothing downloaded)
restricted to the supported locales (en, de, fr, es, lt) plus their close
neighbours (lv, pl, ru, it, pt, ca, nl). Including the neighbours is what lets
us *refuse*: Latvian text is recognised as Latvian (unsupported -> unknown)
instead of being forced into Lithuanian.

Outcomes (``LocaleStatus``):

* ``detected`` - a supported language with confidence >= ``min_confidence``;
* ``mixed`` - two languages each carry a substantial share of the text;
* ``unknown`` - too short, a neighbour language, or not confident enough.
  The locale is then ``und`` (BCP 47 "undetermined"), never a guess;
* ``declared`` - used by the caller when detection is unknown but the source
  declared the customer's locale, or the tenant's default locale applies.

Short plain requests ("where is my order") rarely reach lingua's confidence
bar even when their language is plain, so ``resolve`` falls back, in order
(measured on the dev set's TUNE half, docs/benchmarks/triage.md):

1. a *weak* detection: a supported language was lingua's first choice, ahead
   of every neighbour, with confidence >= ``weak_confidence`` (0.3) ->
   ``detected`` with that lower confidence;
2. the channel's language hint (``declared``);
3. the tenant's default locale (``declared``) - unless lingua is confident
   (>= ``foreign_confidence``) that the text is a neighbour language: a Latvian
   or Italian ticket stays ``unknown`` and goes to a person.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Optional

from casetrail.events.conversation import LocaleStatus
from casetrail.policy.taxonomy import SUPPORTED_LOCALES

UNDETERMINED = "und"
MULTIPLE = "mul"
NEIGHBOURS = ("lv", "pl", "ru", "it", "pt", "ca", "nl")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]|https?://\S+")


@dataclass(frozen=True, slots=True)
class LocaleGuess:
    locale: str
    status: LocaleStatus
    confidence: float
    #: when unknown: lingua's first choice if it is a supported language, and its confidence
    candidate: Optional[str] = None
    candidate_confidence: float = 0.0
    #: when unknown: lingua is confident the text is a neighbour (unsupported) language
    foreign: bool = False


_WARM_UP = (
    "Hello, my parcel has not arrived yet. Could you please check the delivery status?",
    "Hallo, mein Paket ist noch nicht angekommen. Können Sie bitte den Lieferstatus prüfen?",
    "Bonjour, mon colis n'est toujours pas arrivé. Pouvez-vous vérifier la livraison ?",
    "Hola, mi paquete todavía no ha llegado. ¿Pueden revisar el estado del envío?",
    "Sveiki, mano siunta dar neatkeliavo. Ar galite patikrinti pristatymo būseną?",
)


class LocaleDetector:
    """Thread-safe, lazily built (the lingua models load once, on first use)."""

    def __init__(self, min_confidence: float = 0.6, min_letters: int = 12, mixed_share: float = 0.3,
                 weak_confidence: float = 0.3, foreign_confidence: float = 0.5):
        self.min_confidence = min_confidence
        self.min_letters = min_letters
        self.mixed_share = mixed_share
        self.weak_confidence = weak_confidence
        self.foreign_confidence = foreign_confidence
        self._detector = None
        self._lock = threading.Lock()
        self._by_language: dict = {}

    def _build(self):
        with self._lock:
            if self._detector is None:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

                codes = tuple(SUPPORTED_LOCALES) + NEIGHBOURS
                languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
                self._by_language = {lang: code for lang, code in zip(languages, codes)}
                self._detector = LanguageDetectorBuilder.from_languages(*languages).build()
        return self._detector

    def warm_up(self) -> None:
        """Build the detector and load every language model now (seconds), not on the first tickets."""
        self._build()
        for sample in _WARM_UP:
            self.detect(sample)

    def detect(self, text: str) -> LocaleGuess:
        text = _PLACEHOLDER.sub(" ", text)
        letters = sum(len(w) for w in _LETTERS.findall(text))
        if letters == 0:
            return LocaleGuess(UNDETERMINED, LocaleStatus.unknown, 0.0)
        detector = self._build()
        if letters < self.min_letters:  # too short to be sure; lingua's first choice is still a hint
            return self._unsure(*self._top(detector, text), 0.0)
        sample = text[:2000]
        if letters >= 60:
            halves = _halves(sample)
            if halves is not None:
                tops = [self._top(detector, half) for half in halves]
                (code_a, conf_a), (code_b, conf_b) = tops
                if code_a == code_b:
                    return self._verdict(code_a, (conf_a + conf_b) / 2)
                if conf_a >= self.min_confidence and conf_b >= self.min_confidence:
                    # Two confident, different languages: mixed, never a coin toss.
                    return LocaleGuess(MULTIPLE, LocaleStatus.mixed, round(min(conf_a, conf_b), 4))
        return self._verdict(*self._top(detector, sample))

    def _top(self, detector, text: str) -> tuple[str, float]:
        values = detector.compute_language_confidence_values(text)
        if not values:
            return UNDETERMINED, 0.0
        return self._by_language.get(values[0].language, UNDETERMINED), float(values[0].value)

    def _verdict(self, code: str, confidence: float) -> LocaleGuess:
        if code not in SUPPORTED_LOCALES or confidence < self.min_confidence:
            return self._unsure(code, confidence, confidence)
        return LocaleGuess(code, LocaleStatus.detected, round(confidence, 4))

    def _unsure(self, code: str, confidence: float, reported: float) -> LocaleGuess:
        supported = code in SUPPORTED_LOCALES
        return LocaleGuess(UNDETERMINED, LocaleStatus.unknown, round(reported, 4),
                           candidate=code if supported else None,
                           candidate_confidence=round(confidence, 4) if supported else 0.0,
                           foreign=not supported and code != UNDETERMINED and confidence >= self.foreign_confidence)

    def weak(self, guess: LocaleGuess) -> bool:
        """An unknown guess whose candidate is good enough to use (fallback 1 of the module doc)."""
        return guess.candidate is not None and guess.candidate_confidence >= self.weak_confidence


_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")


def _halves(text: str) -> Optional[tuple[str, str]]:
    """Split at the sentence boundary nearest the middle (None: one long sentence)."""
    middle = len(text) // 2
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not cuts:
        return None
    cut = min(cuts, key=lambda c: abs(c - middle))
    first, second = text[:cut], text[cut:]
    if len(_LETTERS.findall(first)) < 3 or len(_LETTERS.findall(second)) < 3:
        return None
    return first, second


def _supported(locale: Optional[str]) -> Optional[str]:
    language = re.split(r"[-_]", locale)[0].lower() if locale else ""
    return language if language in SUPPORTED_LOCALES else None


def resolve(guess: LocaleGuess, declared: Optional[str], default_locale: Optional[str] = None,
            weak: bool = False) -> LocaleGuess:
    """An unknown guess falls back to its weak candidate (``weak``: the detector accepted it), the source's
    declared locale, then the tenant's default locale unless the text is confidently a neighbour language."""
    if guess.status != LocaleStatus.unknown:
        return guess
    if weak and guess.candidate:
        return LocaleGuess(guess.candidate, LocaleStatus.detected, guess.candidate_confidence)
    hint = _supported(declared)
    if hint:
        return LocaleGuess(hint, LocaleStatus.declared, guess.confidence)
    default = _supported(default_locale)
    if default and not guess.foreign:
        return LocaleGuess(default, LocaleStatus.declared, guess.confidence)
    return guess
