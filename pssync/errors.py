"""The root of every error pssync raises on purpose, and the one split that decides what happens
next: a :class:`TransientError` is worth trying again (after ``retry_after`` seconds at least,
when the other side said so), a :class:`PermanentError` never is (the record goes to a dead-letter
topic with the reason, or the operator has to act).

Each package keeps its own errors under these roots::

    PssyncError
    ├── ConfigError                      settings, rules and mapping files (pssync.settings)
    ├── TransientError                   retry with backoff, never sooner than retry_after
    │   ├── BrokerUnavailable            Kafka (pssync.bus.kafka)
    │   ├── RegistryUnavailable          schema registry (pssync.bus.registry)
    │   ├── TransientErpError            an ERP (pssync.erp.errors)
    │   ├── TransientFailure             a sink's attempt (pssync.sinks.errors)
    │   └── ConfigurationIncomplete      an order whose PS_OS_* rows have not all arrived
    └── PermanentError                   do not retry: dead letter or operator
        ├── CaptureError                 binlog capture refused to start/go on (pssync.cdc.errors)
        ├── Fenced                       another instance with the same transactional id took over
        ├── RegistryError, IncompatibleSchema
        ├── PermanentErpError            UnknownSku, NotFound (pssync.erp.errors)
        ├── PermanentFailure             a sink's attempt (pssync.sinks.errors)
        ├── BadCommand                   a command or ack that breaks its contract (pssync.schemas)
        ├── BadValue, UnsupportedColumn  a row value or column the capture cannot represent
        ├── Unmappable, ProductNotMapped an order that cannot become a sales-order command (yet)
        ├── Unroutable, RulesError
        ├── ShopDatabaseError            the PrestaShop database refused a connection (pssync.prestashop)
        └── MappingConflict              a manual mapping that would move a SKU, not told to (pssync.prestashop)
"""
from __future__ import annotations


class PssyncError(Exception):
    """Every error pssync raises on purpose. ``transient`` tells a caller whether trying the same
    thing again can succeed."""

    transient: bool = False
    retry_after: float | None = None


class TransientError(PssyncError):
    """Worth retrying: a connection lost, a lock wait timeout, a 5xx or 429."""

    transient = True


class PermanentError(PssyncError):
    """Trying again cannot succeed: the input or the configuration has to change."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, PssyncError) and exc.transient


class ConfigError(PssyncError):
    """Configuration that cannot be used; the message names each bad key (or file, line and
    column) and how to fix it. Raised by pssync.settings and wherever a setting proves wrong."""
