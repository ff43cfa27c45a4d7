"""Small exact shortcuts in the ingest path give what the general code gives."""

import email.header
import random
import uuid

from mailparser_reply.parser import EmailMessage

from services.ingest import reply_stripping
from services.ingest.connectors import email as email_connector
from services.ingest.normalise import CONVERSATION_NAMESPACE, conversation_id


def test_conversation_id_is_uuid5():
    rng = random.Random(3)
    alphabet = "ab/ 0-_.é€😀\x00"
    for i in range(5000):
        tenant = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        external = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        expected = str(uuid.uuid5(CONVERSATION_NAMESPACE, f"{tenant}/zendesk/{external}"))
        assert conversation_id(tenant, "zendesk", external) == expected


def test_plain_header_shortcut_equals_decoding():
    rng = random.Random(4)
    alphabet = "ab Z\r\n\t:<>\",;=?ŽĖé\x7f\x80"
    for _ in range(20000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))).replace("=?", "")
        message = email_connector.Message()
        message["Subject"] = raw
        decoded = str(email.header.make_header(email.header.decode_header(raw))).strip()
        assert email_connector._header(message, "Subject") == decoded


def test_encoded_and_8bit_headers_still_decoded():
    parsed = email_connector._PARSER.parsebytes(
        "From: =?utf-8?q?Jonas_J=C3=B5naitis?= <j@x.lt>\nSubject: Žinutė\n\nbody".encode())
    assert email_connector._header(parsed, "From") == "Jonas Jõnaitis <j@x.lt>"
    assert email_connector._header(parsed, "Subject") == "Žinutė"


def test_reply_patterns_built_once_are_the_library_s_own():
    fresh = EmailMessage(text="x", languages=list(reply_stripping.LANGUAGES), keep_hyphen_lists=True)
    for attribute, name in (("_header_regex", "HEADER_REGEX"), ("_disclaimers_regex", "DISCLAIMERS_REGEX"),
                            ("_signature_regex", "SIGNATURE_REGEX")):
        built = getattr(fresh, name)
        shared = reply_stripping._PATTERNS[attribute]
        assert (shared.pattern, shared.flags) == (built.pattern, built.flags)
