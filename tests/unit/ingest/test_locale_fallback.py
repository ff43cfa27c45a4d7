"""Locale of short plain requests: weak detection, then the channel's hint, then the tenant's default."""

import json

import pytest

from casetrail.events.conversation import LocaleStatus
from services.ingest.locale_detection import LocaleDetector, LocaleGuess, resolve
from services.ingest.normalise import IntakeRecord, Normaliser

DETECTOR = LocaleDetector()


def normalise(text, *, locale=None, default=None, tenant="acme"):
    doc = {"external_id": "x", "customer": {"id": "c"},
           "messages": [{"sent_at": "2026-12-09T10:00:00Z", "text": text}]}
    if locale:
        doc["locale"] = locale
    normaliser = Normaliser(locale_detector=DETECTOR, default_locales={tenant: default} if default else None)
    return normaliser.normalise(IntakeRecord("acme", "generic", json.dumps(doc).encode())).event


@pytest.mark.parametrize("text,locale", [
    ("where is my order", "en"), ("invoice?", "en"), ("wo ist mein paket", "de"),
    ("kur mano siunta", "lt"),
])
def test_a_short_plain_request_is_detected_weakly_instead_of_unknown(text, locale):
    strict = DETECTOR.detect(text)
    assert strict.status == LocaleStatus.unknown and strict.candidate == locale  # below the 0.6 bar
    event = normalise(text)
    assert event.locale == locale and event.conversation.locale_status == LocaleStatus.detected
    assert event.conversation.locale_confidence < DETECTOR.min_confidence


def test_the_channel_hint_then_the_tenant_default_when_nothing_is_detected():
    assert normalise("hola", locale="es").locale == "es"  # lingua's weak 'es' is below 0.3: the hint decides
    assert normalise("cancel my order pls").locale == "und"  # 'en' at 0.23: too weak alone
    assert normalise("cancel my order pls", default="en").locale == "en"
    declared = normalise("🙂🙂 ??", default="lt")
    assert declared.locale == "lt" and declared.conversation.locale_status == LocaleStatus.declared
    assert normalise("🙂🙂 ??").locale == "und"  # no hint, no default: honest unknown


def test_a_confident_neighbour_language_never_takes_the_tenant_default():
    for text in ("Labdien, vēlos atgriezt preci, kas pienāca bojāta.",
                 "Buongiorno, vorrei sapere dove si trova il mio pacco"):
        event = normalise(text, default="en")
        assert event.locale == "und" and event.conversation.locale_status == LocaleStatus.unknown


def test_a_confident_detection_beats_the_hint_and_the_default():
    event = normalise("Sveiki, mano siunta dar neatkeliavo. Ar galite patikrinti pristatymo būseną?",
                      locale="en", default="en")
    assert event.locale == "lt" and event.conversation.locale_status == LocaleStatus.detected


def test_resolve_order():
    unknown = LocaleGuess("und", LocaleStatus.unknown, 0.2, candidate="de", candidate_confidence=0.45)
    assert resolve(unknown, "fr", "en", weak=True).locale == "de"
    assert resolve(unknown, "fr-BE", "en").locale == "fr"
    assert resolve(unknown, "pt", "en").locale == "en"  # an unsupported hint is no hint
    foreign = LocaleGuess("und", LocaleStatus.unknown, 0.9, foreign=True)
    assert resolve(foreign, None, "en").status == LocaleStatus.unknown
    assert resolve(foreign, "de", "en").locale == "de"  # the channel's hint still counts
