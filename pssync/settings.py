"""Service configuration: a YAML file plus ``PSSYNC_*`` environment overrides, validated at start.

Nested keys are overridden with a double underscore, e.g. ``PSSYNC_MYSQL__PORT=3307`` or
``PSSYNC_CAPTURE__TABLES='["orders","stock_available"]'``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator,
                      model_validator)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)
from pssync.config_file import read_config_file
from pssync.errors import ConfigError
from pssync.secret_keys import is_secret_key, number_as_text

# a password or secret given as a number (YAML reads ``password: 987654321`` as one) is its text
PasswordText = Annotated[str, BeforeValidator(number_as_text)]
SecretText = Annotated[SecretStr, BeforeValidator(number_as_text)]

__all__ = ["ConfigError", "PasswordText", "SecretText", "Settings", "load_settings", "is_secret_key"]

DEFAULT_CAPTURED_TABLES = (
    "orders",
    "order_detail",
    "order_history",
    "stock_available",
    "product",
    "product_shop",
    "product_attribute",
    "specific_price",
)

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MySQLSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(3307, ge=1, le=65535)
    user: str = "pssync"
    password: PasswordText = Field("pssync", repr=False)
    database: str = "prestashop"
    table_prefix: str = "ps_"
    server_id: int = Field(
        5401, ge=1, le=2**32 - 1,
        description="Replica id used on the binlog connection; unique per reader on a server.",
    )
    connect_timeout: float = Field(10, gt=0)

    @field_validator("database", "table_prefix")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if value and not _IDENTIFIER.match(value):
            raise ValueError(f"{value!r} must contain only letters, digits and '_'")
        return value


class KafkaSettings(Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    client_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra librdkafka settings (security.protocol, sasl.*, ...) passed through.",
    )
    topic_partitions: int = Field(1, ge=1)
    connect_timeout: float = Field(30, gt=0, description="Seconds to wait for the cluster at start.")
    topic_replication_factor: int = Field(1, ge=1)


class RegistrySettings(Section):
    url: str = "http://127.0.0.1:8081/apis/ccompat/v7"
    compatibility: Literal["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"] = "BACKWARD"
    basic_auth_user_info: PasswordText | None = Field(None, repr=False)


class CaptureSettings(Section):
    name: str = Field("prestashop", description="Connector identity: transactional id and offsets key.")
    topic_prefix: str = "pssync"
    tables: list[str] = Field(default_factory=lambda: list(DEFAULT_CAPTURED_TABLES))
    extra_tables: list[str] = Field(
        default_factory=list,
        description="Full names of further tables to capture, without the shop prefix "
                    "(e.g. pssync_product_map for the stream processors).")
    offsets_topic: str = "pssync.cdc.offsets"
    snapshot_mode: Literal["initial", "never", "when_needed"] = "initial"
    batch_max_events: int = Field(5000, ge=1)
    snapshot_chunk_rows: int = Field(
        5000, ge=1, description="Rows of one table per snapshot chunk (initial and on-demand), each chunk "
                                "one Kafka transaction with the progress in its offset.")
    transaction_metadata: bool = Field(
        True, description="BEGIN/END records with per-table event counts on <topic_prefix>.transaction.")
    batch_max_ms: int = Field(100, ge=1)
    datetime_zone: str = Field(
        "UTC", description="Time zone the shop writes DATETIME columns in (PHP's date.timezone). Change "
                           "events carry DATETIME as written (Debezium's way: the wall clock read as UTC); "
                           "the processors read it in this zone.")
    time_precision_mode: Literal["adaptive_time_microseconds", "adaptive", "connect"] = Field(
        "adaptive_time_microseconds",
        description="As Debezium's time.precision.mode: adaptive_time_microseconds (io.debezium.time.* "
                    "types, TIME in microseconds), adaptive (TIME(0-3) in milliseconds), connect "
                    "(Kafka Connect's Date/Time/Timestamp logical types, milliseconds).")
    decimal_handling_mode: Literal["precise", "double", "string"] = Field(
        "precise", description="As Debezium's decimal.handling.mode: DECIMAL as exact Connect Decimal "
                               "bytes, as a double, or as a plain string.")
    bigint_unsigned_handling_mode: Literal["long", "precise"] = Field(
        "long", description="As Debezium's bigint.unsigned.handling.mode: BIGINT UNSIGNED as a long "
                            "(above 2^63-1 it wraps negative) or as an exact Decimal(20,0).")
    heartbeat_seconds: float = Field(0.1, gt=0)
    retry_attempts: int = Field(5, ge=1)
    max_event_bytes: int = Field(
        8_000_000, ge=100_000, le=100_000_000,
        description="Largest change event (key, value and headers) the capture writes; its topics are "
                    "created (or raised) to accept it. A larger one goes to the dead-letter topic. "
                    "Consumers need fetch sizes to match (e.g. max.partition.fetch.bytes).")
    key_columns: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Event key columns by table (unprefixed, as in `tables`), for tables without a "
                    "primary key, e.g. {order_detail_tax: [id_order_detail, id_tax]}; like Debezium's "
                    "message.key.columns. Given for a table with a primary key, it replaces it as the key.")

    @field_validator("tables")
    @classmethod
    def _tables(cls, tables: list[str]) -> list[str]:
        if not tables:
            raise ValueError("at least one table must be captured")
        bad = [t for t in tables if not _IDENTIFIER.match(t)]
        if bad:
            raise ValueError(f"table names must be unprefixed identifiers, got {bad}")
        return tables

    @field_validator("name", "topic_prefix")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9._-]+$", value):
            raise ValueError(f"{value!r} may contain only letters, digits, '.', '_' and '-'")
        return value

    @field_validator("datetime_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class WebhookSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8090, ge=1, le=65535)
    secret: SecretText = Field(description="Shared HMAC secret; set it from PSSYNC_ERP__WEBHOOK__SECRET.")
    erp: str = Field("webhook", description="Name recorded as the events' origin.")
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    tolerance_s: int = Field(300, ge=1, description="Accepted clock skew, also the replay window.")
    dedupe_s: int | None = Field(
        None, ge=1, description="Seconds an accepted event id is remembered, so that a sender's retry "
                                "(even re-signed) is answered as a duplicate instead of published again; "
                                "default tolerance_s. A signed request is remembered at least as long "
                                "as its timestamp is accepted.")
    max_quantity: int = Field(100_000_000, ge=1, le=10**13,
                              description="Largest stock quantity (or on_hand) a push may carry; "
                                          "above it the event is refused as absurd.")
    allow_negative_quantity: bool = Field(
        False, description="Accept a negative available quantity (an over-committed ERP); the "
                           "processors publish 0 for it and report the shortfall.")
    allow_fractional_quantity: bool = Field(
        False, description="Accept stock quantities with decimals (the processors floor them).")
    tls_cert: str | None = None
    tls_key: str | None = None


class ErpSettings(Section):
    kind: str = Field("tryton", description="Which adapter: see erp/registry.py.")
    name: str = Field("erp", description="Identity of this ERP's capture: transactional id, offsets key.")
    topic_prefix: str = Field("", description="Prefix for erp.* topics (empty: erp.stock, ...).")
    offsets_topic: str = "pssync.erp.offsets"
    poll_interval_s: float = Field(2.0, gt=0)
    overlap_s: float = Field(120.0, ge=0, description="Re-read window for rows committed late.")
    page_size: int = Field(500, ge=1)
    last_emitted_days: float = Field(
        90, ge=0, description="Days the last values written for a key (SKU, ERP order, shipment) are "
                              "kept to leave out unchanged repeats; 0 keeps them for ever. A key not "
                              "written for this long may be written once more with the same values.")
    kinds: list[Literal["stock", "price", "product", "order_status", "shipment"]] = Field(
        default_factory=lambda: ["stock", "price", "product", "order_status", "shipment"])
    webhook: WebhookSettings | None = None
    tryton: dict[str, Any] = Field(default_factory=dict)
    oracle_fusion: dict[str, Any] = Field(default_factory=dict)
    infor: dict[str, Any] = Field(default_factory=dict)
    rest: dict[str, Any] = Field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        return dict(getattr(self, self.kind, None) or {})


class StreamsSettings(Section):
    order_mapping: str = Field("deploy/order_mapping.yaml", description="Order mapping config (YAML).")
    commands_topic: str = "pssync.commands.erp.sales_orders"
    dead_letter_topic: str = "pssync.streams.dead-letter"
    rules: str = Field("deploy/rules.yaml", description="Ownership rules (YAML), validated at start.")
    violations_topic: str = "pssync.streams.ownership-violations"
    shop_commands_topic: str = Field(
        "pssync.commands.shop", description="Stock, price, order-state and tracking commands for PrestaShop.")
    reassert_erp_values: bool = Field(
        True, description="After an ownership violation, send the ERP's value back to the shop.")
    stock_snapshot_max_age_s: float = Field(
        3600, gt=0, description="Warn when a SKU's stock has not been confirmed by an ERP snapshot for this long.")
    erp_order_states: dict[str, str] = Field(
        default_factory=lambda: {"processing": "PS_OS_PREPARATION", "cancelled": "PS_OS_CANCELED"},
        description="ERP sales-order state -> PrestaShop PS_OS_* configuration name.")
    erp_shipment_states: dict[str, str] = Field(
        default_factory=lambda: {"done": "PS_OS_SHIPPING"},
        description="ERP shipment state -> PrestaShop PS_OS_* configuration name.")
    id_shop: int = Field(1, ge=1, description="The shop whose stock and prices the ERP drives.")
    stock_drift_threshold: int = Field(
        2, ge=0, description="Drift between the shop's stock and the computed value that is corrected "
                             "automatically (when unambiguous); above it a person is alerted.")
    stock_reconcile_delay_s: float = Field(
        10, gt=0, description="Seconds after a shop-side stock change before it is compared (lets the "
                              "order lines of the same checkout arrive first).")
    alerts_topic: str = Field("pssync.streams.alerts", description="Stock drift above the threshold.")
    partitions: int = Field(
        1, ge=1, le=256, description="Partitions of the processors' internal topics: how many workers can "
                                     "share the work. Fixed once the processors have run (their state "
                                     "is kept by partition).")
    session_timeout_s: float = Field(
        15, ge=6, le=300, description="A worker that stops answering for this long (crash, lost host) "
                                      "has its partitions moved to the others.")
    order_state_days: float = Field(
        90, ge=0, description="Days an order stays in the processors' state after the last change of its "
                              "ps_orders row (its rows, stock lines, sent-command marks); 0 keeps every "
                              "order for ever. A change to a forgotten order (a cancellation after this "
                              "long) is no longer turned into a command.")
    prune_every_s: float = Field(3600, gt=0, description="How often forgotten orders are removed.")
    order_wait_timeout_s: float = Field(
        300, gt=0, description="An order still waiting for rows (its lines, customer, address, currency, "
                               "configuration) this long is dead-lettered naming what it waits for, alerted "
                               "and counted; it still goes out, with the same command id, if they arrive.")


class PrestashopWebserviceSettings(Section):
    url: str = Field(description="Base URL of the Webservice, e.g. https://shop.example/api")
    key: SecretText = Field(description="Webservice key; set it from PSSYNC_SINKS__WEBSERVICE__KEY.")
    timeout_s: float = Field(10, gt=0)
    send_email: bool = Field(False, description="Add ?sendemail=1 to state and tracking writes.")


class SinkSettings(Section):
    acks_topic: str = Field("pssync.erp.acks", description="ERP acknowledgements of shop orders.")
    dead_letter_topic: str = "pssync.sinks.dead-letter"
    echo_table: str = Field(
        "pssync_echo", description="Marker row each shop-sink transaction writes first; the capture "
                                   "tags that transaction's events as the sink's own (echo suppression).")
    prestashop_mode: Literal["database", "webservice"] = "database"
    state_database: str | None = Field(
        None, description="Database (on the mysql server) for the sync log, effects and offsets; "
                          "default the shop database. Set it when the shop forbids writes (webservice mode).")
    webservice: PrestashopWebserviceSettings | None = None
    instance_id: str | None = Field(
        None, description="This sink process's static member id in its Kafka group (default: the host "
                          "name). A restarted sink, or one whose broker was away longer than the session "
                          "timeout, rejoins as itself and resumes at once; two processes of one sink need "
                          "different ids.")
    batch_max_commands: int = Field(200, ge=1)
    batch_max_ms: int = Field(200, ge=1)
    retry_attempts: int = Field(5, ge=1)
    retry_max_s: float = Field(30, gt=0)
    stock_guard_window_s: int = Field(
        3600, ge=60, description="Orders placed this recently that the processor had not seen are "
                                 "subtracted by the sink before it writes a stock level.")
    shop_owned_states: list[str] = Field(
        default_factory=lambda: ["PS_OS_CANCELED", "PS_OS_ERROR", "PS_OS_REFUND"],
        description="PS_OS_* states the shop owns: an order in one of them is never moved by a state "
                    "the ERP reports (a cancellation in the shop is not undone by the ERP's 'processing').")

    @field_validator("echo_table")
    @classmethod
    def _echo_table(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"must be a plain table name (letters, digits, _), got {value!r}")
        return value

    @model_validator(mode="after")
    def _webservice(self) -> "SinkSettings":
        if self.prestashop_mode == "webservice" and self.webservice is None:
            raise ValueError("prestashop_mode 'webservice' needs sinks.webservice.url and sinks.webservice.key")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PSSYNC_", env_nested_delimiter="__", extra="forbid"
    )

    mysql: MySQLSettings = Field(default_factory=MySQLSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    erp: ErpSettings = Field(default_factory=ErpSettings)
    streams: StreamsSettings = Field(default_factory=StreamsSettings)
    sinks: SinkSettings = Field(default_factory=SinkSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("PSSYNC_CONFIG")
        if config_file:
            sources.append(_ConfigFileSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


class _ConfigFileSource(YamlConfigSettingsSource):
    """The YAML file, read by :func:`pssync.config_file.read_config_file` (one-line errors)."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        return read_config_file(file_path)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    from pssync.environment import unknown_variables

    unknown = unknown_variables(os.environ, Settings)
    if unknown:
        raise ConfigError("\n".join(unknown))
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        os.environ["PSSYNC_CONFIG"] = str(path)
    named = os.environ.get("PSSYNC_CONFIG")
    if named and not Path(named).is_file():     # pydantic-settings would skip it without a word
        raise ConfigError(f"PSSYNC_CONFIG names {named}, which is not a file: set it to the config "
                          "file, or unset it")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad key, naming it and how to set it; the value given is shown only when the
    key holds no secret (a password given as a number must not end up in a log)."""
    lines = []
    for err in exc.errors(include_input=True):
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        env = "PSSYNC_" + "__".join(str(p) for p in err["loc"] if not isinstance(p, int)).upper()
        given = err.get("input")
        shown = "" if isinstance(given, dict) or is_secret_key(key) else f" (got {given!r})"
        lines.append(f"{key}: {err['msg']}{shown} [file key '{key}' or env {env}]")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "\n  ".join(["invalid configuration:", *lines])
