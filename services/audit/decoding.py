"""Avro bytes to store rows (pure; runs in worker processes during a rebuild).

Decoding is the largest cost of a replay, and it needs nothing shared, so the
rebuild hands batches of raw record values to a process pool and stores the
rows in the main process.
"""

from __future__ import annotations

from typing import Callable, Optional, TypeVar

from casetrail.codec import AvroCodec, DecodeError
from services.audit.records import RecordError
from services.audit.store.rows import row_of

_codec: Optional[AvroCodec] = None
RowT = TypeVar("RowT")


def _get_codec() -> AvroCodec:
    global _codec
    if _codec is None:
        from casetrail.settings import settings

        config = settings()
        _codec = AvroCodec(config.schema_registry_url, config.registry_config())
    return _codec


def decode_values(values: list[bytes], to_row: Callable[[str, dict], RowT]) -> tuple[list[RowT], dict[str, int]]:
    """``to_row`` of every value that decodes to a casetrail event, and counts of skipped ones by reason."""
    codec = _get_codec()
    rows: list[RowT] = []
    skipped: dict[str, int] = {}
    for value in values:
        try:
            event_type, event = codec.decode_record(value)
            rows.append(to_row(event_type, event))
        except DecodeError as exc:
            skipped[exc.reason_code] = skipped.get(exc.reason_code, 0) + 1
        except (RecordError, KeyError, TypeError) as exc:
            reason = type(exc).__name__
            skipped[reason] = skipped.get(reason, 0) + 1
    return rows, skipped


def rows_from_values(values: list[bytes]) -> tuple[list[dict], dict[str, int]]:
    """Rows (dicts) of the values that decode to casetrail events, and counts of skipped ones by reason."""
    return decode_values(values, row_of)
