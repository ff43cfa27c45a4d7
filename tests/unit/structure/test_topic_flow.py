"""The flow written in casetrail/topics.py matches the processors the services register."""

import importlib

from casetrail.topics import ALL_TOPICS, DELIVERY_STATE, EVENT_TOPICS, REPARTITIONS

SERVICES = ("ingest", "triage", "drafter", "verifier", "router", "delivery")


def test_each_topics_consumers_are_the_services_that_register_a_processor_for_it():
    registered: dict[str, set[str]] = {}
    for name in SERVICES:
        svc = importlib.import_module(f"services.{name}.app").svc  # import is light: models load in warm-up
        for processor in svc.processors:
            registered.setdefault(processor.source.name, set()).add(name)
    declared = {spec.name: set(spec.consumers) for spec in EVENT_TOPICS + DELIVERY_STATE + REPARTITIONS if spec.consumers}
    assert registered == declared


def test_each_topics_broadcast_readers_are_the_services_that_register_a_broadcast_for_it():
    registered: dict[str, set[str]] = {}
    for name in SERVICES:
        svc = importlib.import_module(f"services.{name}.app").svc
        for broadcast in svc.broadcasts:
            registered.setdefault(broadcast.source.name, set()).add(name)
    assert registered == {spec.name: set(spec.broadcast_to) for spec in ALL_TOPICS if spec.broadcast_to}


def test_changelogs_belong_to_the_service_that_owns_the_table():
    for name in ("ingest", "triage", "verifier", "router", "delivery"):
        svc = importlib.import_module(f"services.{name}.app").svc
        for table in svc.tables:
            spec = svc.changelog_spec(table)
            assert spec in ALL_TOPICS and (spec.producer, spec.consumers) == (name, (name,))


def test_every_event_topic_names_its_producer():
    assert all(spec.producer for spec in EVENT_TOPICS + DELIVERY_STATE)


def test_a_repartition_topic_has_its_services_input_partition_count():
    # the table keyed like the repartition topic is co-partitioned with the service's other inputs
    for spec in REPARTITIONS:
        (owner,) = spec.consumers
        svc = importlib.import_module(f"services.{owner}.app").svc
        inputs = {processor.source.partitions for processor in svc.processors}
        assert inputs == {spec.partitions}
