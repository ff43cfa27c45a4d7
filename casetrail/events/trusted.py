"""Building event models from records the current schema has already typed, without re-validation.

When a record's writer schema is the current schema of its event type, fastavro has checked
every field against the types the model declares while decoding it: strings are ``str``,
timestamps are UTC datetimes at millisecond precision (what ``AvroRecord``'s normaliser would
make of them anyway), enum values are among the enum's symbols, a union holds one of its
branches, a nested record has exactly its fields. Running pydantic's validation over the same
record again costs more than decoding a small event, so the codec builds such models here the
way pydantic's ``model_construct`` does, but with the per-field work (which fields hold nested
records or enums) decided once per model class instead of on every call.

Records written with any other schema (an older released version, resolved to the current
reader by fastavro) go through full pydantic validation in the codec, as do models this module
cannot build safely: any validator besides the timestamp normaliser, or private attributes.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from typing import Any, Callable, Optional

from casetrail.events.envelope import AvroRecord

Build = Callable[[dict], AvroRecord]
_Convert = Callable[[Any], Any]

# The one validator every AvroRecord carries; a record decoded with the current schema already
# satisfies it (timestamp-millis decodes to UTC at millisecond precision).
_TIMESTAMP_NORMALISER = "_avro_timestamps"


class _Unbuildable(Exception):
    """The model (or one nested in it) needs pydantic's validation: no trusted builder."""


@functools.cache
def trusted_builder(model: type[AvroRecord]) -> Optional[Build]:
    """A function that turns a record decoded with ``model``'s current schema into the model.

    None when the model needs full validation. The function takes ownership of the dict it is
    given (nested values are converted in place).
    """
    try:
        return _builder(model)
    except _Unbuildable:
        return None


@functools.cache
def _builder(model: type[AvroRecord]) -> Build:
    decorators = model.__pydantic_decorators__
    if (
        set(decorators.model_validators) - {_TIMESTAMP_NORMALISER}
        or decorators.field_validators
        or decorators.validators
        or decorators.root_validators
        or model.__private_attributes__
    ):
        raise _Unbuildable(model.__name__)
    conversions = tuple(
        (name, convert)
        for name, info in model.model_fields.items()
        if (convert := _conversion(info.annotation)) is not None
    )
    field_names = tuple(model.model_fields)
    new = object.__new__
    set_attribute = object.__setattr__

    def build(record: dict) -> AvroRecord:
        for name, convert in conversions:
            value = record[name]
            if value is not None:
                record[name] = convert(value)
        instance = new(model)
        set_attribute(instance, "__dict__", record)
        set_attribute(instance, "__pydantic_fields_set__", set(field_names))
        set_attribute(instance, "__pydantic_extra__", None)
        set_attribute(instance, "__pydantic_private__", None)
        return instance

    return build


def _conversion(annotation: Any) -> Optional[_Convert]:
    """How a decoded value becomes the field's Python value; None when it already is one."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        branches = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(branches) != 1:
            raise _Unbuildable(repr(annotation))  # a union of several types: let pydantic pick
        return _conversion(branches[0])  # None never reaches a conversion
    if origin is list:
        (item,) = typing.get_args(annotation)
        convert_item = _conversion(item)
        return None if convert_item is None else (lambda values: [convert_item(value) for value in values])
    if origin is dict:
        _, item = typing.get_args(annotation)
        convert_item = _conversion(item)
        return None if convert_item is None else (
            lambda values: {key: convert_item(value) for key, value in values.items()})
    if isinstance(annotation, type) and issubclass(annotation, AvroRecord):
        return _builder(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {member.value: member for member in annotation}.__getitem__
    if annotation in (str, int, float, bool, bytes, dt.datetime):
        return None
    raise _Unbuildable(repr(annotation))
