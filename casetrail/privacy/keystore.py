"""Per-customer keys for crypto-shredding.

The Kafka log is append-only, so personal data that must stay (a ticket's
original, unredacted text) travels only sealed with a key of its own customer.
Erasing that key erases every copy of the data, in every topic and backup,
at once. Ingest seals; the audit service erases.

    store = KeyStore()                                   # settings().data_dir / "keys.sqlite"
    sealed = store.seal("acme-shop", "cust-42", "original text")   # -> EncryptedText
    store.open(sealed)                                   # -> "original text"
    store.erase("acme-shop", "cust-42")                  # -> key_id; open() now raises KeyErased

Design notes (why it is built this way):

* AES-256-GCM (``cryptography``), a fresh 96-bit nonce per seal, the key id as
  associated data so a ciphertext cannot be replayed under another key.
* One SQLite file shared by every process on the host: WAL mode with a busy
  timeout; a partial unique index keeps exactly one live key per customer even
  when two processes create it at the same moment.
* The file never holds a customer id in clear: customers are looked up by
  SHA-256 of (tenant, customer id), and erasure clears even that hash, leaving
  only a tombstone (key id + erasure time) so ``open`` can say *erased* rather
  than *unknown*.
* Erasure overwrites: ``secure_delete`` zeroes freed content and the WAL is
  checkpointed and truncated, so the key bytes do not linger in the files.
* Optional envelope encryption: with a master key (constructor argument, or
  ``CASETRAIL_KEYSTORE_MASTER_KEY`` = base64 of 32 bytes for
  ``default_keystore()``) the per-customer keys are stored wrapped, so a copy of
  the SQLite file alone opens nothing. Outside development
  (``CASETRAIL_ENVIRONMENT=production``) ``default_keystore()`` refuses to run
  without one: unwrapped keys are for a developer's machine only.
* No in-process key cache: an erasure done by another process takes effect on
  the next call everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casetrail.events.conversation import EncryptedText

if TYPE_CHECKING:
    from casetrail.settings import CasetrailSettings

ALGORITHM = "AES-256-GCM"
MASTER_KEY_ENV = "CASETRAIL_KEYSTORE_MASTER_KEY"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customer_keys (
    key_id      TEXT PRIMARY KEY,
    subject     TEXT,            -- sha256(tenant, customer id); NULL once erased
    key         BLOB,            -- 32 bytes, or wrapped with the master key; NULL once erased
    wrapped     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    erased_at   TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_key_per_subject
    ON customer_keys(subject) WHERE erased_at IS NULL;
"""


class KeyStoreError(Exception):
    """Base class of key store errors."""


class KeyErased(KeyStoreError):
    """The customer's key was destroyed: the sealed data is gone for good."""

    def __init__(self, key_id: str, erased_at: str):
        super().__init__(f"key {key_id} was erased at {erased_at}")
        self.key_id = key_id
        self.erased_at = erased_at


class KeyStoreBusy(KeyStoreError):
    """The key store could not be written in time (another writer holds its lock): try again later."""


class UnknownKey(KeyStoreError, KeyError):
    """No key with this id was ever issued by this key store."""


