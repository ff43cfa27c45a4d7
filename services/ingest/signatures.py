"""Webhook authenticity: which tenant's secret signed this body, and is it fresh.

The signature decides the tenant: secrets are configured per (tenant, source), and
the bridge tries the source's secrets until one verifies. A body signed for one
tenant can therefore never be replayed into another (a ``?tenant=`` hint only
narrows the candidates; it never widens them).

Schemes, per platform (as each documents it today):

* **Zendesk** - ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret,
  ``X-Zendesk-Webhook-Signature-Timestamp`` + raw body)). The timestamp must lie
  within ``window`` of now.
* **Intercom** - ``X-Hub-Signature`` = ``sha1=`` + hex HMAC-SHA1(app client
  secret, raw body). Intercom signs no timestamp, so freshness comes from the
  signed body: a ``notification_event``'s ``created_at`` (or ``first_sent_at``)
  must lie within ``intercom_window``; its ``id`` is the nonce.
* **Everything else** (Freshdesk apps and automation webhooks, ServiceNow
  outbound REST, e-mail gateways, in-house systems): casetrail's own scheme,
  ``X-Casetrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
  (the Stripe layout; several ``v1=`` values allowed during secret rotation).
  A secret configured with ``scheme: token`` instead accepts a static
  ``X-Casetrail-Token`` (for a Freshdesk automation rule, which can only send
  fixed headers): weaker, documented, opt-in per secret.

Replay: every accepted request leaves a nonce (the signature itself, Intercom's
notification id, or - for static tokens - the body's hash) in a cache for twice
the window; the same nonce again is refused. The cache is per bridge process;
across replicas, ingest's redelivery check drops the duplicate ticket anyway.

Any malformed header (non-ASCII, bad base64, missing parts) is a ``SignatureError``
(401), never a server error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from cachetools import TTLCache

TOKEN_HEADER = "x-casetrail-token"
SIGNATURE_HEADER = "x-casetrail-signature"
DEFAULT_WINDOW = 300.0
INTERCOM_WINDOW = 3600.0  # Intercom retries a failed delivery later; its created_at stays the first attempt's


class SignatureError(Exception):
    """The request is not provably from the platform; the message says exactly why (never echoing secrets)."""


@dataclass(frozen=True)
class WebhookSecret:
    tenant: str
    source: str
    secret: str
    scheme: str = "hmac"  # "hmac" (the source's signature scheme) or "token" (static X-Casetrail-Token)


@dataclass(frozen=True)
class Verified:
    tenant: str
    nonce: str


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _ascii(value: Optional[str], name: str) -> Optional[bytes]:
    if value is None:
        return None
    try:
        return value.strip().encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError(f"{name} header is not ASCII") from None


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def intercom_signature(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def casetrail_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class ReplayCache:
    """Nonces seen within the window (bounded; thread-safe)."""

    def __init__(self, ttl: float, maxsize: int = 200_000):
        self._seen: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()

    def seen(self, key: str) -> bool:
        with self._lock:
            return key in self._seen

    def remember(self, key: str) -> None:
        with self._lock:
            self._seen[key] = True


class Verifier:
    def __init__(self, secrets: Iterable[WebhookSecret], *, window: float = DEFAULT_WINDOW,
                 intercom_window: float = INTERCOM_WINDOW, clock=time.time):
        self.by_source: dict[str, list[WebhookSecret]] = {}
        seen: dict[tuple[str, str], str] = {}
        for entry in secrets:
            if not entry.secret:
                continue
            other = seen.get((entry.source, entry.secret))
            if other is not None and other != entry.tenant:
                raise ValueError(f"tenants {other!r} and {entry.tenant!r} share a {entry.source} webhook secret: "
                                 "the signature could not tell them apart")
            seen[(entry.source, entry.secret)] = entry.tenant
            self.by_source.setdefault(entry.source, []).append(entry)
        self.window = window
        self.intercom_window = intercom_window
        self.clock = clock
        self.replays = ReplayCache(ttl=2 * max(window, intercom_window))

    def sources(self) -> set[str]:
        return set(self.by_source)

    def verify(self, source: str, headers: Mapping[str, str], body: bytes, tenant_hint: Optional[str] = None) -> Verified:
        """The tenant whose secret signed ``body``; raises ``SignatureError``. Does not record the nonce."""
        candidates = [s for s in self.by_source.get(source, ()) if tenant_hint in (None, "", s.tenant)]
        if not candidates:
            raise SignatureError(f"no webhook secret configured for source {source!r}"
                                 + (" and this tenant" if tenant_hint else ""))
        hmac_secrets = [s for s in candidates if s.scheme == "hmac"]
        token_secrets = [s for s in candidates if s.scheme == "token"]
        if source == "zendesk":
            verified = self._zendesk(headers, body, hmac_secrets)
        elif source == "intercom":
            verified = self._intercom(headers, body, hmac_secrets)
        elif _header(headers, SIGNATURE_HEADER) is not None or not token_secrets:
            verified = self._casetrail(headers, body, hmac_secrets)
        else:
            verified = self._token(headers, body, token_secrets)
        if self.replays.seen(f"{source}:{verified.tenant}:{verified.nonce}"):
            raise SignatureError("this signed request was already accepted (replay)")
        return verified

    def accept(self, source: str, verified: Verified) -> None:
        """Record the nonce once the request's ticket is safely published."""
        self.replays.remember(f"{source}:{verified.tenant}:{verified.nonce}")

    # -- schemes -------------------------------------------------------------
    def _fresh(self, sent: float, window: float, what: str) -> None:
        if abs(self.clock() - sent) > window:
            raise SignatureError(f"{what} is more than {int(window)} s from now")

    def _zendesk(self, headers, body, secrets) -> Verified:
        signature = _ascii(_header(headers, "x-zendesk-webhook-signature"), "X-Zendesk-Webhook-Signature")
        timestamp = _ascii(_header(headers, "x-zendesk-webhook-signature-timestamp"), "X-Zendesk-Webhook-Signature-Timestamp")
        if not signature or not timestamp:
            raise SignatureError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp header")
        from services.ingest.connectors.base import parse_time
        from services.ingest.rejections import Rejected

        try:
            sent = parse_time(timestamp.decode(), field_name="timestamp", source="zendesk").timestamp()
        except (Rejected, ValueError, OverflowError):
            raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp is not a timestamp") from None
        self._fresh(sent, self.window, "X-Zendesk-Webhook-Signature-Timestamp")
        for entry in secrets:
            expected = zendesk_signature(entry.secret, timestamp.decode(), body).encode()
            if hmac.compare_digest(signature, expected):
                return Verified(entry.tenant, signature.decode())
        raise SignatureError("X-Zendesk-Webhook-Signature does not match the body")

    def _intercom(self, headers, body, secrets) -> Verified:
        signature = _ascii(_header(headers, "x-hub-signature"), "X-Hub-Signature")
        if not signature:
            raise SignatureError("missing X-Hub-Signature header")
        match = next((e for e in secrets if hmac.compare_digest(signature, intercom_signature(e.secret, body).encode())), None)
        if match is None:
            raise SignatureError("X-Hub-Signature does not match the body")
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict) or doc.get("type") != "notification_event":
            raise SignatureError("Intercom signs no timestamp: only notification_event bodies (created_at, id) are accepted")
        sent = doc.get("first_sent_at") or doc.get("created_at")
        if isinstance(sent, bool) or not isinstance(sent, (int, float)):
            raise SignatureError("Intercom notification has no created_at to check freshness against")
        self._fresh(float(sent), self.intercom_window, "the notification's created_at")
        nonce = doc.get("id")
        return Verified(match.tenant, str(nonce) if nonce else signature.decode())

    def _casetrail(self, headers, body, secrets) -> Verified:
        raw = _ascii(_header(headers, SIGNATURE_HEADER), "X-Casetrail-Signature")
        if not raw:
            raise SignatureError("missing X-Casetrail-Signature header (t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.\" + body>)")
        timestamp = None
        macs: list[bytes] = []
        for item in raw.split(b","):
            key, _, value = item.strip().partition(b"=")
            if key == b"t" and value.isdigit() and len(value) <= 12:
                timestamp = int(value)
            elif key == b"v1" and value:
                macs.append(value)
        if timestamp is None or not macs:
            raise SignatureError("X-Casetrail-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>")
        self._fresh(float(timestamp), self.window, "X-Casetrail-Signature's t")
        for entry in secrets:
            expected = casetrail_signature(entry.secret, timestamp, body).split(",v1=")[1].encode()
            if any(hmac.compare_digest(mac, expected) for mac in macs):
                return Verified(entry.tenant, raw.decode())
        raise SignatureError("X-Casetrail-Signature does not match the body")

    def _token(self, headers, body, secrets) -> Verified:
        token = _ascii(_header(headers, TOKEN_HEADER), "X-Casetrail-Token")
        if not token:
            raise SignatureError("send X-Casetrail-Signature, or the shared token in the X-Casetrail-Token header")
        for entry in secrets:
            if hmac.compare_digest(token, entry.secret.encode()):
                return Verified(entry.tenant, "sha256:" + hashlib.sha256(body).hexdigest())
        raise SignatureError("X-Casetrail-Token does not match")


