"""When a transactional producer's cached group coordinator stops being trusted
(casetrail/runtime/coordinator_cache.py): only after the client lost every broker, and only
if it had cached a coordinator by sending offsets before."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from casetrail.runtime.coordinator_cache import CoordinatorCache


def test_a_new_client_has_nothing_cached_and_an_outage_changes_that_not():
    assert CoordinatorCache.EMPTY.client_error(KafkaError._ALL_BROKERS_DOWN) is CoordinatorCache.EMPTY
    assert not CoordinatorCache.EMPTY.needs_renewal


def test_losing_every_broker_after_sending_offsets_calls_for_a_renewal():
    cached = CoordinatorCache.EMPTY.offsets_sent()
    assert cached is CoordinatorCache.CURRENT and not cached.needs_renewal
    stale = cached.client_error(KafkaError._ALL_BROKERS_DOWN)
    assert stale is CoordinatorCache.MAYBE_STALE and stale.needs_renewal
    assert stale.client_error(KafkaError._ALL_BROKERS_DOWN) is CoordinatorCache.MAYBE_STALE


@pytest.mark.parametrize("code", [KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._RESOLVE,
                                  KafkaError.NOT_COORDINATOR, KafkaError._MSG_TIMED_OUT])
def test_other_client_errors_leave_the_cache_trusted(code):
    # one broker dropping a connection does not re-bootstrap the client: nothing is decommissioned
    assert CoordinatorCache.CURRENT.client_error(code) is CoordinatorCache.CURRENT


def test_losing_every_broker_while_offsets_are_under_way_strands_them():
    sending = CoordinatorCache.EMPTY.sending_offsets()
    assert not sending.needs_renewal
    assert sending.client_error(KafkaError._ALL_BROKERS_DOWN).needs_renewal
    assert sending.offsets_sent() is CoordinatorCache.CURRENT


def test_offsets_that_completed_as_the_cluster_went_still_call_for_a_renewal():
    stale = CoordinatorCache.SENDING.client_error(KafkaError._ALL_BROKERS_DOWN)
    assert stale.offsets_sent().needs_renewal
