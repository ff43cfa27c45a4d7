"""Per-customer keys for crypto-shredding.

The Kafka log is append-only, so personal data that must stay (a ticket's
original, unredacted text, an intake payload, a dead letter's original bytes)
travels only sealed with a key of its own customer. Erasing that key erases
every copy of the data, in every topic and backup, at once. Ingest and the
webhook bridge seal; every service's dead-letter path seals; the audit service erases.

    store = KeyStore()                                   # settings().data_dir / "keys.sqlite"
    store = KeyStore("postgresql+psycopg://...")         # one store shared by every pod
    sealed = store.seal("acme-shop", "cust-42", "original text")   # -> EncryptedText
    store.open(sealed)                                   # -> "original text"
    store.erase("acme-shop", "cust-42")                  # -> key_id; open() now raises KeyErased

Design notes (why it is built this way):

* AES-256-GCM (``cryptography``), a fresh 96-bit nonce per seal, the key id as
  associated data so a ciphertext cannot be replayed under another key.
* One table on SQLAlchemy Core (``key_tables.py``): a SQLite file for
  development (WAL, busy timeout), PostgreSQL shared by all pods in a cluster.
  A partial unique index keeps exactly one live key per customer even when two
  processes create it at the same moment.
* The store never holds a customer id in clear: customers are looked up by
  SHA-256 of (tenant, customer id), and erasure clears even that hash, leaving
  only a tombstone (key id + erasure time) so ``open`` can say *erased* rather
  than *unknown*.
* Erasure overwrites where the database allows it (``key_tables.scrub``: SQLite's
  ``secure_delete`` + WAL truncation; PostgreSQL's VACUUM, with what it does not
  promise written down there).
* Keys of their own (``seal_record``): a dead letter whose customer is unknown is
  sealed under a key registered for that record, destroyed after the dead-letter
  retention (``expire_record_keys``) or by ``erase_record``.
* Optional envelope encryption: with a master key (constructor argument, or
  ``CASETRAIL_KEYSTORE_MASTER_KEY`` = base64 of 32 bytes for
  ``default_keystore()``) the per-customer keys are stored wrapped, so a copy of
  the database alone opens nothing. Outside development
  (``CASETRAIL_ENVIRONMENT=production``) ``default_keystore()`` refuses to run
  without one: unwrapped keys are for a developer's machine only.
* No in-process key cache: an erasure done by another process takes effect on
  the next call everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casetrail.events.conversation import EncryptedText
from casetrail.privacy import key_tables
from casetrail.privacy.key_tables import CUSTOMER_KEYS

if TYPE_CHECKING:
    from casetrail.settings import CasetrailSettings

ALGORITHM = "AES-256-GCM"
MASTER_KEY_ENV = "CASETRAIL_KEYSTORE_MASTER_KEY"
URL_ENV = "CASETRAIL_KEYSTORE_URL"
CUSTOMER, RECORD = "customer", "record"  # what a key is for (key_tables.CUSTOMER_KEYS.purpose)

T = TypeVar("T")


class KeyStoreError(Exception):
    """Base class of key store errors."""


class KeyErased(KeyStoreError):
    """The customer's key was destroyed: the sealed data is gone for good."""

    def __init__(self, key_id: str, erased_at: str):
        super().__init__(f"key {key_id} was erased at {erased_at}")
        self.key_id = key_id
        self.erased_at = erased_at


class KeyStoreBusy(KeyStoreError):
    """The key store could not be reached or written in time (a writer holds SQLite's lock, the
    PostgreSQL server is away): a transient fault, try again later."""


class UnknownKey(KeyStoreError, KeyError):
    """No key with this id was ever issued by this key store."""


