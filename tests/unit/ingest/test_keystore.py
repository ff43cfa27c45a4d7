"""casetrail.privacy.keystore - the API the audit service uses for crypto-shredding."""

import multiprocessing
import sqlite3

import pytest

from casetrail.privacy.keystore import KeyErased, KeyStore, UnknownKey


def test_seal_open_roundtrip_with_one_key_per_customer(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    a = store.seal("acme", "c-1", "Grüße, Jūratė")
    b = store.seal("acme", "c-1", "second")
    other = store.seal("acme", "c-2", "third")
    assert a.key_id == b.key_id != other.key_id
    assert a.nonce != b.nonce and b"Jur" not in a.ciphertext
    assert store.open(a) == "Grüße, Jūratė"


def test_erase_makes_data_unreadable_and_is_recorded(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    sealed = store.seal("acme", "c-1", "secret")
    key_id = store.erase("acme", "c-1")
    assert key_id == sealed.key_id and store.is_erased(key_id)
    with pytest.raises(KeyErased):
        store.open(sealed)
    # another process/connection sees the erasure too (no cache)
    with pytest.raises(KeyErased):
        KeyStore(tmp_path / "keys.sqlite").open(sealed)
    # nothing identifying is left in the file for that key
    row = sqlite3.connect(tmp_path / "keys.sqlite").execute(
        "SELECT subject, key FROM customer_keys WHERE key_id = ?", (key_id,)).fetchone()
    assert row == (None, None)
    # the customer writing again gets a fresh key
    assert store.seal("acme", "c-1", "new").key_id != key_id


def test_erase_of_unknown_customer_returns_a_tombstone(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    key_id = store.erase("acme", "never-seen")
    assert store.is_erased(key_id)
    with pytest.raises(UnknownKey):
        store.is_erased("nope")


def test_tampered_ciphertext_and_foreign_tenant_do_not_open(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    sealed = store.seal("acme", "c-1", "secret")
    assert store.seal("other-tenant", "c-1", "x").key_id != sealed.key_id
    tampered = sealed.model_copy(update={"ciphertext": sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])})
    with pytest.raises(Exception):
        store.open(tampered)


def test_master_key_wraps_stored_keys(tmp_path):
    master = bytes(range(32))
    store = KeyStore(tmp_path / "keys.sqlite", master_key=master)
    sealed = store.seal("acme", "c-1", "secret")
    assert KeyStore(tmp_path / "keys.sqlite", master_key=master).open(sealed) == "secret"
    with pytest.raises(Exception):
        KeyStore(tmp_path / "keys.sqlite").open(sealed)


def _seal_many(path, results):
    store = KeyStore(path)
    results.put({store.seal("acme", "shared-customer", "x").key_id for _ in range(20)})


def test_processes_agree_on_one_key(tmp_path):
    path = tmp_path / "keys.sqlite"
    KeyStore(path)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    workers = [ctx.Process(target=_seal_many, args=(path, results)) for _ in range(3)]
    for w in workers:
        w.start()
    ids = set().union(*(results.get(timeout=60) for _ in workers))
    for w in workers:
        w.join(timeout=60)
    assert len(ids) == 1


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


def test_in_development_the_master_key_is_optional(environment):
    from casetrail.privacy.keystore import default_keystore

    store = default_keystore(environment("development"))
    assert store.open(store.seal("acme", "c-1", "secret")) == "secret"