def load_secrets(path: Optional[Path], per_source: Mapping[str, str], default_tenant: str) -> list[WebhookSecret]:
    """Secrets from the file at ``path`` (``CASETRAIL_WEBHOOK_SECRETS_FILE``; YAML: a list of {tenant, source,
    secret, scheme?}) plus ``per_source`` ({source: secret}, from ``CASETRAIL_WEBHOOK_SECRET_<SOURCE>``) for
    the default tenant (single-tenant installs); both come from ``services.ingest.settings``."""
    entries: list[WebhookSecret] = []
    if path:
        import yaml

        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or []
        if not isinstance(document, list):
            raise ValueError(f"{path}: expected a list of {{tenant, source, secret, scheme}} entries")
        for index, item in enumerate(document):
            if not isinstance(item, Mapping) or not all(item.get(k) for k in ("tenant", "source", "secret")):
                raise ValueError(f"{path}: entry {index} needs tenant, source and secret")
            scheme = str(item.get("scheme") or "hmac")
            if scheme not in ("hmac", "token"):
                raise ValueError(f"{path}: entry {index} has scheme {scheme!r}; use hmac or token")
            entries.append(WebhookSecret(str(item["tenant"]), str(item["source"]).lower(), str(item["secret"]), scheme))
    for source, value in per_source.items():
        if value:
            scheme = "hmac" if source in ("zendesk", "intercom") else "token"
            entries.append(WebhookSecret(default_tenant, source, value, scheme))
    return entries
