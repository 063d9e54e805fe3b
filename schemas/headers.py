"""Kafka record headers that carry meaning between pssync's stages (the dead-letter headers are in
:mod:`pssync.schemas.dead_letters`)."""
from __future__ import annotations

from typing import Any

# On a change event the capture wrote from a transaction of one of our own sinks (the sink's echo
# marker row was in it): value = the sink's name. The processors never act on such an event.
ORIGIN_HEADER = "pssync.origin"
# On the two events of a primary-key update (a delete of the old key, a create of the new one), as
# Debezium names them: the other event's key, as JSON.
NEW_KEY_HEADER = "__debezium.newkey"
OLD_KEY_HEADER = "__debezium.oldkey"
# On the processors' internal topics: what an event is (a source table, an ERP topic kind such as
# ``erp.stock``, or a ``stock.*`` event between the processors).
KIND_HEADER = "pssync.kind"


def header(headers: Any, name: str) -> bytes | None:
    """A header's value from a record's headers (a mapping, as Faust gives them, or a list of pairs,
    as confluent-kafka does); the first one of that name."""
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items:
        if (key.decode() if isinstance(key, bytes) else key) == name:
            return value if isinstance(value, bytes) or value is None else str(value).encode()
    return None