class KeyStore:
    """Per-customer AES-256-GCM keys in one SQL table (SQLite file or PostgreSQL; safe across processes)."""

    def __init__(self, location: Optional[Path | str] = None, master_key: Optional[bytes] = None,
                 busy_timeout: float = 30.0):
        if location is None:
            from casetrail.settings import settings

            location = settings().data_dir / "keys.sqlite"
        text = str(location)
        if "://" in text:  # a SQLAlchemy URL
            self.url, self.path = text, (Path(text.split("///", 1)[1]) if text.startswith("sqlite:///") else None)
        else:
            self.path = Path(location)
            self.url = key_tables.sqlite_url(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if master_key is not None and len(master_key) != 32:
            raise ValueError("master key must be 32 bytes (AES-256)")
        self._master = AESGCM(master_key) if master_key is not None else None
        self._engine = key_tables.create_engine(self.url, busy_timeout)
        self._insert = key_tables.insert_if_absent(self._engine)
        self._reads = key_tables.HotReads(self._engine, busy_timeout)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._transient(lambda: key_tables.migrate(self._engine))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        self._reads.discard()
        self._engine.dispose()

    def _transient(self, work: Callable[[], T]) -> T:
        """Run ``work``; a lock held past the busy timeout or a server away is ``KeyStoreBusy``."""
        with self._lock:
            if key_tables.forked(self._engine, self._pid):
                self._pid = os.getpid()
        try:
            return work()
        except (sa.exc.OperationalError, *self._reads.driver_operational_errors) as exc:
            cause = getattr(exc, "orig", None) or exc
            raise KeyStoreBusy(f"key store ({self.backend}) not available: {type(cause).__name__}: "
                               f"{(str(cause).splitlines() or [''])[0]}") from exc

    @staticmethod
    def _subject(tenant: str, customer_id: str) -> str:
        return hashlib.sha256(f"{tenant}\x00{customer_id}".encode()).hexdigest()

    @staticmethod
    def _record_subject(tenant: str, record_id: str) -> str:
        return hashlib.sha256(f"{tenant}\x00record\x00{record_id}".encode()).hexdigest()

    @staticmethod
    def _now() -> str:
        return _iso(dt.datetime.now(dt.timezone.utc))

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
        row = self._transient(lambda: self._live_row(self._subject(tenant, customer_id)))
        return row[0] if row else None

    def _read(self, statement: str, **params):
        return self._reads.first(statement, **params)

    def _live_row(self, subject: str) -> Optional[tuple[str, bytes, int]]:
        row = self._read("live_key", subject=subject)
        return (row[0], bytes(row[1]), row[2]) if row else None

    def _live_key(self, subject: str, purpose: str) -> tuple[str, bytes]:
        row = self._live_row(subject)
        if row is None:
            key_id = uuid.uuid4().hex
            stored, wrapped = self._wrap(key_id, AESGCM.generate_key(bit_length=256))
            # Another process may create the key at the same moment: the partial
            # unique index lets exactly one insert win; everyone reads the winner.
            with self._engine.begin() as connection:
                connection.execute(self._insert(key_id=key_id, subject=subject, key=stored, wrapped=wrapped,
                                                created_at=self._now(), purpose=purpose))
            row = self._live_row(subject)
        key_id, stored, wrapped = row
        return key_id, self._unwrap(key_id, stored, wrapped)

    def _seal(self, subject: str, purpose: str, data: bytes) -> EncryptedText:
        key_id, key = self._transient(lambda: self._live_key(subject, purpose))
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, data, key_id.encode())
        return EncryptedText(key_id=key_id, algorithm=ALGORITHM, nonce=nonce, ciphertext=ciphertext)

    def seal(self, tenant: str, customer_id: str, plaintext: str) -> EncryptedText:
        """Encrypt ``plaintext`` under the customer's key (created on first use).

        Raises ``KeyStoreBusy`` when the store stayed locked past its busy timeout or could not be
        reached (a transient fault: the caller retries rather than losing the record)."""
        return self.seal_bytes(tenant, customer_id, plaintext.encode("utf-8"))

    def seal_bytes(self, tenant: str, customer_id: str, data: bytes) -> EncryptedText:
        """``seal`` for bytes (an intake payload, a dead letter's original value)."""
        return self._seal(self._subject(tenant, customer_id), CUSTOMER, data)

    def seal_record(self, tenant: str, record_id: str, data: bytes) -> EncryptedText:
        """Encrypt under a key of the record's own (its customer is not known), registered so that it
        is destroyed after the retention (``expire_record_keys``) or by ``erase_record``."""
        return self._seal(self._record_subject(tenant, record_id), RECORD, data)

    def open(self, sealed: EncryptedText) -> str:
        """Decrypt; raises ``KeyErased`` once the customer's key was erased."""
        return self.open_bytes(sealed).decode("utf-8")

    def open_bytes(self, sealed: EncryptedText) -> bytes:
        if sealed.algorithm != ALGORITHM:
            raise KeyStoreError(f"unsupported algorithm {sealed.algorithm!r}")
        row = self._transient(lambda: self._read("key_by_id", key_id=sealed.key_id))
        if row is None:
            raise UnknownKey(sealed.key_id)
        stored, wrapped, erased_at = row
        if erased_at is not None:
            raise KeyErased(sealed.key_id, erased_at)
        key = self._unwrap(sealed.key_id, bytes(stored), wrapped)
        return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, sealed.key_id.encode())

    def check(self) -> str:
        """The start-up check: the store answers, and the configured master key opens its keys.

        Without it a wrong or missing ``CASETRAIL_KEYSTORE_MASTER_KEY`` (a rotated secret, a pod
        given another environment's secret) surfaces only at the first seal or open of an existing
        customer's key — every dead letter and sealed original of the run failing, one record at a
        time. One wrapped key, the newest, is opened; a store without wrapped keys has nothing to
        check against. Returns a line for the log; raises ``MasterKeyMismatch`` or ``KeyStoreBusy``."""
        def newest_wrapped() -> Optional[tuple[str, bytes]]:
            with self._engine.connect() as connection:
                row = connection.execute(
                    sa.select(CUSTOMER_KEYS.c.key_id, CUSTOMER_KEYS.c.key)
                    .where(CUSTOMER_KEYS.c.erased_at.is_(None), CUSTOMER_KEYS.c.wrapped == 1)
                    .order_by(CUSTOMER_KEYS.c.created_at.desc()).limit(1)).first()
            return (row[0], bytes(row[1])) if row else None

        row = self._transient(newest_wrapped)
        if row is None:
            return f"{self.backend} key store answers; no wrapped keys to check the master key against"
        key_id, stored = row
        if self._master is None:
            raise MasterKeyMismatch(f"the {self.backend} key store holds keys wrapped with a master key and "
                                    f"{MASTER_KEY_ENV} is not set: nothing sealed there could be opened")
        try:
            self._unwrap(key_id, stored, 1)
        except InvalidTag:
            raise MasterKeyMismatch(f"{MASTER_KEY_ENV} does not open the keys of the {self.backend} key store "
                                    f"(key {key_id} refused it): a different secret than the one they were "
                                    "wrapped with") from None
        return f"{self.backend} key store answers; the master key opens its newest wrapped key"

    def is_erased(self, key_id: str) -> bool:
        row = self._transient(lambda: self._read("key_by_id", key_id=key_id))
        if row is None:
            raise UnknownKey(key_id)
        return row[2] is not None

    def erase(self, tenant: str, customer_id: str) -> str:
        """Destroy the customer's key; returns its id (for the audit record).

        Idempotent in effect: a customer without a live key (never seen, or
        already erased) gets a tombstone with a fresh id, so the caller always
        has a key id to record and ``is_erased`` answers True for it. A customer
        who writes again afterwards gets a new key.
        """
        return self._erase_subject(self._subject(tenant, customer_id), CUSTOMER)

    def erase_record(self, tenant: str, record_id: str) -> str:
        """Destroy a record's own key (``seal_record``); returns its id."""
        return self._erase_subject(self._record_subject(tenant, record_id), RECORD)

    def _erase_subject(self, subject: str, purpose: str) -> str:
        now = self._now()
        # One statement: atomic on both databases, whoever else writes at the same moment.
        erase = (sa.update(CUSTOMER_KEYS)
                 .where(CUSTOMER_KEYS.c.subject == subject, CUSTOMER_KEYS.c.erased_at.is_(None))
                 .values(key=None, subject=None, erased_at=now).returning(CUSTOMER_KEYS.c.key_id))

        def run() -> str:
            with self._engine.begin() as connection:
                erased = [row[0] for row in connection.execute(erase)]
                if erased:
                    return erased[0]
                key_id = uuid.uuid4().hex
                connection.execute(sa.insert(CUSTOMER_KEYS).values(
                    key_id=key_id, subject=None, key=None, wrapped=0, created_at=now, erased_at=now, purpose=purpose))
                return key_id

        key_id = self._transient(run)
        self._transient(lambda: key_tables.scrub(self._engine))
        return key_id

    def expire_record_keys(self, created_before: dt.datetime) -> int:
        """Destroy every record key (``seal_record``) created before ``created_before`` (the dead-letter
        retention); returns how many. The customers' keys are never touched here."""
        now = self._now()
        expire = (sa.update(CUSTOMER_KEYS)
                  .where(CUSTOMER_KEYS.c.purpose == RECORD, CUSTOMER_KEYS.c.erased_at.is_(None),
                         CUSTOMER_KEYS.c.created_at < _iso(created_before))
                  .values(key=None, subject=None, erased_at=now))

        def run() -> int:
            with self._engine.begin() as connection:
                return connection.execute(expire).rowcount

        count = self._transient(run)
        if count:
            self._transient(lambda: key_tables.scrub(self._engine))
        return count


