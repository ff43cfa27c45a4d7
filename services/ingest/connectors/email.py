"""Plain e-mail: one raw RFC 5322 message (MIME multipart welcome).

Parsed with the standard library (``email``, ``compat32`` policy: the modern
header registry costs ~10x more per message and adds nothing needed here):
the text/plain body is preferred, text/html is converted (quoted history
dropped), and the quoted reply and signature are stripped from the result.
Messages thread into one conversation by their root message: the first id of
``References``, else ``In-Reply-To``, else the message's own ``Message-ID``.
The customer is the ``From`` address, carried downstream only as a
pseudonymous id (``email-<sha256 prefix>``); the display name is used for name
redaction. Charsets other than UTF-8 (ISO-8859-x, Windows-125x) are decoded
as declared.
"""

from __future__ import annotations

import datetime as dt
import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import re
from email.message import Message
from typing import Mapping, Optional

from casetrail.events.conversation import AuthorRole
from casetrail.own_messages import is_own_email
from services.ingest import automated, budget, html_text
from services.ingest.connectors.base import (
    CustomerInfo, FunctionConnector, NormalisedMessage, NormalisedTicket, attachment, non_empty, pseudonymous_id,
)
from services.ingest.rejections import EMPTY_BODY, HTML_BOMB, INVALID_EMAIL, Rejected
from services.ingest.reply_stripping import strip_reply

SOURCE = "email"
MAX_PARTS = 200
MAX_DEPTH = 8
_MSGID = re.compile(r"<[^<>\s]+>")
_PARSER = email.parser.BytesParser(policy=email.policy.compat32)


def _ids(value: Optional[str]) -> list[str]:
    return [m.strip("<>") for m in _MSGID.findall(value or "")]


