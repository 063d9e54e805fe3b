"""``build_app``: the processors' Faust application built from settings, with everything the
worker needs. Importing this (or any streams module) reads no file and connects to nothing: the
order mapping and the ownership rules are read, and the rules checked against the shop's live
schema, when the application is built (``pssync streams worker``), each failure a StartupError
saying what to fix.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import faust

from pssync.errors import PermanentError
from pssync.schemas.codec import Codec
from pssync.settings import Settings
from pssync.streams.app import exact_table, faust_app, hub_topic, raw_topic
from pssync.streams.dispatch import Decode, ShopEvents, StockEvents
from pssync.streams.erp_states import ErpStates
from pssync.streams.erp_values import ErpValues
from pssync.streams.kafka_transport import guard_stalls
from pssync.streams.orders import OrderMapping
from pssync.streams.order_waits import OrderWaits
from pssync.streams.orders_hub import OrderAssembly
from pssync.streams.outputs import Outputs
from pssync.streams.product_mapping import ProductMapping
from pssync.streams.retention import Retention
from pssync.streams.router import Router
from pssync.streams.routes import Hub, hub_topic_name
from pssync.streams.rules import Rules, RulesError, rules_from
from pssync.streams.state import ShopState, StockState
from pssync.streams.stock_facts import StockFacts
from pssync.streams.stock_hub import StockHub

log = logging.getLogger(__name__)


class StartupError(PermanentError, RuntimeError):
    """The processors cannot start; the message says what to fix."""


@dataclass
class Worker:
    """What ``pssync streams worker`` runs: the Faust application (agents "shop-events" and
    "stock-events", their tables and timers registered on it) and the router beside it."""
    app: faust.App
    router: Router                  # started in a thread before app.main(), closed after
    decode: Decode                  # the registry's Avro decoder (the router's too)
    hubs: dict[Hub, faust.TopicT]   # the internal topics
    shop: ShopEvents                # the agents' work, record by record
    stock: StockEvents
    waits: OrderWaits               # its stats: orders waiting too long, dead letters sent for them


def build_app(settings: Settings, *, columns: Mapping[str, set[str]] | None = None,
              decode: Decode | None = None, codec: Codec | None = None) -> Worker:
    """The application for ``settings``. ``columns`` (unprefixed table -> columns) stands for the
    live schema the rules are checked against, read from MySQL when not given; ``decode`` for the
    registry's decoder; ``codec`` for the contracts' wire format on the registry."""
    sconf = settings.streams
    mapping = read_order_mapping(settings)
    rules = read_rules(settings, live_columns(settings) if columns is None else columns)
    if decode is None:
        decode = registry_decoder(settings)

    app = faust_app(settings)
    hubs: dict[Hub, faust.TopicT] = {"shop": hub_topic(app, "shop"), "stock": hub_topic(app, "stock")}
    guard_stalls(app, {hub_topic_name(app.conf.id, h) for h in hubs})
    outputs = Outputs(commands=raw_topic(app, sconf.commands_topic),
                      shop_commands=raw_topic(app, sconf.shop_commands_topic),
                      dead_letters=raw_topic(app, sconf.dead_letter_topic),
                      violations=raw_topic(app, sconf.violations_topic),
                      alerts=raw_topic(app, sconf.alerts_topic), hubs=hubs,
                      codec=codec or Codec.from_settings(settings))
    shop_state = ShopState.of(lambda name: exact_table(app, name))
    stock_state = StockState.of(lambda name: exact_table(app, name))

    waits = OrderWaits(shop_state, outputs, timeout_s=sconf.order_wait_timeout_s)
    orders = OrderAssembly(shop_state, mapping, outputs, waits)
    facts = StockFacts(shop_state, outputs, id_shop=sconf.id_shop)
    erp = ErpValues(shop_state, rules, outputs, id_shop=sconf.id_shop, reassert=sconf.reassert_erp_values,
                    table_prefix=settings.mysql.table_prefix)
    retention = Retention(shop_state, orders, outputs, partitions=sconf.partitions, days=sconf.order_state_days)
    shop = ShopEvents(decode=decode, outputs=outputs, orders=orders, facts=facts, erp=erp,
                      states=ErpStates(outputs, order_states=sconf.erp_order_states,
                                       shipment_states=sconf.erp_shipment_states,
                                       reference_prefix=mapping.shop_reference_prefix, refs=shop_state.refs),
                      mapping=ProductMapping(shop_state, orders, erp, facts), retention=retention,
                      acks_topic=settings.sinks.acks_topic)
    stock_hub = StockHub(stock_state, outputs, id_shop=sconf.id_shop,
                         guard_window_s=settings.sinks.stock_guard_window_s,
                         reconcile_delay_s=sconf.stock_reconcile_delay_s, drift_threshold=sconf.stock_drift_threshold)
    stock = StockEvents(decode=decode, outputs=outputs, stock=stock_hub)

    @app.agent(hubs["shop"], name="shop-events")
    async def on_shop_event(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            await shop(message.partition, message.value, message.headers)

    @app.agent(hubs["stock"], name="stock-events")
    async def on_stock_event(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            await stock(message.key, message.value, message.headers)

    async def forget_row_waits(sender: Any, *args: Any, **kwargs: Any) -> None:
        """Partitions moved: another worker may have changed their tables meanwhile, so what the order
        assembly keeps in memory (streams.orders_hub: the index of what orders wait for, the decoded
        currencies and configuration) is rebuilt from the tables."""
        orders.forget_cache()

    app.on_partitions_revoked.connect(forget_row_waits)
    app.on_partitions_assigned.connect(forget_row_waits)

    @app.timer(interval=sconf.prune_every_s)
    async def prune_orders() -> None:
        """Faust lets only stream processing write tables: ask each partition this worker holds."""
        if not sconf.order_state_days:
            return
        topic = hubs["shop"].get_topic_name()
        try:
            await retention.ask(sorted(tp.partition for tp in app.consumer.assignment() if tp.topic == topic))
        except Exception:   # a timer must never take the worker down (a rebalance, say): the next run asks again
            log.exception("could not ask for forgotten orders to be removed")

    @app.timer(interval=sweep_interval(sconf.order_wait_timeout_s))
    async def sweep_waiting_orders() -> None:
        """Orders waiting too long are reported by their partition (stream processing writes tables)."""
        topic = hubs["shop"].get_topic_name()
        try:
            await waits.ask(sorted(tp.partition for tp in app.consumer.assignment() if tp.topic == topic))
        except Exception:   # never take the worker down (a rebalance, say): the next run asks again
            log.exception("could not ask for waiting orders to be swept")
        if waits.stats.orders_waiting_too_long:
            log.warning("%d order(s) waiting longer than %g s (%d dead-lettered since start)",
                        waits.stats.orders_waiting_too_long, sconf.order_wait_timeout_s,
                        waits.stats.order_wait_dead_letters_total)

    # Faust lets only stream iteration write tables: the timer hands due SKUs to the stock-events topic.
    @app.timer(interval=1.0)
    async def reconcile_due() -> None:
        await stock_hub.schedule_due()

    return Worker(app=app, router=Router(settings, decode), decode=decode, hubs=hubs, shop=shop, stock=stock,
                  waits=waits)


def sweep_interval(timeout_s: float) -> float:
    """How often waiting orders are swept: often enough that one is reported within 1.5 x the timeout."""
    return max(0.5, min(timeout_s / 2, 30.0))


# ---- what is read at start -------------------------------------------------------------------------------
def read_order_mapping(settings: Settings) -> OrderMapping:
    from pydantic import ValidationError

    path = Path(settings.streams.order_mapping)
    data = _read_file("streams.order_mapping", path)
    try:
        return OrderMapping.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
                             for e in exc.errors())
        raise StartupError(f"streams.order_mapping: {path} is not a valid order mapping: {problems}") from None


def _read_file(key: str, path: Path) -> Any:
    """A YAML file named by the setting ``key``, or a StartupError in one line naming the key, the
    path and what is wrong (missing, line and column of a syntax error)."""
    from pssync.config_file import read_yaml_file
    from pssync.settings import ConfigError

    env = "PSSYNC_" + key.upper().replace(".", "__")
    try:
        return read_yaml_file(path, f"{key}:", missing_hint=f": set {key} (or {env}) to the file")
    except ConfigError as exc:
        raise StartupError(str(exc)) from None


def live_columns(settings: Settings) -> dict[str, set[str]]:
    """Columns of the shop database as it is (rules are validated against them at start)."""
    from pssync.prestashop.database import connect

    try:
        conn = connect(settings.mysql)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
                            "WHERE TABLE_SCHEMA=%s", (settings.mysql.database,))
                rows = cur.fetchall()
        finally:
            conn.close()
    except Exception as exc:
        raise StartupError(f"the ownership rules (streams.rules) are checked against the shop's database, "
                           f"which could not be read: {exc} (see the mysql.* settings)") from None
    prefix = settings.mysql.table_prefix
    columns: dict[str, set[str]] = {}
    for row in rows:
        table = row["TABLE_NAME"]
        if table.startswith(prefix):
            columns.setdefault(table[len(prefix):], set()).add(row["COLUMN_NAME"])
    return columns


def read_rules(settings: Settings, columns: Mapping[str, set[str]]) -> Rules:
    path = Path(settings.streams.rules)
    data = _read_file("streams.rules", path)
    try:
        return rules_from(data, columns, settings.mysql.table_prefix)
    except RulesError as exc:
        raise StartupError(f"streams.rules ({path}), checked against the database "
                           f"{settings.mysql.database!r}: {exc}") from None


def registry_decoder(settings: Settings) -> Callable[[bytes | None], Any]:
    from functools import partial

    from pssync.bus.avro import RegistryDecoder
    from pssync.bus.registry import Registry, RegistryError
    from pssync.schemas.change_events import row_adapter

    if settings.capture.decimal_handling_mode != "precise":
        raise StartupError(
            f"capture.decimal_handling_mode is {settings.capture.decimal_handling_mode!r}: the processors "
            "need exact decimals (prices, totals). Keep 'precise' for the capture they read, and give "
            "consumers that want doubles or text a capture of their own (another capture.name and topic_prefix).")
    try:
        registry = Registry(settings.registry)
        registry.check()               # at start: a wrong registry.url is one line, not dead letters
        return RegistryDecoder(registry.client, partial(row_adapter, zone_name=settings.capture.datetime_zone))
    except RegistryError:
        raise
    except Exception as exc:
        raise StartupError(f"registry.url {settings.registry.url!r}: {exc}") from None