def _iso(moment: dt.datetime) -> str:
    """The stored form of a time: ISO 8601 in UTC with milliseconds (compares as text)."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


class MasterKeyMismatch(KeyStoreError):
    """The configured master key (or its absence) does not match the keys the store holds."""


class MasterKeyRequired(KeyStoreError):
    """Outside development the per-customer keys are never stored unwrapped."""


def default_keystore(config: Optional["CasetrailSettings"] = None) -> KeyStore:
    """The shared store at ``config.keystore_url`` (``CASETRAIL_KEYSTORE_URL``, e.g.
    ``postgresql+psycopg://...``), else the SQLite file ``config.data_dir / "keys.sqlite"``; keys wrapped
    with ``config.keystore_master_key`` (``CASETRAIL_KEYSTORE_MASTER_KEY``, validated as base64 of 32
    bytes by the settings).

    The master key is optional only when ``CASETRAIL_ENVIRONMENT`` is ``development``.
    """
    if config is None:
        from casetrail.settings import settings

        config = settings()
    if config.keystore_master_key is None and config.environment != "development":
        raise MasterKeyRequired(f"{MASTER_KEY_ENV} is required outside development (CASETRAIL_ENVIRONMENT="
                                f"{config.environment}): base64 of 32 random bytes, from a secret store")
    location = config.keystore_url.get_secret_value() if config.keystore_url else config.data_dir / "keys.sqlite"
    return KeyStore(location, master_key=config.keystore_master_key_bytes)
