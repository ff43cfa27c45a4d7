"""Event models normalise what Avro can carry, so an event equals itself after a round trip."""

import datetime as dt

from casetrail.codec import AvroCodec
from casetrail.events import RecontactDetected
from casetrail.events.envelope import ProducerInfo

PARIS = dt.timezone(dt.timedelta(hours=1))


def _recontact() -> RecontactDetected:
    return RecontactDetected(
        conversation_id="c", tenant="t", locale="fr", producer=ProducerInfo(service="s", version="1"),
        occurred_at=dt.datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=PARIS),
        original_conversation_id="o", answered_by="bot",
        answered_at=dt.datetime(2026, 11, 20, 9, 30, 0, 999999),  # naive: taken as UTC
    )


def test_timestamps_are_normalised_to_utc_milliseconds():
    event = _recontact()
    assert event.occurred_at == dt.datetime(2026, 11, 24, 9, 0, 0, 123000, tzinfo=dt.timezone.utc)
    assert event.occurred_at.tzinfo is dt.timezone.utc
    assert event.answered_at == dt.datetime(2026, 11, 20, 9, 30, 0, 999000, tzinfo=dt.timezone.utc)


def test_normalised_event_survives_an_avro_round_trip_unchanged():
    codec = AvroCodec()
    event = _recontact()
    assert codec.decode(codec.encode(event, topic="t"), expected=RecontactDetected) == event
