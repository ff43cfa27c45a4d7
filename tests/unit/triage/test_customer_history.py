import datetime as dt

import numpy as np

from services.triage.customer_history import (
    HistorySettings, contacts_in_window, decode_embedding, encode_embedding, find_duplicate, record_contact,
    sentiment_trend,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def _unit(seed):
    v = np.random.default_rng(seed).normal(size=384).astype(np.float32)
    return v / np.linalg.norm(v)


def _add(history, cid, at, sentiment=0.0, text_hash="", emb=None):
    return record_contact(history, conversation_id=cid, at=at, sentiment=sentiment, intent="order_status",
                          content_hash=text_hash, embedding=emb)


def test_embedding_round_trip_keeps_cosine():
    v = _unit(1)
    assert float(decode_embedding(encode_embedding(v)) @ v) > 0.999
    assert decode_embedding(encode_embedding(None)) is None


def test_same_text_or_similar_embedding_within_window_is_a_duplicate():
    v = _unit(2)
    history = _add({}, "c1", T0, text_hash="h1", emb=v)
    assert find_duplicate(history, "c2", "h1", _unit(9), T0 + dt.timedelta(hours=1)) == ("c1", 1.0)
    near = v + 0.05 * _unit(3)
    near /= np.linalg.norm(near)
    dup, similarity = find_duplicate(history, "c2", "other", near, T0 + dt.timedelta(hours=1))
    assert dup == "c1" and similarity > 0.93
    # a different question is not a duplicate; neither is the same conversation redelivered
    assert find_duplicate(history, "c2", "other", _unit(4), T0)[0] is None
    assert find_duplicate(history, "c1", "h1", v, T0)[0] is None
    # outside the duplicate window it is a new contact, not a duplicate
    assert find_duplicate(history, "c2", "h1", v, T0 + dt.timedelta(days=4))[0] is None


def test_contacts_count_distinct_conversations_in_window_and_redelivery_does_not_double_count():
    history = {}
    for day, cid in enumerate(["a", "b", "c"]):
        history = _add(history, cid, T0 + dt.timedelta(days=day))
    history = _add(history, "c", T0 + dt.timedelta(days=2))  # redelivered
    assert contacts_in_window(history, T0 + dt.timedelta(days=2)) == 3
    assert contacts_in_window(history, T0 + dt.timedelta(days=30, hours=1)) == 2  # "a" fell out of the window
    later = _add(history, "z", T0 + dt.timedelta(days=200))
    assert [e["conversation_id"] for e in later["entries"]] == ["z"]  # retention prunes


def test_sentiment_trend_is_recent_minus_earlier():
    history = {}
    for i, s in enumerate([0.5, 0.4, -0.6, -0.8]):
        history = _add(history, f"c{i}", T0 + dt.timedelta(days=i), sentiment=s)
    assert sentiment_trend(history, T0 + dt.timedelta(days=3)) == round(-0.7 - 0.45, 4)
    assert sentiment_trend(_add({}, "x", T0, sentiment=-1), T0) == 0.0


def test_settings_are_respected():
    settings = HistorySettings(duplicate_window=dt.timedelta(hours=1))
    history = _add({}, "c1", T0, text_hash="h")
    assert find_duplicate(history, "c2", "h", None, T0 + dt.timedelta(hours=2), settings)[0] is None