def _raw_8bit_text(data: bytes) -> str:
    """Header bytes sent unencoded: UTF-8 per RFC 6532, else Latin-1 (which never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _header(message: Message, name: str) -> Optional[str]:
    raw = message.get(name)
    if raw is None:
        return None
    if type(raw) is str and "=?" not in raw:
        # No encoded word: decode_header() hands the string back as one chunk and
        # make_header() renders that chunk unchanged, so skip both.
        return raw.strip()
    if isinstance(raw, email.header.Header):
        # compat32 hands back unencoded 8-bit header bytes as "unknown-8bit"; mail clients send
        # UTF-8 there (RFC 6532). Decode them, then let encoded words be decoded as usual.
        raw = "".join(_raw_8bit_text(part) if isinstance(part, bytes) else part
                      for part, _ in email.header.decode_header(raw))
    try:
        return str(email.header.make_header(email.header.decode_header(str(raw)))).strip()
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.MessageError):
        pass
    try:  # an encoded word in a charset Python does not know (ISO-8859-8-I): decode each chunk ourselves
        chunks = email.header.decode_header(str(raw))
    except (ValueError, UnicodeError, email.errors.MessageError):
        return str(raw).strip()
    return "".join(_decode_text(part, charset) if isinstance(part, bytes) else part for part, charset in chunks).strip()


def _check_structure(message: Message, depth: int = 0, counter: Optional[list[int]] = None) -> None:
    counter = counter if counter is not None else [0]
    counter[0] += 1
    if counter[0] > MAX_PARTS:
        raise Rejected(HTML_BOMB, f"MIME message has more than {MAX_PARTS} parts")
    if depth > MAX_DEPTH:
        raise Rejected(HTML_BOMB, f"MIME parts nest deeper than {MAX_DEPTH} levels")
    if message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                _check_structure(part, depth + 1, counter)


# Charset labels mail clients send that Python's codec registry does not know.
# ISO-8859-8-I/-E and ISO-8859-6-I/-E only say how Hebrew/Arabic text is ordered
# (logical, explicit; RFC 1556): the bytes are plain ISO-8859-8 / ISO-8859-6.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8", "iso-8859-8-e": "iso-8859-8", "iso_8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6", "iso-8859-6-e": "iso-8859-6", "x-user-defined": "cp1252",
    "unknown-8bit": "utf-8", "x-unknown": "utf-8", "unicode-1-1-utf-7": "utf-7", "ansi_x3.4-1968": "ascii",
    "x-mac-roman": "mac-roman", "x-mac-cyrillic": "mac-cyrillic", "windows-874": "cp874", "cp-850": "cp850",
}


def _decode_text(raw: bytes, charset: Optional[str]) -> str:
    """Bytes in the declared charset; unknown or lying charsets fall back to UTF-8, then Windows-1252."""
    label = (charset or "utf-8").strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        if label != "utf-7":  # UTF-7 decoding is permissive enough to mangle any 8-bit text
            return raw.decode(label)
        return raw.decode("utf-7")
    except (LookupError, UnicodeDecodeError):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")


def _text_of(part: Message) -> str:
    raw = part.get_payload(decode=True) or b""
    try:
        charset = part.get_content_charset()
    except (LookupError, UnicodeError, ValueError):
        charset = None
    return _decode_text(raw, charset)


def _header_text(message: Message, name: str) -> str:
    """A header as text: compat32 hands 8-bit headers back as ``Header`` objects, not str."""
    return _header(message, name) or ""


_FILENAME_PARAM = re.compile(r"""(?:^|;)\s*(filename\*?|name\*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)""", re.IGNORECASE)


def _filename(part: Message) -> Optional[str]:
    """The attachment's file name from Content-Disposition (else Content-Type ``name``), any encoding.

    RFC 2231 (``filename*=utf-8''...``), RFC 2047 encoded words and raw 8-bit
    bytes (UTF-8, else Latin-1) are all seen in real mail.
    """
    for header_name in ("Content-Disposition", "Content-Type"):
        value = _header_text(part, header_name)
        if not value:
            continue
        try:
            name = part.get_filename() if header_name == "Content-Disposition" else part.get_param("name")
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
        except (LookupError, UnicodeError, ValueError, TypeError, AttributeError):
            name = None
        if isinstance(name, str) and name and "\ufffd" not in name and not any(0xdc80 <= ord(c) <= 0xdcff for c in name):
            return name
        for match in _FILENAME_PARAM.finditer(value):
            found = match.group(2).strip().strip('"')
            if match.group(1).endswith("*") and "''" in found:
                charset, _, encoded = found.partition("''")
                from urllib.parse import unquote_to_bytes

                return _decode_text(unquote_to_bytes(encoded), charset or "utf-8")
            if found:
                return found
    return None


def _is_attachment(part: Message, content_type: str) -> bool:
    disposition = _header_text(part, "Content-Disposition").split(";")[0].strip().lower()
    # content_type.split("/")[0] is what get_content_maintype() returns
    return disposition == "attachment" or (bool(_filename(part)) and content_type.split("/")[0] != "text")


def _parts(message: Message) -> tuple[Optional[Message], Optional[Message], list[Message]]:
    """(first text/plain body, first text/html body, attachments), walking the MIME tree."""
    plain = html = None
    files: list[Message] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()  # parsed once per part, not once per question
        if _is_attachment(part, content_type):
            files.append(part)
        elif content_type == "text/plain" and plain is None:
            plain = part
        elif content_type == "text/html" and html is None:
            html = part
    return plain, html, files


def parse(payload: bytes, attributes: Mapping[str, str]) -> NormalisedTicket:
    if b":" not in payload[:2000]:
        raise Rejected(INVALID_EMAIL, "payload has no RFC 5322 header block")
    message = _PARSER.parsebytes(payload)
    if not message.keys():
        raise Rejected(INVALID_EMAIL, "payload does not parse as an RFC 5322 message")
    _check_structure(message)
    name, address = email.utils.parseaddr(_header(message, "From") or "")
    if not address or "@" not in address:
        raise Rejected("missing_field", "e-mail lacks a From address")
    own_ids = _ids(_header_text(message, "Message-ID"))
    message_id = own_ids[0] if own_ids else "sha256-" + hashlib.sha256(payload).hexdigest()[:32]
    references = _ids(_header_text(message, "References"))
    in_reply_to = _ids(_header_text(message, "In-Reply-To"))
    root = references[0] if references else (in_reply_to[0] if in_reply_to else message_id)
    try:
        date = _header_text(message, "Date")
        sent_at = email.utils.parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError, IndexError, OverflowError):
        sent_at = None
    if sent_at is None:
        sent_at = dt.datetime.now(dt.timezone.utc)
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=dt.timezone.utc)
    sent_at = sent_at.astimezone(dt.timezone.utc).replace(microsecond=0)

    plain, html, attachments = _parts(message)
    text = ""
    if plain is not None:
        text = strip_reply(html_text.tidy(_text_of(plain)))
    elif html is not None:
        text = strip_reply(html_text.html_to_text(_text_of(html)))
    files = []
    for part in attachments:
        budget.check("an e-mail attachment")
        data = part.get_payload(decode=True) or b""
        filename = _filename(part) or "attachment"
        if "=?" in filename:
            try:
                filename = str(email.header.make_header(email.header.decode_header(filename)))
            except (LookupError, UnicodeDecodeError, ValueError, email.errors.MessageError):
                pass
        files.append(attachment(filename, part.get_content_type(), len(data)))
    if not text and not files:
        raise Rejected(EMPTY_BODY, "e-mail has no text body and no attachment")
    subject = _header(message, "Subject")
    flagged = automated.from_email_headers(lambda name: _header(message, name), message.get_content_type(),
                                           address, subject)
    tags = []
    if flagged is not None:
        tags.append(f"automated:{flagged.kind.value}")
    own = is_own_email({name: _header_text(message, name) for name in ("X-Casetrail-Ref", "Message-ID")})
    if own:
        tags.append("casetrail-own")  # casetrail's own reply came back (services/ingest/own_messages.py)
    language = _header_text(message, "Content-Language").split(",")[0].strip() or None
    return NormalisedTicket(
        source=SOURCE, external_id=root, channel="email",
        subject=subject or None,
        messages=non_empty([NormalisedMessage(message_id=message_id,
                                              author_role=AuthorRole.bot if own else AuthorRole.customer,
                                              author_id=pseudonymous_id("email", address), sent_at=sent_at,
                                              body_text=text, attachments=files)], source=SOURCE),
        customer=CustomerInfo(customer_id=pseudonymous_id("email", address), names=(name,) if name else (),
                              emails=(address,)),
        tags=tags, status="reply" if (references or in_reply_to) else "new",
        created_at=sent_at, update_stamp=message_id, declared_locale=language, automated=flagged,
    )


CONNECTOR = FunctionConnector(SOURCE, parse, content_types=("message/rfc822",))
