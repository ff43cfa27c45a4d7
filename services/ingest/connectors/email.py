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
from services.ingest import html_text
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
    except (LookupError, UnicodeDecodeError, ValueError):
        return str(raw).strip()


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


def _text_of(part: Message) -> str:
    raw = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        # Unknown or lying charset: decode what is there rather than lose the ticket.
        return raw.decode("utf-8", errors="replace")


def _is_attachment(part: Message, content_type: str) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    # content_type.split("/")[0] is what get_content_maintype() returns
    return disposition == "attachment" or (bool(part.get_filename()) and content_type.split("/")[0] != "text")


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
    own_ids = _ids(message.get("Message-ID"))
    message_id = own_ids[0] if own_ids else "sha256-" + hashlib.sha256(payload).hexdigest()[:32]
    references = _ids(message.get("References"))
    in_reply_to = _ids(message.get("In-Reply-To"))
    root = references[0] if references else (in_reply_to[0] if in_reply_to else message_id)
    try:
        sent_at = email.utils.parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError, IndexError):
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
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename() or "attachment"
        try:
            filename = str(email.header.make_header(email.header.decode_header(filename)))
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
        files.append(attachment(filename, part.get_content_type(), len(data)))
    if not text and not files:
        raise Rejected(EMPTY_BODY, "e-mail has no text body and no attachment")
    tags = []
    if (message.get("Auto-Submitted") or "no").strip().lower() != "no":
        tags.append("auto-submitted")
    own = is_own_email({name: str(value) for name, value in message.items()})
    if own:
        tags.append("casetrail-own")  # casetrail's own reply came back (services/ingest/own_messages.py)
    language = (message.get("Content-Language") or "").split(",")[0].strip() or None
    subject = _header(message, "Subject")
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
        created_at=sent_at, update_stamp=message_id, declared_locale=language,
    )


CONNECTOR = FunctionConnector(SOURCE, parse, content_types=("message/rfc822",))
