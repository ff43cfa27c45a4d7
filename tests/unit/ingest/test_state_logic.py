"""Redelivery and re-contact decisions (pure)."""

from services.ingest.idempotency import DeliveryDeduplicator
from services.ingest.recontact import DAY, Inbound, RecontactTracker, answerer


def test_redelivery_dropped_but_reprocessing_same_record_is_not():
    d = DeliveryDeduplicator()
    first = d.observe(None, "u:2025-03-04", 1000.0, "intake:0:5")
    assert not first.duplicate
    assert d.observe(first.state, "u:2025-03-04", 1010.0, "intake:1:9").duplicate
    assert not d.observe(first.state, "u:2025-03-04", 1010.0, "intake:0:5").duplicate  # restart replay
    assert not d.observe(first.state, "u:2025-03-05", 1010.0, "intake:0:6").duplicate  # a real update


def test_old_stamps_expire():
    d = DeliveryDeduplicator(ttl_seconds=100)
    state = d.observe(None, "h:abc", 0.0, "p1").state
    assert not d.observe(state, "h:abc", 500.0, "p2").duplicate


def inbound(conv="c1", at=0.0, subject="s", terms=(1, 2, 3)):
    return Inbound(conv, "cust", subject, terms, at)


def test_reopen_within_window_attributed_to_first_answerer_once():
    t = RecontactTracker()
    conv = t.on_inbound(None, None, inbound(at=0)).conversation_state
    conv, cust = t.on_answer(conv, None, "c1", answerer("bot"), 100.0)
    conv, cust = t.on_answer(conv, cust, "c1", answerer("agent:42"), 200.0)
    out = t.on_inbound(conv, cust, inbound(at=2 * DAY))
    assert out.recontact is not None and out.recontact.answered_by == "bot" and out.recontact.kind == "reopen"
    assert out.recontact.original_conversation_id == "c1" and out.recontact.answered_at == 100.0
    again = t.on_inbound(out.conversation_state, cust, inbound(at=2 * DAY + 60))
    assert again.recontact is None


def test_no_recontact_after_window_or_without_answer():
    t = RecontactTracker()
    conv = t.on_inbound(None, None, inbound(at=0)).conversation_state
    assert t.on_inbound(conv, None, inbound(at=DAY)).recontact is None
    conv, cust = t.on_answer(conv, None, "c1", "agent", 100.0)
    assert t.on_inbound(conv, cust, inbound(at=100.0 + 8 * DAY)).recontact is None


def test_new_conversation_on_same_topic_is_a_return():
    t = RecontactTracker()
    conv = t.on_inbound(None, None, inbound(at=0, subject="refund", terms=(1, 2, 3, 4))).conversation_state
    conv, cust = t.on_answer(conv, None, "c1", "agent", 100.0)
    same = t.on_inbound(None, cust, inbound(conv="c2", at=DAY, subject="refund", terms=(9,)))
    assert same.recontact is not None and same.recontact.original_conversation_id == "c1"
    assert same.recontact.kind == "same_topic" and same.recontact.answered_by == "agent"
    other = t.on_inbound(None, cust, inbound(conv="c3", at=DAY, subject="login", terms=(7, 8, 9)))
    assert other.recontact is None
