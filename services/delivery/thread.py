"""What delivery remembers about a conversation: where it lives and how to answer it.

Built from ``conversations.received`` (pure), kept as JSON in the ``threads``
table. A routed decision carries no ticket reference, and an e-mail reply
needs the thread's Message-IDs; the customer's address is never kept in
clear: only the sealed original (opened with the customer's key when an
e-mail is sent; an erased key means nothing can be sent).
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Optional

from casetrail.events.conversation import AuthorRole, AutomatedKind, ConversationReceived, EncryptedText
from casetrail.privacy.customer_key import customer_key

MAX_REFERENCES = 20  # RFC 5322 References can grow without bound; keep the root and the newest


@dataclass(frozen=True)
class Thread:
    tenant: str
    source: str
    external_id: str
    channel: str
    locale: str
    customer_id: str
    message_ids: tuple[str, ...] = ()  # the source's message ids, oldest first (e-mail: Message-IDs)
    latest_customer_message_id: Optional[str] = None
    sealed: Optional[dict] = field(default=None)  # EncryptedText as JSON: the original, under the customer's key
    # Ingest's flag for auto-replies, bounces, list mail and platform automations (``Conversation.automated``):
    # such a conversation is never answered. None: a person wrote it.
    automated: Optional[AutomatedKind] = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["message_ids"] = list(self.message_ids)
        data["automated"] = self.automated.value if self.automated else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Thread":
        automated = data.get("automated")
        return cls(**{**data, "message_ids": tuple(data.get("message_ids") or ()),
                      "automated": AutomatedKind(automated) if automated else None})

    def sealed_original(self) -> Optional[EncryptedText]:
        if not self.sealed:
            return None
        return EncryptedText(key_id=self.sealed["key_id"], algorithm=self.sealed["algorithm"],
                             nonce=base64.b64decode(self.sealed["nonce"]),
                             ciphertext=base64.b64decode(self.sealed["ciphertext"]))


def thread_customer(conversation_id: str, stored: dict) -> str:
    """The customer key of a stored thread (the ``threads`` table's erasure): tenant and customer id."""
    return customer_key(stored["tenant"], stored["customer_id"])


def thread_of(event: ConversationReceived, previous: Optional[Thread] = None) -> Thread:
    """The thread after ``event``; message ids accumulate over a conversation's deliveries."""
    conversation = event.conversation
    ids = list(previous.message_ids) if previous else []
    for message in conversation.messages:
        if message.message_id not in ids:
            ids.append(message.message_id)
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    latest_customer = next((m.message_id for m in reversed(conversation.messages)
                            if m.author_role == AuthorRole.customer), None)
    original = conversation.original
    sealed = None
    if original is not None:
        sealed = {"key_id": original.key_id, "algorithm": original.algorithm,
                  "nonce": base64.b64encode(original.nonce).decode("ascii"),
                  "ciphertext": base64.b64encode(original.ciphertext).decode("ascii")}
    return Thread(
        tenant=event.tenant, source=conversation.source, external_id=conversation.external_id,
        channel=conversation.channel, locale=event.locale, customer_id=conversation.customer.customer_id,
        message_ids=tuple(ids),
        latest_customer_message_id=latest_customer or (previous.latest_customer_message_id if previous else None),
        sealed=sealed or (previous.sealed if previous else None),
        automated=conversation.automated,
    )
