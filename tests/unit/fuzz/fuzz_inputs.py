"""Hypothesis strategies for the ingest fuzz suite: what an attacker or a broken integration can send.

Inputs are kept small (the largest a few hundred KB): crashes hide in shapes, not sizes, and
100,000 inputs per connector must fit in a ``make fuzz`` run; the linear-time property on
1 MiB payloads has its own tests (tests/unit/ingest/test_bounded_work.py). Every connector
gets four kinds of input, mixed: its own realistic fixtures with values swapped
for hostile ones (deep nesting, huge numbers, long strings, markup bombs, wrong types), keys
dropped; arbitrary JSON; arbitrary bytes; and fixture bytes with random splices. E-mail gets
generated MIME messages (random headers incl. 8-bit ones, charsets, nesting, HTML bodies).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"

JSON_SOURCES = ("generic", "zendesk", "freshdesk", "intercom", "servicenow")


def fixture_docs(source: str) -> list:
    docs = []
    for path in sorted(FIXTURES.rglob(f"{source}_*.json")):
        docs.append(json.loads(path.read_text()))
    if source == "generic":
        docs.append({"external_id": "T-1", "customer": {"id": "c-1", "name": "Ana Pérez"},
                     "messages": [{"id": "m1", "sent_at": "2025-03-03T10:00:00Z", "html": "<p>Hola</p>"}]})
    return docs


def fixture_emails() -> list[bytes]:
    return [path.read_bytes() for path in sorted(FIXTURES.rglob("*.eml"))]


# Text that hurts parsers and regexes: markup soups, long runs, digits, confusables, controls.
_HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(lambda unit, n: unit * n,
              st.sampled_from(["<a ", "<p>", "<div>", "</", "<!--", "<![CDATA[", "&#", "&amp;", "\"<", "=?utf-8?q?",
                               "> ", "\n> ", "1", "1 ", "+", "@a.", "a@", "DE89", "LT", "-- \n", "\r\n", "\x00",
                               "Am 1. März schrieb ", "On Mon, Jan 1 wrote:\n", "My name is ", "Regards,\n",
                               "2025-01-01 10:00:00 - A (Additional comments)\n", "\u200b", "ı", "ſ", "Σ"]),
              st.integers(min_value=1, max_value=300)),
    st.sampled_from(["", " ", "null", "0", "-1", "1e309", "NaN", "9" * 40, "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]),
)

_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), _HOSTILE_TEXT,
)
ARBITRARY_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=12,
)


@st.composite
def mutated(draw, doc):
    """``doc`` with some values replaced by hostile ones and some keys removed."""
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            choice = draw(st.integers(min_value=0, max_value=9))
            if choice == 0:
                continue  # key dropped
            if choice == 1:
                out[key] = draw(ARBITRARY_JSON)
            else:
                out[key] = draw(mutated(value))
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            out[draw(st.text(max_size=10))] = draw(ARBITRARY_JSON)
        return out
    if isinstance(doc, list):
        items = [draw(mutated(item)) for item in doc]
        if items and draw(st.booleans()):
            items = items * draw(st.integers(min_value=1, max_value=4))
        return items
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return draw(_JSON_SCALARS)
    return doc


@st.composite
def spliced(draw, payload: bytes):
    """The payload with a random slice replaced by random bytes (or repeated)."""
    if not payload:
        return draw(st.binary(max_size=64))
    start = draw(st.integers(min_value=0, max_value=len(payload)))
    end = draw(st.integers(min_value=start, max_value=min(len(payload), start + 64)))
    insert = draw(st.one_of(st.binary(max_size=32), st.just(payload[start:end] * draw(st.integers(1, 50)))))
    return payload[:start] + insert + payload[end:]


def json_payloads(source: str):
    docs = fixture_docs(source)
    raw = [json.dumps(d, ensure_ascii=False).encode() for d in docs]
    deep = st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"1" + b"]" * n)
    return st.one_of(
        st.sampled_from(docs).flatmap(mutated).map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        ARBITRARY_JSON.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=300),
        st.sampled_from(raw).flatmap(spliced),
        deep,
    )


_HEADER_NAMES = ["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
                 "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence", "List-Id",
                 "X-Autoreply", "X-Auto-Response-Suppress", "Content-Language", "MIME-Version", "Return-Path"]
_CHARSETS = ["utf-8", "iso-8859-1", "iso-8859-8-i", "windows-1257", "utf-7", "x-unknown", "bogus\"", "", "gb2312", "koi8-r"]
_CONTENT_TYPES = ["text/plain", "text/html", "multipart/mixed", "multipart/alternative", "multipart/report",
                  "multipart/digest", "message/rfc822", "application/pdf", "message/delivery-status", ""]
_HEADER_VALUE = st.one_of(_HOSTILE_TEXT, st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
                          st.sampled_from(["A <a@example.com>", "=?utf-8?b?w6nDqQ==?=", "=?iso-8859-8-i?q?=F9=EC?=",
                                           "attachment; filename=\"\u00e4\u05d0.pdf\"", "attachment; filename*=utf-8''%E2%82%AC.pdf",
                                           "Mon, 16 Jan 2006 11:25:40 +0200", "Thu, 1 Jan 1970 00:00:00 +9999", "auto-replied"]))


@st.composite
def mime_part(draw, depth: int = 0):
    content_type = draw(st.sampled_from(_CONTENT_TYPES))
    charset = draw(st.sampled_from(_CHARSETS))
    headers = [f"Content-Type: {content_type}; charset=\"{charset}\""]
    if draw(st.booleans()):
        headers.append(f"Content-Disposition: {draw(_HEADER_VALUE)}")
    if draw(st.booleans()):
        headers.append(f"Content-Transfer-Encoding: {draw(st.sampled_from(['base64', 'quoted-printable', '8bit', '7bit', 'x-uue', 'bogus']))}")
    if content_type.startswith("multipart/") and depth < 4:
        boundary = "b" + str(depth)
        headers[0] = f"Content-Type: {content_type}; boundary=\"{boundary}\""
        parts = draw(st.lists(mime_part(depth + 1), min_size=0, max_size=4))
        body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    else:
        body = draw(st.one_of(_HOSTILE_TEXT, st.sampled_from(["<html><body><p>Hi</p><blockquote>old</blockquote></body></html>",
                                                               "SGVsbG8gd29ybGQ=", "=E2=82=AC 10"])))
    return "\r\n".join(headers) + "\r\n\r\n" + body


@st.composite
def email_messages(draw):
    headers = [f"{name}: {draw(_HEADER_VALUE)}" for name in draw(st.lists(st.sampled_from(_HEADER_NAMES), max_size=10))]
    if draw(st.integers(0, 4)):
        headers.insert(0, "From: Customer <customer@example.com>")
    top = draw(mime_part())
    text = "\r\n".join(headers) + "\r\n" + top
    return text.encode("utf-8", "surrogateescape")


def email_payloads():
    emails = fixture_emails()
    return st.one_of(email_messages(), st.sampled_from(emails).flatmap(spliced), st.binary(max_size=300))


@st.composite
def html_documents(draw):
    tags = ["p", "div", "br", "span", "a", "b", "table", "tr", "td", "ul", "li", "blockquote", "pre", "script", "style",
            "head", "body", "html", "font", "img", "h1"]
    pieces = draw(st.lists(st.one_of(
        st.sampled_from(tags).map(lambda t: f"<{t}>"), st.sampled_from(tags).map(lambda t: f"</{t}>"),
        st.sampled_from(tags).flatmap(lambda t: st.sampled_from([f"<{t} style=\"x\">", f"<{t} class=\"gmail_quote\">", f"<{t}/>"])),
        _HOSTILE_TEXT), max_size=40))
    return "".join(pieces)


# ---------------------------------------------------------------- cheap variants
# Hypothesis draws each base input; a seeded Random then derives ``n`` variants from it
# with byte- and value-level mutations (AFL's havoc operators, plus JSON leaf swaps).
# Drawing is what costs (~10-30 ms per structured example here); a variant costs
# microseconds, so ``make fuzz`` reaches 100,000 inputs per connector in minutes.
_TOKENS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"9" * 30, b"-" + b"9" * 25, b"1e999", b"<a ", b"<p>",
           b"</div>", b"\xff\xfe", b"\x00", b"\r\n", b"\r\n\r\n", b"=?utf-8?q?=E2=82?=", b"--b0\r\n", b"\\u0000",
           b"\\ud800", b"Content-Type: multipart/mixed; boundary=b0\r\n", b"@", b"DE89370400440532013000", b"> "]
_LEAVES = [None, True, 0, -1, 10**25, 1.5e308, "", "x" * 500, ["a"], {"a": None}, "<a " * 50, "2025-13-45T99:99:99Z",
           "\u200b\u202e", "ſ" * 40]


def _mutate_bytes(rng, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and data:
            del data[at:at + rng.randint(1, 64)]
        elif op == 3 and data:
            piece = data[at:at + rng.randint(1, 32)]
            data[at:at] = piece * rng.randint(1, 40)
        else:
            data[at:at] = rng.choice(_TOKENS)
    return bytes(data)


def _mutate_json(rng, data: bytes) -> bytes:
    try:
        return _mutate_json_leaf(rng, data)
    except (ValueError, RecursionError, TypeError, UnicodeError):  # deep or odd documents: mutate the bytes instead
        return _mutate_bytes(rng, data)


def _mutate_json_leaf(rng, data: bytes) -> bytes:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return _mutate_bytes(rng, data)
    paths = []

    def walk(node, path, depth):
        if depth > 12 or len(paths) > 400:
            return
        if isinstance(node, dict):
            for key in node:
                paths.append(path + (key,))
                walk(node[key], path + (key,), depth + 1)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                paths.append(path + (index,))
                walk(item, path + (index,), depth + 1)

    walk(doc, (), 0)
    if not paths:
        return _mutate_bytes(rng, data)
    path = rng.choice(paths)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and rng.random() < 0.25:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(_LEAVES)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


def variants(seed: int, base: bytes, n: int, structured: bool) -> list[bytes]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(_mutate_json(rng, base) if structured and rng.random() < 0.6 else _mutate_bytes(rng, base))
    return out
