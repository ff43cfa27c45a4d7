"""The key state is filed under for one customer: a hash of tenant and customer id, never the id.

Ingest's per-customer state (and the events that carry it between its stages) has always been keyed
by this hash; erasure (``casetrail.runtime.erasure``) turns a ``PersonalDataErased`` into the same
hash, so every table can tell its entries of that customer, whether it holds the id or only the hash.
"""

from __future__ import annotations

import hashlib

CUSTOMER_KEY_LENGTH = 32  # hex digits of SHA-256 kept: 128 bits, as ingest has always written them


def customer_key(tenant: str, customer_id: str) -> str:
    """``sha256(tenant NUL customer_id)``, the first 32 hex digits (NUL: no tenant/id pair can collide)."""
    return hashlib.sha256(f"{tenant}\x00{customer_id}".encode()).hexdigest()[:CUSTOMER_KEY_LENGTH]
