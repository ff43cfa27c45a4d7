"""Every event's released schema history holds FULL_TRANSITIVE (each version reads data written with every
other, both ways), by Apache Avro's own checker — except the event types named in ``WEAKER_LEVELS``, which
hold the weaker level given there and really do break FULL_TRANSITIVE (so the list cannot grow unseen nor
keep an entry that is no longer needed). This is what `casetrail schemas register` asks a registry for."""

from __future__ import annotations

import pytest

from casetrail.events.catalog import EVENT_TYPES
from casetrail.schema_registration import DEFAULT_LEVEL, WEAKER_LEVELS, history
from casetrail_tools.local_schema_registry import incompatibilities


def problems_under(level: str, event: str) -> list[str]:
    versions = [schema for _, schema in history(event)]
    return [f"{event} {history(event)[i][0]}: {p}" for i in range(1, len(versions))
            for p in incompatibilities(level, versions[i], versions[:i])]


@pytest.mark.parametrize("event", sorted(EVENT_TYPES))
def test_the_history_holds_its_level(event):
    level = WEAKER_LEVELS.get(event, (DEFAULT_LEVEL,))[0]
    assert problems_under(level, event) == []


@pytest.mark.parametrize("event", sorted(WEAKER_LEVELS))
def test_each_weaker_level_is_needed(event):
    assert problems_under(DEFAULT_LEVEL, event), f"{event} holds {DEFAULT_LEVEL}: take it out of WEAKER_LEVELS"


def test_the_checker_refuses_what_full_transitive_refuses():
    old = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}'
    required = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}]}'
    optional = required.replace('"type": "int"}]}', '"type": "int", "default": 0}]}')
    assert incompatibilities("FULL_TRANSITIVE", required, [old])  # new reader cannot fill b from old data
    assert incompatibilities("FULL_TRANSITIVE", optional, [old]) == []
    assert incompatibilities("FORWARD", required, [old]) == []  # old readers ignore b
