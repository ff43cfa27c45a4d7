"""Whether a transactional producer's cached group coordinator can still be trusted.

``send_offsets_to_transaction`` sends the batch's offsets to the consumer group's coordinator,
which librdkafka looks up once and keeps in a per-client cache (for ``metadata.max.age.ms``).
When a client loses every broker it re-bootstraps (KIP-899) and decommissions the brokers it had
learned; a decommissioned broker can stay in that cache as the group's coordinator, and the next
``send_offsets_to_transaction`` then waits for it to come up — which it never does — past its own
timeout (librdkafka #5511 and #5456, open in 2.16.0). Seen in the fault run: after the 10 s broker
outage the first batch of every service sat in that call until the transaction watchdog gave up
65 s later, one hop after another, and the tickets sent after the outage were not decided within
the run's drain window.

So the producer is renewed (a new client has an empty cache and looks the coordinator up again)
before it sends offsets once its cluster was lost after it had cached a coordinator. A client
that has not sent offsets yet has nothing cached and needs no renewal. A ``send_offsets_to_transaction``
under way when the cluster is lost waits on the handle being decommissioned: it is given up at once
(fault run, second attempt: router and verifier were inside that call when the broker stopped).
"""

from __future__ import annotations

from enum import Enum

from confluent_kafka import KafkaError


class CoordinatorCache(Enum):
    EMPTY = "empty"  # this client has not sent offsets yet: it will look the coordinator up
    SENDING = "sending"  # send_offsets_to_transaction under way: a coordinator lookup or request in flight
    CURRENT = "current"  # offsets sent since the client last lost its cluster
    MAYBE_STALE = "maybe_stale"  # the cluster was lost after offsets were sent: renew before the next offsets

    def sending_offsets(self) -> "CoordinatorCache":
        return CoordinatorCache.SENDING

    def offsets_sent(self) -> "CoordinatorCache":
        # a loss reported while the call was finishing still leaves the cached coordinator in doubt
        return self if self is CoordinatorCache.MAYBE_STALE else CoordinatorCache.CURRENT

    def client_error(self, code: int) -> "CoordinatorCache":
        """The state after the client reported ``code`` (its ``error_cb``)."""
        if code == KafkaError._ALL_BROKERS_DOWN and self in (CoordinatorCache.SENDING, CoordinatorCache.CURRENT):
            return CoordinatorCache.MAYBE_STALE  # librdkafka re-bootstraps at this very point
        return self

    @property
    def needs_renewal(self) -> bool:
        return self is CoordinatorCache.MAYBE_STALE
