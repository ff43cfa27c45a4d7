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


def test_event_ids_are_random_uuid4_strings():
    import uuid

    from casetrail.events.identity import new_event_id

    ids = [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_avro_timestamp_keeps_normalised_values_and_normalises_the_rest():
    import random

    from casetrail.events.envelope import to_avro_timestamp

    def general(value):  # the conversion without the fast path
        value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        return value.replace(microsecond=(value.microsecond // 1000) * 1000)

    rng = random.Random(8)
    zones = [None, dt.timezone.utc, PARIS, dt.timezone(dt.timedelta(0)), dt.timezone(dt.timedelta(hours=-5))]
    for _ in range(5000):
        value = dt.datetime(2026, 1, 1, tzinfo=rng.choice(zones)) + dt.timedelta(microseconds=rng.randrange(10**12))
        if rng.random() < 0.5:
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        result = to_avro_timestamp(value)
        assert result == general(value) and result.tzinfo is dt.timezone.utc
        assert result.microsecond % 1000 == 0
        if value.tzinfo is dt.timezone.utc and value.microsecond % 1000 == 0:
            assert result is value
