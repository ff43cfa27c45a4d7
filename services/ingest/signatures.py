"""Webhook authenticity, per source, as each platform defines it.

* **Zendesk** - ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret,
  ``X-Zendesk-Webhook-Signature-Timestamp`` + raw body)). Timestamps older than
  ``max_skew`` are refused (replay).
* **Intercom** - ``X-Hub-Signature`` = ``sha1=`` + hex HMAC-SHA1(app client
  secret, raw body).
* **Freshdesk, ServiceNow, e-mail gateways, generic** - the platforms sign
  nothing, so the bridge requires a shared token in ``X-Casetrail-Token``
  (configure it as a custom header of the Freshdesk webhook / ServiceNow REST
  message). Compared in constant time.

Secrets come from ``CASETRAIL_WEBHOOK_SECRET_<SOURCE>`` (e.g.
``CASETRAIL_WEBHOOK_SECRET_ZENDESK``). A source without a secret is refused:
the bridge never accepts unauthenticated tickets by accident.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from typing import Mapping, Optional

TOKEN_HEADER = "x-casetrail-token"
SECRET_ENV_PREFIX = "CASETRAIL_WEBHOOK_SECRET_"


class SignatureError(Exception):
    """The request is not provably from the platform; the message says exactly why."""


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def intercom_signature(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def secrets_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    return {k[len(SECRET_ENV_PREFIX):].lower(): v for k, v in environ.items() if k.startswith(SECRET_ENV_PREFIX) and v}


def verify(source: str, headers: Mapping[str, str], body: bytes, secret: Optional[str], *,
           now: Optional[float] = None, max_skew: float = 300.0) -> None:
    if not secret:
        raise SignatureError(f"no secret configured for source {source!r} ({SECRET_ENV_PREFIX}{source.upper()})")
    if source == "zendesk":
        signature = _header(headers, "x-zendesk-webhook-signature")
        timestamp = _header(headers, "x-zendesk-webhook-signature-timestamp")
        if not signature or not timestamp:
            raise SignatureError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp header")
        try:
            from services.ingest.connectors.base import parse_time

            sent = parse_time(timestamp, field_name="timestamp", source="zendesk").timestamp()
        except Exception:
            raise SignatureError("X-Zendesk-Webhook-Signature-Timestamp is not a timestamp") from None
        if abs((now or time.time()) - sent) > max_skew:
            raise SignatureError(f"X-Zendesk-Webhook-Signature-Timestamp is more than {int(max_skew)} s from now")
        if not hmac.compare_digest(signature, zendesk_signature(secret, timestamp, body)):
            raise SignatureError("X-Zendesk-Webhook-Signature does not match the body")
        return
    if source == "intercom":
        signature = _header(headers, "x-hub-signature")
        if not signature:
            raise SignatureError("missing X-Hub-Signature header")
        if not hmac.compare_digest(signature, intercom_signature(secret, body)):
            raise SignatureError("X-Hub-Signature does not match the body")
        return
    token = _header(headers, TOKEN_HEADER)
    if not token:
        raise SignatureError(f"{source} signs nothing: send the shared token in the X-Casetrail-Token header")
    if not hmac.compare_digest(token.encode(), secret.encode()):
        raise SignatureError("X-Casetrail-Token does not match")
