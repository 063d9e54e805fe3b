"""Change events as the processors read them.

The capture writes Debezium's types (see ``cdc/avro_schema.py``): DATETIME as the shop's wall clock
in epoch milli- or microseconds read as UTC (``io.debezium.time.Timestamp`` / ``MicroTimestamp``),
DATE as epoch days (``io.debezium.time.Date``), TIMESTAMP as ISO-8601 UTC text
(``io.debezium.time.ZonedTimestamp``), DECIMAL as exact Connect decimals (or, in the other
``decimal_handling_mode`` values, doubles or text). The processors work with Python values instead:

| column | value |
|---|---|
| DATETIME | aware UTC ``datetime``, the wall clock read in ``capture.datetime_zone`` |
| TIMESTAMP | aware UTC ``datetime`` |
| DATE | ``date`` |
| DECIMAL | ``Decimal`` (the processors need ``decimal_handling_mode: precise``) |
| anything else | as Avro decodes it |

:func:`row_adapter` builds, once per writer schema, the function that turns the decoded envelope's
``before`` and ``after`` into those values. Schemas that are not change events get ``None``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

Adapter = Callable[[Any], Any]

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)


def _wall_clock(unit: dt.timedelta, zone: dt.tzinfo) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime):         # connect mode: Avro timestamp-millis, decoded aware
            naive = value.replace(tzinfo=None)
        else:
            naive = _EPOCH + value * unit
        return naive.replace(tzinfo=zone).astimezone(dt.timezone.utc)
    return convert


def _date(value: Any) -> Any:
    if value is None or isinstance(value, dt.date):
        return value
    return _EPOCH_DATE + dt.timedelta(days=value)


def _zoned(value: Any) -> Any:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)


def _type_of(field_type: Any) -> Any:
    """The non-null branch of an optional field's union (or the type itself)."""
    if isinstance(field_type, list):
        return next((t for t in field_type if t != "null"), None)
    return field_type


def _value_converter(field_type: Any, zone: dt.tzinfo) -> Callable | None:
    t = _type_of(field_type)
    connect = t.get("connect.name") if isinstance(t, dict) else None
    if connect in ("io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp"):
        return _wall_clock(dt.timedelta(milliseconds=1), zone)
    if connect == "io.debezium.time.MicroTimestamp":
        return _wall_clock(dt.timedelta(microseconds=1), zone)
    if connect in ("io.debezium.time.Date", "org.apache.kafka.connect.data.Date"):
        return _date
    if connect == "io.debezium.time.ZonedTimestamp":
        return _zoned
    return None


def row_adapter(schema: Any, zone_name: str = "UTC") -> Adapter | None:
    """For a change-event envelope schema (fields ``before`` and ``after`` holding the table's row
    record), the function that converts a decoded event's rows in place; None for other schemas."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        return None
    fields = {f["name"]: f for f in schema.get("fields", ())}
    if "before" not in fields or "after" not in fields or "op" not in fields:
        return None
    row = _type_of(fields["before"]["type"])
    if not isinstance(row, dict) or row.get("type") != "record":
        return None
    zone: dt.tzinfo = dt.timezone.utc if zone_name == "UTC" else ZoneInfo(zone_name)
    converters = [(f["name"], fn) for f in row["fields"]
                  if (fn := _value_converter(f["type"], zone)) is not None]
    if not converters:
        return None

    def adapt(event: Any) -> Any:
        for side in ("before", "after"):
            image = event.get(side) if isinstance(event, dict) else None
            if image:
                for name, fn in converters:
                    if name in image:
                        image[name] = fn(image[name])
        return event

    return adapt
