"""E-mail over SMTP (RFC 5321 / 5322), sent with aiosmtplib.

* Public reply: to the customer's address, which is never kept in clear by
  casetrail: it is opened from the conversation's sealed original with the
  customer's key at send time (an erased key means nothing can be sent: the
  delivery is refused and dead-lettered). Threaded with ``In-Reply-To`` (the
  customer's latest Message-ID) and ``References`` (the thread's ids);
  ``Subject: Re: <original subject>``; RFC 3834 ``Auto-Submitted: auto-replied``
  (auto-responders must not answer it); ``Message-ID: <ct-...@casetrail.invalid>``
  and ``X-Casetrail-Ref`` (how ingest recognises it if it comes back).
* Internal note: a hand-off e-mail to the queue's team mailbox (``groups``),
  ``Auto-Submitted: auto-generated``. Ticket updates have no e-mail equivalent.
* SMTP offers no lookup. A retry after an ambiguous failure sends the same
  message again with the same Message-ID, which receiving systems treat as
  one message (threading, de-duplication); said in the README.
"""

from __future__ import annotations

import email.utils
import json
from email.message import EmailMessage
from typing import Callable, Optional

import aiosmtplib

from casetrail.events.conversation import EncryptedText
from casetrail.events.delivery import DeliveryEffect
from casetrail.own_messages import REF_HEADER, message_id_for
from services.delivery.adapters.base import NotApplicable, PlatformError, TransportError, Written
from services.delivery.config import EmailConfig
from services.delivery.effects import Effect
from services.delivery.thread import Thread

OpenSealed = Callable[[EncryptedText], str]


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


class EmailAdapter:
    platform = "email"
    can_look_up = False

    def __init__(self, config: EmailConfig, open_sealed: OpenSealed):
        self.config = config
        self.open_sealed = open_sealed

    def build(self, effect: Effect, thread: Optional[Thread]) -> tuple[EmailMessage, str]:
        message = EmailMessage()
        message["From"] = self.config.from_address
        message["Date"] = email.utils.format_datetime(effect.source_occurred_at)
        message["Message-ID"] = _bracketed(message_id_for(effect.marker))
        message[REF_HEADER] = effect.marker
        message["X-Casetrail-Conversation"] = effect.conversation_id  # an opaque id: lets a team mailbox thread
        message["Content-Language"] = effect.locale
        if effect.kind == DeliveryEffect.public_reply:
            if thread is None or thread.sealed_original() is None:
                raise NotApplicable("no sealed original to take the customer's address from")
            try:
                original = json.loads(self.open_sealed(thread.sealed_original()))
            except Exception as exc:  # an erased or unknown key: the address is gone for good
                raise PlatformError(410, {}, f"customer key unavailable: {type(exc).__name__}", "open sealed original",
                                    transient=False) from None
            emails = (original.get("customer") or {}).get("emails") or []
            if not emails:
                raise NotApplicable("the original names no e-mail address")
            recipient = emails[0]
            subject = original.get("subject") or ""
            message["To"] = recipient
            message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
            message["Auto-Submitted"] = "auto-replied"
            if thread.latest_customer_message_id:
                message["In-Reply-To"] = _bracketed(thread.latest_customer_message_id)
            if thread.message_ids:
                message["References"] = " ".join(_bracketed(i) for i in thread.message_ids)
        elif effect.kind == DeliveryEffect.internal_note:
            mailbox = self.config.groups.get(effect.queue or "")
            if mailbox is None:
                raise NotApplicable(f"no team mailbox configured for queue {effect.queue!r}")
            recipient = mailbox
            message["To"] = mailbox
            message["Subject"] = effect.title
            message["Auto-Submitted"] = "auto-generated"
        else:
            raise NotApplicable("an e-mail thread has no group, priority or tags to update")
        message.set_content(effect.body)
        return message, recipient

    async def write(self, effect: Effect, thread: Optional[Thread]) -> Written:
        message, recipient = self.build(effect, thread)
        password = self.config.password.get_secret_value() if self.config.password else None
        try:
            responses, _ = await aiosmtplib.send(
                message, sender=self.config.from_address, recipients=[recipient], hostname=self.config.smtp_host,
                port=self.config.smtp_port, username=self.config.username, password=password,
                use_tls=self.config.use_tls, start_tls=self.config.starttls if not self.config.use_tls else False,
                timeout=self.config.timeout_seconds)
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError) as exc:
            raise TransportError(f"smtp connect: {type(exc).__name__}", request_sent=False) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise PlatformError(exc.code, {}, exc.message, "smtp send", transient=400 <= exc.code < 500) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            raise TransportError(f"smtp send: {type(exc).__name__}", request_sent=True) from None
        return Written(message["Message-ID"].strip("<>"), 250)

    async def find(self, effect: Effect, thread: Optional[Thread]) -> Optional[str]:
        return None

    async def whoami(self) -> str:
        password = self.config.password.get_secret_value() if self.config.password else None
        client = aiosmtplib.SMTP(hostname=self.config.smtp_host, port=self.config.smtp_port,
                                 use_tls=self.config.use_tls, timeout=self.config.timeout_seconds,
                                 start_tls=self.config.starttls if not self.config.use_tls else False)
        try:
            await client.connect()
            if self.config.username and password:
                await client.login(self.config.username, password)
            code, _ = await client.noop()
        finally:
            if client.is_connected:
                await client.quit()
        return f"SMTP {self.config.smtp_host}:{self.config.smtp_port} answers {code}" + (
            f", logged in as {self.config.username}" if self.config.username else "")

    async def close(self) -> None:
        return None
