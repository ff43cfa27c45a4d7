"""casetrail.privacy.keystore - the API the audit service uses for crypto-shredding.

The same tests run on both backends: the SQLite file (development) and PostgreSQL (the store all pods
share; a real server from tests/support/postgres.py, never skipped).
"""

import datetime as dt
import multiprocessing

import pytest
import sqlalchemy as sa

from casetrail.privacy.keystore import KeyErased, KeyStore, KeyStoreBusy, MasterKeyMismatch, UnknownKey


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    """Where a key store lives: a SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "keys.sqlite")
    return request.getfixturevalue("postgres_url")


def _rows(store: KeyStore, key_id: str):
    engine = sa.create_engine(store.url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT subject, key FROM customer_keys WHERE key_id = :k"),
                                      {"k": key_id}).fetchall()
    finally:
        engine.dispose()


def test_seal_open_roundtrip_with_one_key_per_customer(location):
    store = KeyStore(location)
    a = store.seal("acme", "c-1", "Grüße, Jūratė")
    b = store.seal("acme", "c-1", "second")
    other = store.seal("acme", "c-2", "third")
    assert a.key_id == b.key_id != other.key_id
    assert a.nonce != b.nonce and b"Jur" not in a.ciphertext
    assert store.open(a) == "Grüße, Jūratė"
    assert store.open_bytes(store.seal_bytes("acme", "c-1", b"\x00raw\xff")) == b"\x00raw\xff"


def test_the_store_never_holds_a_customer_id_in_clear(location):
    store = KeyStore(location)
    sealed = store.seal("acme", "customer-jane@example.com", "x")
    [(subject, _key)] = _rows(store, sealed.key_id)
    assert "jane" not in subject and len(subject) == 64


def test_erase_makes_data_unreadable_and_is_recorded(location):
    store = KeyStore(location)
    sealed = store.seal("acme", "c-1", "secret")
    key_id = store.erase("acme", "c-1")
    assert key_id == sealed.key_id and store.is_erased(key_id)
    with pytest.raises(KeyErased):
        store.open(sealed)
    # another process/connection sees the erasure too (no cache)
    with pytest.raises(KeyErased):
        KeyStore(location).open(sealed)
    # nothing identifying is left in the table for that key
    assert _rows(store, key_id) == [(None, None)]
    # the customer writing again gets a fresh key
    assert store.seal("acme", "c-1", "new").key_id != key_id


def test_erased_key_bytes_are_not_left_in_the_database_files(location, tmp_path):
    """SQLite: secure_delete + WAL truncation. PostgreSQL: VACUUM after erasure; measured on the heap
    file after a CHECKPOINT (PostgreSQL does not promise it; WAL segments keep the old row version
    until recycled: docs/security.md)."""
    store = KeyStore(location)
    sealed = [store.seal("acme", f"c-{n}", "x") for n in range(5)]
    raw = {}
    engine = sa.create_engine(store.url)
    with engine.connect() as connection:
        for s in sealed:
            raw[s.key_id] = bytes(connection.execute(
                sa.text("SELECT key FROM customer_keys WHERE key_id = :k"), {"k": s.key_id}).scalar())
    store.erase("acme", "c-2")
    gone, kept = raw[sealed[2].key_id], raw[sealed[3].key_id]
    if store.backend == "sqlite":
        files = [store.path, store.path.with_name(store.path.name + "-wal")]
        content = b"".join(f.read_bytes() for f in files if f.exists())
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CHECKPOINT")
            path = connection.execute(sa.text("SELECT pg_relation_filepath('customer_keys')")).scalar()
            content = bytes(connection.execute(sa.text("SELECT pg_read_binary_file(:p)"), {"p": path}).scalar())
    engine.dispose()
    assert kept in content  # the scan can see a key
    assert gone not in content


def test_erase_of_unknown_customer_returns_a_tombstone(location):
    store = KeyStore(location)
    key_id = store.erase("acme", "never-seen")
    assert store.is_erased(key_id)
    with pytest.raises(UnknownKey):
        store.is_erased("nope")


def test_tampered_ciphertext_and_foreign_tenant_do_not_open(location):
    store = KeyStore(location)
    sealed = store.seal("acme", "c-1", "secret")
    assert store.seal("other-tenant", "c-1", "x").key_id != sealed.key_id
    tampered = sealed.model_copy(update={"ciphertext": sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])})
    with pytest.raises(Exception):
        store.open(tampered)


def test_master_key_wraps_stored_keys(location):
    master = bytes(range(32))
    store = KeyStore(location, master_key=master)
    sealed = store.seal("acme", "c-1", "secret")
    assert KeyStore(location, master_key=master).open(sealed) == "secret"
    with pytest.raises(Exception):
        KeyStore(location).open(sealed)


def test_the_start_up_check_refuses_a_master_key_that_does_not_open_the_store(location):
    master = bytes(range(32))
    assert "no wrapped keys" in KeyStore(location, master_key=master).check()  # nothing to check against yet
    KeyStore(location, master_key=master).seal("acme", "c-1", "secret")
    assert "opens its newest wrapped key" in KeyStore(location, master_key=master).check()
    with pytest.raises(MasterKeyMismatch, match="does not open the keys"):
        KeyStore(location, master_key=bytes(reversed(range(32)))).check()
    with pytest.raises(MasterKeyMismatch, match="is not set"):
        KeyStore(location).check()


def test_a_store_of_unwrapped_keys_passes_the_check_with_or_without_a_master_key(location):
    KeyStore(location).seal("acme", "c-1", "secret")  # a developer's store, keys not wrapped
    assert "no wrapped keys" in KeyStore(location).check()
    assert "no wrapped keys" in KeyStore(location, master_key=bytes(range(32))).check()


def test_record_keys_are_their_own_and_expire_after_the_retention(location):
    store = KeyStore(location)
    customer = store.seal("acme", "c-1", "kept")
    letter = store.seal_record("acme", "dead-letter-1", b"raw bytes")
    assert store.seal_record("acme", "dead-letter-1", b"again").key_id == letter.key_id != customer.key_id
    assert store.open_bytes(letter) == b"raw bytes"
    assert store.expire_record_keys(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)) == 0
    assert store.expire_record_keys(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)) == 1
    with pytest.raises(KeyErased):
        store.open_bytes(letter)
    assert store.open(customer) == "kept"  # customers' keys are not the retention's to destroy
    other = store.seal_record("acme", "dead-letter-2", b"x")
    assert store.erase_record("acme", "dead-letter-2") == other.key_id and store.is_erased(other.key_id)


def _seal_many(location, results):
    store = KeyStore(location)
    results.put({store.seal("acme", "shared-customer", "x").key_id for _ in range(20)})


def test_processes_agree_on_one_key(location):
    KeyStore(location)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    workers = [ctx.Process(target=_seal_many, args=(location, results)) for _ in range(3)]
    for w in workers:
        w.start()
    ids = set().union(*(results.get(timeout=60) for _ in workers))
    for w in workers:
        w.join(timeout=60)
    assert len(ids) == 1


def test_a_server_that_is_away_is_busy_not_broken():
    """Nothing listens on port 9: a transient fault the services retry, not an unprocessable record."""
    with pytest.raises(KeyStoreBusy, match="postgresql"):
        KeyStore("postgresql+psycopg://nobody@127.0.0.1:9/none", busy_timeout=1)


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """Settings as the service builds them from CASETRAIL_ENVIRONMENT and the master key (a private data dir)."""
    from casetrail.settings import CasetrailSettings

    def settings_for(name: str, master_key=None) -> CasetrailSettings:
        monkeypatch.setenv("CASETRAIL_ENVIRONMENT", name)
        monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path))
        if master_key is None:
            monkeypatch.delenv("CASETRAIL_KEYSTORE_MASTER_KEY", raising=False)
        else:
            monkeypatch.setenv("CASETRAIL_KEYSTORE_MASTER_KEY", master_key)
        return CasetrailSettings()

    return settings_for


def test_outside_development_the_master_key_is_required(environment):
    import base64

    from casetrail.privacy.keystore import MasterKeyRequired, default_keystore
    from casetrail.settings import InvalidSettings

    with pytest.raises(MasterKeyRequired, match="CASETRAIL_KEYSTORE_MASTER_KEY is required outside development"):
        default_keystore(environment("production"))
    with pytest.raises(InvalidSettings, match="CASETRAIL_KEYSTORE_MASTER_KEY: .*not base64"):
        environment("production", master_key="not base64!")
    with pytest.raises(InvalidSettings, match="CASETRAIL_KEYSTORE_MASTER_KEY: .*16 bytes"):
        environment("production", master_key=base64.b64encode(b"k" * 16).decode())
    config = environment("production", master_key=base64.b64encode(b"k" * 32).decode())
    sealed = default_keystore(config).seal("acme", "c-1", "secret")
    assert default_keystore(config).open(sealed) == "secret"
    assert default_keystore(config).path == config.data_dir / "keys.sqlite"


def test_the_shared_store_url_decides_the_backend(environment, monkeypatch, postgres_url):
    import base64

    from casetrail.privacy.keystore import default_keystore

    monkeypatch.setenv("CASETRAIL_KEYSTORE_URL", postgres_url)
    config = environment("production", master_key=base64.b64encode(b"k" * 32).decode())
    store = default_keystore(config)
    assert store.backend == "postgresql" and store.path is None
    sealed = store.seal("acme", "c-1", "secret")
    assert default_keystore(config).open(sealed) == "secret"
    assert not (config.data_dir / "keys.sqlite").exists()


def test_in_development_the_master_key_is_optional(environment):
    from casetrail.privacy.keystore import default_keystore

    store = default_keystore(environment("development"))
    assert store.open(store.seal("acme", "c-1", "secret")) == "secret"


def test_a_table_another_process_created_meanwhile_is_not_an_error(tmp_path, monkeypatch):
    """Every service migrates the shared store at start-up at the same moment; the loser of the
    CREATE TABLE race must start, not refuse (seen in the fault run: 'table customer_keys already exists')."""
    from casetrail.privacy import key_tables

    real_create_all = key_tables.METADATA.create_all
    raced = []

    def create_all_losing_the_race(engine, *args, **kwargs):
        if not raced:
            raced.append(True)
            real_create_all(engine)  # the other process wins...
            with engine.begin() as connection:  # ...and this one's CREATE fails as it would
                connection.execute(sa.text("CREATE TABLE customer_keys (key_id VARCHAR(32))"))
        return real_create_all(engine, *args, **kwargs)

    monkeypatch.setattr(key_tables.METADATA, "create_all", create_all_losing_the_race)
    store = KeyStore(tmp_path / "keys.sqlite")
    assert raced and store.open(store.seal("acme", "c-1", "x")) == "x"