class KeyStore:
    """Per-customer AES-256-GCM keys in a SQLite file (safe across processes)."""

    def __init__(self, path: Optional[Path | str] = None, master_key: Optional[bytes] = None,
                 busy_timeout: float = 30.0):
        if path is None:
            from casetrail.settings import settings

            path = settings().data_dir / "keys.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if master_key is not None and len(master_key) != 32:
            raise ValueError("master key must be 32 bytes (AES-256)")
        self._master = AESGCM(master_key) if master_key is not None else None
        self._local = threading.local()
        self._busy_timeout = busy_timeout  # how long a write waits for another writer's lock
        with self._connection() as db:
            db.executescript(_SCHEMA)

    # -- connections: one per thread and process ---------------------------
    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            db = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA secure_delete=ON")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
            self._local.pid = os.getpid()
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @staticmethod
    def _subject(tenant: str, customer_id: str) -> str:
        return hashlib.sha256(f"{tenant}\x00{customer_id}".encode()).hexdigest()

    @staticmethod
    def _now() -> str:
        return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")

    def _wrap(self, key_id: str, key: bytes) -> tuple[bytes, int]:
        if self._master is None:
            return key, 0
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, key, key_id.encode()), 1

    def _unwrap(self, key_id: str, stored: bytes, wrapped: int) -> bytes:
        if not wrapped:
            return stored
        if self._master is None:
            raise KeyStoreError(f"key {key_id} is wrapped with a master key and none is configured ({MASTER_KEY_ENV})")
        return self._master.decrypt(stored[:12], stored[12:], key_id.encode())

    # -- API -----------------------------------------------------------------
    def key_id_for(self, tenant: str, customer_id: str) -> Optional[str]:
        """The customer's live key id, or None when there is none."""
        row = self._connection().execute(
            "SELECT key_id FROM customer_keys WHERE subject = ? AND erased_at IS NULL",
            (self._subject(tenant, customer_id),),
        ).fetchone()
        return row[0] if row else None

    def _live_key(self, tenant: str, customer_id: str) -> tuple[str, bytes]:
        db = self._connection()
        subject = self._subject(tenant, customer_id)
        query = "SELECT key_id, key, wrapped FROM customer_keys WHERE subject = ? AND erased_at IS NULL"
        row = db.execute(query, (subject,)).fetchone()
        if row is None:
            key_id = uuid.uuid4().hex
            stored, wrapped = self._wrap(key_id, AESGCM.generate_key(bit_length=256))
            # Another process may create the key at the same moment: the partial
            # unique index lets exactly one insert win; everyone reads the winner.
            db.execute(
                "INSERT OR IGNORE INTO customer_keys(key_id, subject, key, wrapped, created_at) VALUES (?, ?, ?, ?, ?)",
                (key_id, subject, stored, wrapped, self._now()),
            )
            row = db.execute(query, (subject,)).fetchone()
        key_id, stored, wrapped = row
        return key_id, self._unwrap(key_id, stored, wrapped)

    def seal(self, tenant: str, customer_id: str, plaintext: str) -> EncryptedText:
        """Encrypt ``plaintext`` under the customer's key (created on first use).

        Raises ``KeyStoreBusy`` when the store stayed locked past its busy timeout (a transient fault:
        the caller retries rather than losing the record)."""
        try:
            key_id, key = self._live_key(tenant, customer_id)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise KeyStoreBusy(f"key store {self.path} is locked: {exc}") from exc
            raise
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), key_id.encode())
        return EncryptedText(key_id=key_id, algorithm=ALGORITHM, nonce=nonce, ciphertext=ciphertext)

    def open(self, sealed: EncryptedText) -> str:
        """Decrypt; raises ``KeyErased`` once the customer's key was erased."""
        if sealed.algorithm != ALGORITHM:
            raise KeyStoreError(f"unsupported algorithm {sealed.algorithm!r}")
        row = self._connection().execute(
            "SELECT key, wrapped, erased_at FROM customer_keys WHERE key_id = ?", (sealed.key_id,)
        ).fetchone()
        if row is None:
            raise UnknownKey(sealed.key_id)
        stored, wrapped, erased_at = row
        if erased_at is not None:
            raise KeyErased(sealed.key_id, erased_at)
        key = self._unwrap(sealed.key_id, stored, wrapped)
        return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, sealed.key_id.encode()).decode("utf-8")

    def is_erased(self, key_id: str) -> bool:
        row = self._connection().execute("SELECT erased_at FROM customer_keys WHERE key_id = ?", (key_id,)).fetchone()
        if row is None:
            raise UnknownKey(key_id)
        return row[0] is not None

    def erase(self, tenant: str, customer_id: str) -> str:
        """Destroy the customer's key; returns its id (for the audit record).

        Idempotent in effect: a customer without a live key (never seen, or
        already erased) gets a tombstone with a fresh id, so the caller always
        has a key id to record and ``is_erased`` answers True for it. A customer
        who writes again afterwards gets a new key.
        """
        db = self._connection()
        subject = self._subject(tenant, customer_id)
        now = self._now()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT key_id FROM customer_keys WHERE subject = ? AND erased_at IS NULL", (subject,)
            ).fetchone()
            if row is None:
                key_id = uuid.uuid4().hex
                db.execute(
                    "INSERT INTO customer_keys(key_id, subject, key, wrapped, created_at, erased_at)"
                    " VALUES (?, NULL, NULL, 0, ?, ?)",
                    (key_id, now, now),
                )
            else:
                key_id = row[0]
                db.execute(
                    "UPDATE customer_keys SET key = NULL, subject = NULL, erased_at = ? WHERE key_id = ?",
                    (now, key_id),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        # Move the overwritten pages out of the WAL into the (secure-deleted)
        # main file and truncate the WAL, so the key bytes do not linger.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return key_id


class MasterKeyRequired(KeyStoreError):
    """Outside development the per-customer keys are never stored unwrapped."""


def default_keystore(config: Optional["CasetrailSettings"] = None) -> KeyStore:
    """The key store at ``config.data_dir / "keys.sqlite"``, wrapped with ``config.keystore_master_key``
    (``CASETRAIL_KEYSTORE_MASTER_KEY``, validated as base64 of 32 bytes by the settings).

    The master key is optional only when ``CASETRAIL_ENVIRONMENT`` is ``development``.
    """
    if config is None:
        from casetrail.settings import settings

        config = settings()
    if config.keystore_master_key is None and config.environment != "development":
        raise MasterKeyRequired(f"{MASTER_KEY_ENV} is required outside development (CASETRAIL_ENVIRONMENT="
                                f"{config.environment}): base64 of 32 random bytes, from a secret store")
    return KeyStore(config.data_dir / "keys.sqlite", master_key=config.keystore_master_key_bytes)
