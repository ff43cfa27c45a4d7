"""Small exact shortcuts in the ingest path give what the general code gives."""

import email.header
import random
import uuid

from mailparser_reply.parser import EmailMessage

from services.ingest import reply_stripping
from services.ingest.connectors import email as email_connector
from casetrail.events.identity import CONVERSATION_NAMESPACE, conversation_id


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


def test_whitespace_class_is_str_isspace():
    import re

    for code in range(0x110000):
        ch = chr(code)
        assert (re.fullmatch(r"\s", ch) is not None) == ch.isspace(), hex(code)


def _merge_by_character(canvas, text):  # inscriptis' Block.merge_normal_text, as the fast renderer had it
    from html import unescape

    normalized = []
    collapsable = canvas.collapsable
    for ch in text:
        if not ch.isspace():
            normalized.append(ch)
            collapsable = False
        elif not collapsable:
            normalized.append(" ")
            collapsable = True
    canvas.collapsable = collapsable
    if normalized:
        canvas.content += unescape("".join(normalized))


def test_canvas_merge_equals_the_character_walk():
    from services.ingest.html_text import _SimpleCanvas

    rng = random.Random(9)
    alphabet = ["a", "é", " ", "  ", "\n", "\t", "\u00a0", "\u2003", "\u3000", "\x1c", "&amp;", "&nbsp;", "&", ";", "x y"]
    for _ in range(20000):
        fast, slow = _SimpleCanvas(), _SimpleCanvas()
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.2:
                fast.flush(), slow.flush()
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
            fast.merge(text)
            _merge_by_character(slow, text)
            assert (fast.content, fast.collapsable) == (slow.content, slow.collapsable), text


def _typed(value):
    """``value`` with every number tagged by its type (1 == 1.0 == True would hide a difference)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, repr(value))


def _random_json(rng: random.Random, depth: int = 0) -> str:
    kind = rng.random()
    if depth < 4 and kind < 0.25:
        return "{" + ",".join(f'"{rng.choice(["a", "id", "é", "a"])}":{_random_json(rng, depth + 1)}'
                              for _ in range(rng.randint(0, 4))) + "}"
    if depth < 4 and kind < 0.4:
        return "[" + ",".join(_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    if kind < 0.55:
        return str(rng.choice([0, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64, 10**18, -(10**18)])
                   + rng.randint(-3, 3))
    if kind < 0.7:
        return repr(rng.uniform(-1e6, 1e6)) if rng.random() < 0.5 else f"{rng.random()}e{rng.randint(-330, 330)}"
    if kind < 0.75:
        return rng.choice(["true", "false", "null", "-0", "-0.0", "1E2", "1e-7", "0.1000000000000000055511151231257827"])
    pieces = ["a", "é", "Ž", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\\\", '\\"', "\\/", "😀", "\\u0000", " "]
    return '"' + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) + '"'


def test_json_loading_equals_the_standard_library():
    import json

    import pytest

    from services.ingest.connectors.base import load_json
    from services.ingest.rejections import Rejected

    rng = random.Random(12)
    for _ in range(20000):
        payload = _random_json(rng).encode()
        assert _typed(load_json(payload)) == _typed(json.loads(payload)), payload
    # What orjson refuses or reads differently and json decides: same objects, same errors.
    for payload in [b"NaN", b"[Infinity]", b"1e400", b"\xef\xbb\xbf{}", b"123456789012345678901234567890",
                    b'{"id": -9223372036854775809}', b'{"a":1,"a":2}']:
        assert _typed(load_json(payload)) == _typed(json.loads(payload)), payload
    for payload, message in [(b"{", "Expecting property name enclosed in double quotes at line 1 column 2"),
                             (b'{"a": 1,}', "Expecting property name enclosed in double quotes at line 1 column 9"),
                             (b"[" * 100000, "nests too deeply"),
                             # a lone surrogate could never be encoded again downstream (issue 17 fuzzing)
                             (b'"\\ud800"', "lone UTF-16 surrogate")]:
        with pytest.raises(Rejected) as refused:
            load_json(payload)
        assert message in str(refused.value), refused.value


def test_long_integer_check_equals_the_regex():
    import re

    from services.ingest.connectors.base import _has_long_integer

    # a JSON number starts at the document start or after ":", "[", "," or JSON whitespace
    oracle = re.compile(rb"(?:\A|[:\[, \t\n\r])-?[0-9]{19}")
    rng = random.Random(14)
    alphabet = [b"0", b"9", b"5", b"a", b" ", b"-", b".", b"\xd9\xa3", b"\xc2\xb2", b'"', b"/", b":", b",", b"[", b"\n",
                b"\t", b"\r", b"\x0c", b"e"]
    for _ in range(40000):
        payload = b"".join(rng.choice(alphabet if rng.random() < 0.3 else alphabet[:3]) for _ in range(rng.randint(0, 40)))
        assert _has_long_integer(payload) == (oracle.search(payload) is not None), payload
    assert not _has_long_integer(b'{"id": "000000000000000000000003"}')  # a long digit string is not a number
    assert _has_long_integer(b'{"id": [1, -12345678901234567890]}')
