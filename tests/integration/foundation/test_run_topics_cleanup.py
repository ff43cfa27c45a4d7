"""A benchmark run deletes the topics it created under its own prefix, and only those, on the real broker."""

from __future__ import annotations

import time

import pytest

from casetrail.topic_admin import admin_client, apply_topics, delete_run_topics
from casetrail.topics import ALL_TOPICS

pytestmark = pytest.mark.integration


def _topics_starting(prefix: str, *, settle_on: set[str], within: float = 30.0) -> set[str]:
    """The topics named ``prefix``…, read until they are ``settle_on`` or ``within`` seconds pass (a broker's
    metadata shows a topic just created or deleted a moment later)."""
    deadline = time.monotonic() + within
    while True:
        names = {name for name in admin_client().list_topics(timeout=30).topics if name.startswith(prefix)}
        if names == settle_on or time.monotonic() > deadline:
            return names
        time.sleep(0.2)


def test_a_run_prefix_deletes_its_own_topics_and_leaves_a_neighbours(kafka_bootstrap, topic_prefix):
    run, neighbour = f"{topic_prefix}run.", f"{topic_prefix}runner."  # begins like the run's prefix, without its dot
    specs = ALL_TOPICS[:3]
    apply_topics(specs, prefix=run)
    apply_topics(specs, prefix=neighbour)
    created = {f"{run}{spec.name}" for spec in specs}
    kept = {f"{neighbour}{spec.name}" for spec in specs}
    assert _topics_starting(run, settle_on=created) == created
    assert _topics_starting(neighbour, settle_on=kept) == kept

    assert set(delete_run_topics(run)) == created

    assert _topics_starting(run, settle_on=set()) == set()
    assert _topics_starting(neighbour, settle_on=set(), within=2.0) == kept
    assert delete_run_topics(run) == []  # nothing left: a second call deletes nothing
