"""Retention removes whole expired chains of a tenant; what remains still verifies."""

import datetime as dt

from services.audit.offline import synthetic


def test_purge_expired_keeps_other_tenants_and_verifies(store):
    store.ingest(list(synthetic.event_log(400, seed=2)))
    before = store.counts()
    now = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    removed = store.purge_expired(lambda tenant: dt.timedelta(days=30) if tenant == "globex" else dt.timedelta(days=3650),
                                  now=now)
    assert removed > 0
    assert store.search("globex") == [] and store.search("acme-shop")
    assert store.counts()["events"] < before["events"]
    assert store.verify() == []
