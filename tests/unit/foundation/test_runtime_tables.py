"""Changelog-backed tables: writes travel with the transaction, an abort puts the old values back."""

import orjson
import pytest

from casetrail.partitioning import partition_for
from casetrail.runtime.tables import ChangelogTable


def _table(current=None):
    holder = {"partition": current}
    return ChangelogTable("t", "app-t-changelog", 6, lambda: holder["partition"]), holder


def test_writes_are_pending_until_accepted_and_carry_the_records_partition():
    table, holder = _table(current=4)
    table["a"] = {"n": 1}
    table["b"] = 2
    changes = sorted(table.pending_changes())
    assert changes == [(4, b'"a"', orjson.dumps({"n": 1})), (4, b'"b"', b"2")]
    table.accept()
    assert list(table.pending_changes()) == []
    assert table.get("a") == {"n": 1} and table.partition_of("a") == 4


def test_roll_back_restores_values_deletes_and_absent_keys():
    table, holder = _table(current=1)
    table["kept"] = "old"
    table["gone"] = "here"
    table.accept()
    table["kept"] = "new"
    del table["gone"]
    table["fresh"] = "x"
    table.roll_back()
    assert dict(table.items()) == {"kept": "old", "gone": "here"}
    assert "fresh" not in table and table.partition_of("fresh") is None
    assert list(table.pending_changes()) == []


def test_delete_is_a_tombstone_on_the_keys_partition():
    table, holder = _table(current=2)
    table["k"] = 1
    table.accept()
    holder["partition"] = None  # a timer deletes it
    del table["k"]
    assert list(table.pending_changes()) == [(2, b'"k"', None)]


def test_a_key_written_outside_a_record_goes_where_the_java_partitioner_puts_it():
    table, _ = _table(current=None)
    table["conv-42"] = True
    [(partition, key, _)] = list(table.pending_changes())
    assert partition == partition_for(b'"conv-42"', 6)


def test_restore_loads_and_drop_forgets_a_partition():
    table, _ = _table()
    table.load(0, b'"x"', b'{"v": 1}')
    table.load(3, b'"y"', b"2")
    table.load(3, b'"x"', None)  # a later tombstone wins
    assert dict(table.items()) == {"y": 2}
    table.drop({3})
    assert len(table) == 0


def test_missing_key_without_default_raises():
    table, _ = _table(current=0)
    with pytest.raises(KeyError):
        table["nope"]
    assert table.get("nope", "d") == "d"
