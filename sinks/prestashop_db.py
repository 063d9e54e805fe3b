"""The shop sink in database mode: stock, price, order-state and tracking commands written straight
into the PrestaShop tables, inside the runner's transaction (with the echo marker, the effect, the
sync-log row and the offsets), so that a crash repeats nothing and loses nothing.

Stock is the delicate part. The shop decrements ``ps_stock_available.quantity`` synchronously at
checkout, and a :class:`~pssync.schemas.commands.StockCommand` is an absolute level computed a moment
earlier by the stock processor. The write is guarded:

1. all stock rows of the product in the shop are locked (``SELECT ... FOR UPDATE``). A checkout
   updates these rows before it commits, so from here on every checkout of the product has either
   committed entirely, or will apply its relative decrement after our write;
2. the orders of the product placed since ``orders_since`` and not in ``known_orders`` (the
   processor did not know them) are read on a separate autocommit connection, which sees everything
   committed up to now, and subtracted. (The runner's transaction may have taken its read snapshot
   before the lock, so a checkout committed in between would be invisible to it; a locking read
   would instead deadlock with a checkout whose order lines are written and which waits for our
   lock.) Orders whose state this same transaction changed are looked at in the transaction;
3. a command older than the last one applied to the row is skipped (``pssync_stock_applied``).

Checkouts must never fail because of the sink. PrestaShop's checkout writes in autocommit, and its
recompute of reserved/physical quantities is one statement that locks the stock rows of the
order's products in primary-key order, then reads the orders with shared locks. So the sink locks
and writes stock rows by primary key only, in ascending order, before anything else a checkout
locks (an order-state command locks the order's stock rows before the order's row), and each
stock or order-state command commits in a transaction of its own (:meth:`exclusive`): should a
deadlock happen anyway, InnoDB rolls back the sink's small transaction, which the runner retries.

Order states follow PrestaShop's ``OrderHistory::changeIdOrderState`` stock rules; reserved and
physical quantities are kept consistent by applying the order's own change to them (see
:func:`reserved_by`). Not done here (unlike the PrestaShop core): invoices, delivery slips,
payments, stock movements (``ps_stock_mvt``), pack items, e-mails and hooks. Shops that need those
use the Webservice mode.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
import pymysql.cursors

from pssync.errors import PssyncError
from pssync.prestashop.configuration import resolve_configuration
from pssync.prestashop.database import connect
from pssync.prestashop.rules import CANCELLED_STATES, product_level_row, shop_owned_state
from pssync.schemas.codec import Codec
from pssync.settings import Settings
from pssync.sinks import runner
from pssync.sinks.errors import PermanentFailure, Skipped, TransientFailure
from pssync.schemas.commands import (
    OrderStateCommand,
    PriceCommand,
    ProductCommand,
    StockCommand,
    TrackingCommand,
)

log = logging.getLogger(__name__)

STOCK_GUARD_TABLE = "pssync_stock_applied"
STOCK_GUARD_DDL = f"""CREATE TABLE IF NOT EXISTS {STOCK_GUARD_TABLE} (
  id_shop INT UNSIGNED NOT NULL,
  id_product INT UNSIGNED NOT NULL,
  id_product_attribute INT UNSIGNED NOT NULL,
  command_created_at DATETIME(6) NOT NULL COMMENT 'UTC',
  command_id VARCHAR(64) NOT NULL,
  quantity INT NOT NULL,
  applied_at DATETIME(6) NOT NULL COMMENT 'UTC',
  PRIMARY KEY (id_shop, id_product, id_product_attribute)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

FIELD_GUARD_TABLE = "pssync_field_applied"
FIELD_GUARD_DDL = f"""CREATE TABLE IF NOT EXISTS {FIELD_GUARD_TABLE} (
  id_shop INT UNSIGNED NOT NULL,
  id_product INT UNSIGNED NOT NULL,
  id_product_attribute INT UNSIGNED NOT NULL,
  field VARCHAR(32) NOT NULL,
  erp_changed_at DATETIME(6) NOT NULL COMMENT 'UTC',
  command_id VARCHAR(64) NOT NULL,
  applied_at DATETIME(6) NOT NULL COMMENT 'UTC',
  PRIMARY KEY (id_shop, id_product, id_product_attribute, field)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

CANCELED, ERROR = CANCELLED_STATES
PRICE_STEP = Decimal("0.000001")          # DECIMAL(20,6)


# ---- pure helpers ------------------------------------------------------------------------------

def shop_datetime(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware instant as the shop writes DATETIME columns: wall time in ``zone``, no tzinfo,
    floored to the second (the columns have no fraction: an order placed in the same second as
    ``value`` has a ``date_add`` equal to it, and must compare as not earlier)."""
    if value.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def unseen_quantity(orders: Iterable[Mapping[str, Any]], known: Iterable[int], not_counted_states: set[int]) -> int:
    """Units of ``orders`` (rows with id_order, current_state, quantity) that the processor did not
    know and that still hold stock (not canceled, not in payment error)."""
    known_ids = set(known)
    return sum(int(o["quantity"]) for o in orders
               if int(o["id_order"]) not in known_ids and int(o["current_state"]) not in not_counted_states)


def quantity_to_write(computed: int, unseen: int) -> int:
    return max(0, computed - unseen)


@dataclass(frozen=True)
class StateFlags:
    id: int
    logable: bool
    shipped: bool


def stock_sign(old: StateFlags, new: StateFlags, canceled_or_error: set[int]) -> int:
    """+1: the order's quantities go back to ``quantity``; -1: taken again; 0: unchanged.
    PrestaShop's OrderHistory::changeIdOrderState:
      * logable -> not logable, the new state being CANCELED/ERROR: +q;
      * not logable -> CANCELED/ERROR, coming from a state that is neither: +q;
      * not logable -> logable, coming from CANCELED/ERROR: -q;
      * anything else (payment, preparation, shipping, ...): quantity unchanged."""
    new_out, old_out = new.id in canceled_or_error, old.id in canceled_or_error
    if new.logable and not old.logable:
        return -1 if old_out else 0
    if old.logable and not new.logable:
        return 1 if new_out else 0
    if not old.logable and not new.logable and new_out and not old_out:
        return 1
    return 0


def reserved_by(state: StateFlags, canceled_or_error: set[int]) -> bool:
    """Whether an order in ``state`` counts in reserved_quantity: PrestaShop's recompute
    (StockManager::updatePhysicalProductQuantity) sums the orders in a state that is not shipped
    and not CANCELED/ERROR (or valid, which those two never are)."""
    return not state.shipped and state.id not in canceled_or_error


def combination_impact(price: Decimal, base_price: Decimal) -> Decimal:
    """ps_product_attribute.price holds the combination's impact on the product's price."""
    return (Decimal(price) - Decimal(base_price)).quantize(PRICE_STEP)


# ---- the applier ------------------------------------------------------------------------------

class PrestashopDbApplier:
    direction = "to_shop"
    remote = False
    marks_echo = True

    def __init__(self, settings: Settings, *, prepare: bool = True, codec: Codec | None = None) -> None:
        """``prepare``: create the stale-guard table now (False in tests without a database). It
        must exist before the runner's transaction first reads: InnoDB refuses a table created after
        a transaction's read view ("Table definition has changed", a retry)."""
        self.settings = settings
        self.codec = codec or Codec.from_settings(settings)
        self.name = f"shop-db-{settings.capture.name}"
        self.topics = [settings.streams.shop_commands_topic]
        self.zone = ZoneInfo(settings.capture.datetime_zone)
        self._db = settings.mysql.database
        self._prefix = settings.mysql.table_prefix
        self._fresh: pymysql.connections.Connection | None = None
        self._guard_ready = False
        self._order_state_columns: set[str] | None = None
        # orders whose state the current transaction changed; cleared before each commit (a
        # rolled-back attempt leaves a few ids here: harmless, they are only looked at again)
        self._touched_orders: set[int] = set()
        if prepare:
            self._create_guard_table(settings.sinks.state_database or settings.mysql.database)

    # ---- protocol --------------------------------------------------------------------------
    def decode(self, value: bytes | None, where: str) -> runner.Decoded:
        command = self.codec.shop_command(value, where)
        return runner.Decoded(command.key, command.command_id, command)

    def apply(self, conn: pymysql.connections.Connection, command: Any) -> str | None:
        if isinstance(command, StockCommand):
            return self.apply_stock(conn, command)
        if isinstance(command, PriceCommand):
            return self.apply_price(conn, command)
        if isinstance(command, ProductCommand):
            return self.apply_product(conn, command)
        if isinstance(command, OrderStateCommand):
            return self.apply_order_state(conn, command)
        if isinstance(command, TrackingCommand):
            return self.apply_tracking(conn, command)
        raise PermanentFailure(f"the shop database sink cannot apply a {type(command).__name__}")

    def exclusive(self, command: Any) -> bool:
        """Stock and order-state commands lock stock rows that checkouts write: each commits in a
        transaction of its own (see :mod:`pssync.sinks.runner`)."""
        return isinstance(command, (StockCommand, OrderStateCommand))

    def before_commit(self) -> None:
        self._touched_orders.clear()

    def close(self) -> None:
        if self._fresh is not None:
            try:
                self._fresh.close()
            except Exception:
                pass
            self._fresh = None

    # ---- plumbing -------------------------------------------------------------------------
    def t(self, name: str) -> str:
        """A shop table, qualified: the runner's connection may be on sinks.state_database."""
        return f"`{self._db}`.`{self._prefix}{name}`"

    def now(self) -> dt.datetime:
        return shop_datetime(dt.datetime.now(dt.timezone.utc), self.zone)

    @staticmethod
    def _rows(conn: pymysql.connections.Connection, sql: str, args: Any = None) -> list[dict[str, Any]]:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    @staticmethod
    def _exec(conn: pymysql.connections.Connection, sql: str, args: Any = None) -> int:
        with conn.cursor() as cur:
            return cur.execute(sql, args)

    def _connect(self, database: str | None = None) -> pymysql.connections.Connection:
        """A side connection (autocommit, dict rows); the server being away is worth a retry."""
        try:
            return connect(self.settings.mysql, database=database)
        except PssyncError as exc:
            raise TransientFailure(str(exc)) from exc

    def _fresh_conn(self) -> pymysql.connections.Connection:
        """An autocommit connection: each statement reads everything committed so far."""
        if self._fresh is not None:
            try:
                self._fresh.ping(reconnect=False)
                return self._fresh
            except Exception:
                self.close()
        self._fresh = self._connect()
        return self._fresh

    def _ensure_guard_table(self, conn: pymysql.connections.Connection) -> None:
        """In the database the runner's connection uses (where the effects live)."""
        if not self._guard_ready:
            self._create_guard_table(self._rows(conn, "SELECT DATABASE() AS db")[0]["db"])

    def _create_guard_table(self, database: str) -> None:
        """CREATE TABLE commits implicitly, so never on the runner's connection: on a side one."""
        side = self._connect(database)
        try:
            self._exec(side, STOCK_GUARD_DDL)
            self._exec(side, FIELD_GUARD_DDL)
        finally:
            side.close()
        self._guard_ready = True

    def _configuration(self, conn: pymysql.connections.Connection, names: list[str], id_shop: int,
                       id_shop_group: int) -> dict[str, str | None]:
        rows = self._rows(conn, f"SELECT id_configuration, id_shop_group, id_shop, name, value FROM "
                                f"{self.t('configuration')} WHERE name IN ({','.join(['%s'] * len(names))})",
                          names)
        return {n: resolve_configuration(rows, n, id_shop, id_shop_group) for n in names}

    def _state_ids(self, conn: pymysql.connections.Connection, names: list[str], id_shop: int,
                   id_shop_group: int) -> dict[str, int | None]:
        values = self._configuration(conn, names, id_shop, id_shop_group)
        return {n: int(v) if v is not None and v.strip().isdigit() else None for n, v in values.items()}

    def _shop_group(self, conn: pymysql.connections.Connection, id_shop: int) -> int:
        rows = self._rows(conn, f"SELECT id_shop_group FROM {self.t('shop')} WHERE id_shop=%s", (id_shop,))
        return int(rows[0]["id_shop_group"]) if rows else 0

    def _canceled_or_error(self, conn: pymysql.connections.Connection, id_shop: int, id_shop_group: int) -> set[int]:
        ids = self._state_ids(conn, [CANCELED, ERROR], id_shop, id_shop_group)
        return {i for i in ids.values() if i is not None}

    # ---- stock ----------------------------------------------------------------------------
    def _lock_stock(self, conn: pymysql.connections.Connection, products: Iterable[int],
                    id_shop: int) -> list[dict[str, Any]]:
        """Every stock row of the products in the shop, locked in primary-key order, the order in
        which PrestaShop's checkout takes them (its multi-row recompute of reserved and physical
        quantities scans them so): a checkout holding some of them never waits for one we hold
        while we wait for one it holds. A checkout updates some of these rows before it is done,
        so it has written its stock or waits for us. Rows by product, combination."""
        ids = sorted({int(p) for p in products})
        if not ids:
            return []
        found = self._rows(conn, f"SELECT id_stock_available FROM {self.t('stock_available')} WHERE id_shop=%s "
                                 f"AND id_product IN ({','.join(['%s'] * len(ids))})", (id_shop, *ids))
        keys = sorted(int(r["id_stock_available"]) for r in found)
        if not keys:
            return []
        rows = self._rows(conn, f"SELECT id_stock_available, id_product, id_product_attribute, quantity, "
                                f"reserved_quantity, physical_quantity FROM {self.t('stock_available')} "
                                f"WHERE id_stock_available IN ({','.join(['%s'] * len(keys))}) "
                                "ORDER BY id_stock_available FOR UPDATE", keys)
        return sorted(rows, key=lambda r: (int(r["id_product"]), int(r["id_product_attribute"])))

    def _lock_product_stock(self, conn: pymysql.connections.Connection, id_product: int,
                            id_shop: int) -> list[dict[str, Any]]:
        """Every stock row of the product in the shop, locked (see :meth:`_lock_stock`)."""
        return self._lock_stock(conn, [id_product], id_shop)

    def _lock_order_stock(self, conn: pymysql.connections.Connection, id_order: int) -> None:
        """The stock rows of the order's products, locked before the order's own row: PrestaShop's
        recompute holds stock rows while it reads the orders (with shared locks), so a sink holding
        the order and then waiting for the stock would deadlock with a checkout."""
        lines = self._rows(conn, f"SELECT DISTINCT product_id, id_shop FROM {self.t('order_detail')} "
                                 "WHERE id_order=%s", (id_order,))
        for id_shop in sorted({int(line["id_shop"]) for line in lines}):
            self._lock_stock(conn, [int(line["product_id"]) for line in lines if int(line["id_shop"]) == id_shop],
                             id_shop)

    def _resum_product_level(self, conn: pymysql.connections.Connection, id_product: int, id_shop: int) -> None:
        # read again through the lock (held already): the rows as they are now, not as the
        # transaction's snapshot saw them before a checkout changed a sibling combination
        rows = self._lock_product_stock(conn, id_product, id_shop)
        top = next((r for r in rows if int(r["id_product_attribute"]) == 0), None)
        if top is None:
            return
        q, r, p = product_level_row(rows)
        self._exec(conn, f"UPDATE {self.t('stock_available')} SET quantity=%s, reserved_quantity=%s, "
                         "physical_quantity=%s WHERE id_stock_available=%s", (q, r, p, top["id_stock_available"]))

    def _unseen_orders(self, conn: pymysql.connections.Connection, c: StockCommand,
                       not_counted: set[int]) -> tuple[int, list[int]]:
        since = shop_datetime(c.orders_since, self.zone)
        sql = (f"SELECT o.id_order, o.current_state, SUM(od.product_quantity) AS quantity "
               f"FROM {self.t('orders')} o JOIN {self.t('order_detail')} od ON od.id_order=o.id_order "
               "WHERE od.product_id=%s AND IFNULL(od.product_attribute_id, 0)=%s AND o.id_shop=%s "
               "AND o.date_add>=%s GROUP BY o.id_order, o.current_state")
        orders = self._rows(self._fresh_conn(), sql, (c.id_product, c.id_product_attribute, c.id_shop, since))
        touched = [int(o["id_order"]) for o in orders if int(o["id_order"]) in self._touched_orders]
        if touched:   # this transaction changed their state: its own view is the true one
            own = {int(r["id_order"]): int(r["current_state"]) for r in self._rows(
                conn, f"SELECT id_order, current_state FROM {self.t('orders')} WHERE id_order IN "
                      f"({','.join(['%s'] * len(touched))})", touched)}
            orders = [{**o, "current_state": own.get(int(o["id_order"]), o["current_state"])} for o in orders]
        known = set(c.known_orders)
        ids = sorted(int(o["id_order"]) for o in orders
                     if int(o["id_order"]) not in known and int(o["current_state"]) not in not_counted)
        return unseen_quantity(orders, known, not_counted), ids

    def apply_stock(self, conn: pymysql.connections.Connection, c: StockCommand) -> str:
        self._ensure_guard_table(conn)
        where = (f"{self._prefix}stock_available row (id_product {c.id_product}, id_product_attribute "
                 f"{c.id_product_attribute}, id_shop {c.id_shop})")
        rows = self._lock_product_stock(conn, c.id_product, c.id_shop)
        row = next((r for r in rows if int(r["id_product_attribute"]) == c.id_product_attribute), None)
        if row is None:
            raise PermanentFailure(f"no {where}")
        if c.id_product_attribute == 0 and any(int(r["id_product_attribute"]) for r in rows):
            raise PermanentFailure(f"{where} is the product-level row of a product with combinations "
                                   "(the sum of their rows): set the combinations instead")

        # stale guard: a command created before the last applied one carries an older ERP view
        created = c.created_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
        guard = self._rows(conn, f"SELECT command_created_at, command_id FROM {STOCK_GUARD_TABLE} "
                                 "WHERE id_shop=%s AND id_product=%s AND id_product_attribute=%s FOR UPDATE",
                           (c.id_shop, c.id_product, c.id_product_attribute))
        if guard and guard[0]["command_created_at"] > created:
            raise Skipped(f"stale: created {c.created_at.isoformat()}, before the applied command "
                          f"{guard[0]['command_id']} of {guard[0]['command_created_at'].isoformat()}Z")

        not_counted = self._canceled_or_error(conn, c.id_shop, self._shop_group(conn, c.id_shop))
        unseen, unseen_ids = self._unseen_orders(conn, c, not_counted)
        quantity = quantity_to_write(c.quantity, unseen)
        reserved = int(row["reserved_quantity"])
        self._exec(conn, f"UPDATE {self.t('stock_available')} SET quantity=%s, physical_quantity=%s "
                         "WHERE id_stock_available=%s", (quantity, quantity + reserved, row["id_stock_available"]))
        if c.id_product_attribute != 0:
            self._resum_product_level(conn, c.id_product, c.id_shop)
        self._exec(conn, f"INSERT INTO {STOCK_GUARD_TABLE} (id_shop, id_product, id_product_attribute, "
                         "command_created_at, command_id, quantity, applied_at) VALUES (%s,%s,%s,%s,%s,%s,%s) "
                         "ON DUPLICATE KEY UPDATE command_created_at=VALUES(command_created_at), "
                         "command_id=VALUES(command_id), quantity=VALUES(quantity), applied_at=VALUES(applied_at)",
                   (c.id_shop, c.id_product, c.id_product_attribute, created, c.command_id, quantity,
                    dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)))
        if unseen:
            log.info("stock %s: %d unseen ordered unit(s) subtracted (orders %s)", c.sku, unseen, unseen_ids)
        return f"quantity {quantity} (computed {c.quantity}, {unseen} unseen ordered)"

    # ---- price ----------------------------------------------------------------------------
    def _field_guard(self, conn: pymysql.connections.Connection, c: PriceCommand | ProductCommand,
                     field: str, id_product_attribute: int) -> None:
        """Skip a value the ERP changed before the one already applied (a replayed dead letter, a
        re-run window): idempotency keeps a command from acting twice, this keeps an old one from
        undoing a newer one. Re-asserts carry the ERP change's own time and pass. Records the
        command's time for the next one."""
        self._ensure_guard_table(conn)
        changed = c.changed_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
        guard = self._rows(conn, f"SELECT erp_changed_at, command_id FROM {FIELD_GUARD_TABLE} WHERE id_shop=%s "
                                 "AND id_product=%s AND id_product_attribute=%s AND field=%s FOR UPDATE",
                           (c.id_shop, c.id_product, id_product_attribute, field))
        if guard and guard[0]["erp_changed_at"] > changed:
            raise Skipped(f"stale {field}: changed in the ERP at {c.changed_at.isoformat()}, before the applied "
                          f"command {guard[0]['command_id']} ({guard[0]['erp_changed_at'].isoformat()}Z)")
        self._exec(conn, f"INSERT INTO {FIELD_GUARD_TABLE} (id_shop, id_product, id_product_attribute, field, "
                         "erp_changed_at, command_id, applied_at) VALUES (%s,%s,%s,%s,%s,%s,%s) ON DUPLICATE KEY "
                         "UPDATE erp_changed_at=VALUES(erp_changed_at), command_id=VALUES(command_id), "
                         "applied_at=VALUES(applied_at)",
                   (c.id_shop, c.id_product, id_product_attribute, field, changed, c.command_id,
                    dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)))

    def apply_product(self, conn: pymysql.connections.Connection, c: ProductCommand) -> str:
        self._field_guard(conn, c, "active", 0)
        product = self._rows(conn, f"SELECT active FROM {self.t('product')} WHERE id_product=%s FOR UPDATE",
                             (c.id_product,))
        shop = self._rows(conn, f"SELECT active FROM {self.t('product_shop')} WHERE id_product=%s AND id_shop=%s "
                                "FOR UPDATE", (c.id_product, c.id_shop))
        if not product or not shop:
            raise PermanentFailure(f"no {self._prefix}{'product' if not product else 'product_shop'} row for "
                                   f"id_product {c.id_product} (sku {c.sku}, id_shop {c.id_shop})")
        active = int(c.active)
        if int(product[0]["active"]) == active and int(shop[0]["active"]) == active:
            raise Skipped(f"active already {active}")
        now = self.now()
        self._exec(conn, f"UPDATE {self.t('product')} SET active=%s, date_upd=%s WHERE id_product=%s",
                   (active, now, c.id_product))
        self._exec(conn, f"UPDATE {self.t('product_shop')} SET active=%s, date_upd=%s WHERE id_product=%s "
                         "AND id_shop=%s", (active, now, c.id_product, c.id_shop))
        return f"active {active}"

    def apply_price(self, conn: pymysql.connections.Connection, c: PriceCommand) -> str:
        self._field_guard(conn, c, "price", c.id_product_attribute)
        price = Decimal(c.price).quantize(PRICE_STEP)
        product = self._rows(conn, f"SELECT price FROM {self.t('product')} WHERE id_product=%s FOR UPDATE",
                             (c.id_product,))
        if not product:
            raise PermanentFailure(f"no {self._prefix}product row with id_product {c.id_product}")
        shop = self._rows(conn, f"SELECT price FROM {self.t('product_shop')} WHERE id_product=%s AND id_shop=%s "
                                "FOR UPDATE", (c.id_product, c.id_shop))
        if c.id_product_attribute == 0:
            if not shop:
                raise PermanentFailure(f"no {self._prefix}product_shop row (id_product {c.id_product}, "
                                       f"id_shop {c.id_shop})")
            if product[0]["price"] == price and shop[0]["price"] == price:
                raise Skipped(f"price already {price}")
            now = self.now()
            self._exec(conn, f"UPDATE {self.t('product')} SET price=%s, date_upd=%s WHERE id_product=%s",
                       (price, now, c.id_product))
            self._exec(conn, f"UPDATE {self.t('product_shop')} SET price=%s, date_upd=%s "
                             "WHERE id_product=%s AND id_shop=%s", (price, now, c.id_product, c.id_shop))
            return f"price {price}"

        base = shop[0]["price"] if shop else product[0]["price"]
        impact = combination_impact(price, base)
        combo = self._rows(conn, f"SELECT price FROM {self.t('product_attribute')} WHERE id_product_attribute=%s "
                                 "AND id_product=%s FOR UPDATE", (c.id_product_attribute, c.id_product))
        combo_shop = self._rows(conn, f"SELECT price FROM {self.t('product_attribute_shop')} "
                                      "WHERE id_product_attribute=%s AND id_product=%s AND id_shop=%s FOR UPDATE",
                                (c.id_product_attribute, c.id_product, c.id_shop))
        if not combo or not combo_shop:
            table = "product_attribute" if not combo else "product_attribute_shop"
            raise PermanentFailure(f"no {self._prefix}{table} row (id_product {c.id_product}, id_product_attribute "
                                   f"{c.id_product_attribute}" + (f", id_shop {c.id_shop})" if combo else ")"))
        if combo[0]["price"] == impact and combo_shop[0]["price"] == impact:
            raise Skipped(f"impact already {impact} (price {price} on base {base})")
        self._exec(conn, f"UPDATE {self.t('product_attribute')} SET price=%s WHERE id_product_attribute=%s",
                   (impact, c.id_product_attribute))
        self._exec(conn, f"UPDATE {self.t('product_attribute_shop')} SET price=%s "
                         "WHERE id_product_attribute=%s AND id_shop=%s", (impact, c.id_product_attribute, c.id_shop))
        return f"impact {impact} (price {price} on base {base})"

    # ---- order state ----------------------------------------------------------------------
    def _state_columns(self, conn: pymysql.connections.Connection) -> set[str]:
        if self._order_state_columns is None:
            rows = self._rows(conn, "SELECT column_name AS c FROM information_schema.columns "
                                    "WHERE table_schema=%s AND table_name=%s",
                              (self._db, f"{self._prefix}order_state"))
            self._order_state_columns = {r["c"].lower() for r in rows}
        return self._order_state_columns

    def _flags(self, conn: pymysql.connections.Connection, ids: list[int]) -> dict[int, StateFlags]:
        columns = self._state_columns(conn)
        logable = "logable" if "logable" in columns else "0"
        shipped = "shipped" if "shipped" in columns else "0"
        rows = self._rows(conn, f"SELECT id_order_state AS id, {logable} AS logable, {shipped} AS shipped FROM "
                                f"{self.t('order_state')} WHERE id_order_state IN ({','.join(['%s'] * len(ids))})",
                          ids)
        return {int(r["id"]): StateFlags(int(r["id"]), bool(r["logable"]), bool(r["shipped"])) for r in rows}

    def apply_order_state(self, conn: pymysql.connections.Connection, c: OrderStateCommand) -> str:
        self._lock_order_stock(conn, c.id_order)      # stock rows first: the checkout's lock order
        orders = self._rows(conn, f"SELECT id_order, id_shop, id_shop_group, current_state, reference FROM "
                                  f"{self.t('orders')} WHERE id_order=%s FOR UPDATE", (c.id_order,))
        if not orders:
            raise PermanentFailure(f"no order {c.id_order} ({c.shop_reference}) in {self._prefix}orders")
        self._check_reference(c.shop_reference, c.id_order, orders[0]["reference"])
        order = orders[0]
        id_shop, id_group = int(order["id_shop"]), int(order["id_shop_group"])
        owned_keys = list(self.settings.sinks.shop_owned_states)
        ids = self._state_ids(conn, [c.state_key, CANCELED, ERROR, *owned_keys], id_shop, id_group)
        target = ids[c.state_key]
        if target is None:
            raise PermanentFailure(f"{c.state_key} is not set to a state id in {self._prefix}configuration")
        old_id = int(order["current_state"])
        newest = self._rows(conn, f"SELECT id_order_state FROM {self.t('order_history')} WHERE id_order=%s "
                                  "ORDER BY id_order_history DESC LIMIT 1", (c.id_order,))
        owned = {ids[k]: k for k in owned_keys if ids[k] is not None}
        holding = shop_owned_state([old_id, int(newest[0]["id_order_state"]) if newest else None], owned, target)
        if holding is not None:
            raise Skipped(f"order is in {owned[holding]} ({holding}), which the shop owns: the ERP's "
                          f"{c.erp_state!r} ({c.state_key}) does not take it out")
        flags = self._flags(conn, [old_id, target])
        if target not in flags:
            raise PermanentFailure(f"{c.state_key}={target} is not in {self._prefix}order_state")
        if old_id == target:
            raise Skipped(f"order already in {c.state_key} ({target})")
        if self._rows(conn, f"SELECT 1 AS x FROM {self.t('order_history')} WHERE id_order=%s AND id_order_state=%s "
                            "LIMIT 1", (c.id_order, target)):
            raise Skipped(f"order was already in {c.state_key} ({target})")

        old = flags.get(old_id, StateFlags(old_id, False, False))   # an unknown state: as PrestaShop's empty one
        new = flags[target]
        out = {ids[CANCELED], ids[ERROR]} - {None}
        moved = self._order_stock(conn, c.id_order, id_shop, old, new, out)

        now = self.now()
        self._exec(conn, f"INSERT INTO {self.t('order_history')} (id_employee, id_order, id_order_state, date_add) "
                         "VALUES (0, %s, %s, %s)", (c.id_order, target, now))
        if "logable" in self._state_columns(conn):
            self._exec(conn, f"UPDATE {self.t('orders')} SET current_state=%s, valid=%s, date_upd=%s "
                             "WHERE id_order=%s", (target, int(new.logable), now, c.id_order))
        else:
            self._exec(conn, f"UPDATE {self.t('orders')} SET current_state=%s, date_upd=%s WHERE id_order=%s",
                       (target, now, c.id_order))
        self._touched_orders.add(c.id_order)
        return f"state {old_id} -> {target} ({c.state_key}){moved}"

    def _order_stock(self, conn: pymysql.connections.Connection, id_order: int, id_shop: int,
                     old: StateFlags, new: StateFlags, out: set[int]) -> str:
        """The order's lines' effect on stock when it moves from ``old`` to ``new``:
        * quantity: +q / -q / nothing per :func:`stock_sign` (PrestaShop's rules);
        * reserved_quantity: +/-(q - refunded) when the order starts / stops being reserved
          (:func:`reserved_by`), which keeps "reserved = the open orders' quantities" true;
        * physical_quantity = quantity + reserved_quantity;
        then the product-level row of a combination is re-summed. Only the order's own change is
        applied, relative to the locked rows: other orders' concurrent changes are never undone."""
        sign = stock_sign(old, new, out)
        reserve = int(reserved_by(new, out)) - int(reserved_by(old, out))
        if not sign and not reserve:
            return ""
        lines = self._rows(conn, f"SELECT product_id, IFNULL(product_attribute_id, 0) AS id_product_attribute, "
                                 "product_quantity, product_quantity_refunded FROM "
                                 f"{self.t('order_detail')} WHERE id_order=%s ORDER BY product_id, "
                                 "product_attribute_id", (id_order,))
        changed = []
        for product_id in sorted({int(line["product_id"]) for line in lines}):
            # locked already (apply_order_state); written by primary key only, as they were locked
            stock = {int(r["id_product_attribute"]): r["id_stock_available"]
                     for r in self._lock_product_stock(conn, product_id, id_shop)}
            combos = False
            for line in lines:
                if int(line["product_id"]) != product_id:
                    continue
                attr = int(line["id_product_attribute"])
                dq = sign * int(line["product_quantity"])
                dr = reserve * max(0, int(line["product_quantity"]) - int(line["product_quantity_refunded"]))
                if attr not in stock:       # no stock row for the line (a product deleted since): nothing to move
                    continue
                self._exec(conn, f"UPDATE {self.t('stock_available')} SET quantity=quantity+%s, "
                                 "reserved_quantity=GREATEST(0, reserved_quantity+%s) WHERE id_stock_available=%s",
                           (dq, dr, stock[attr]))
                # a statement of its own: whether one SET sees the other's new values depends on sql_mode
                self._exec(conn, f"UPDATE {self.t('stock_available')} SET physical_quantity=quantity+reserved_quantity "
                                 "WHERE id_stock_available=%s", (stock[attr],))
                combos = combos or attr != 0
                changed.append(f"{product_id}/{attr} {dq:+d}/{dr:+d}")
            if combos:
                self._resum_product_level(conn, product_id, id_shop)
        return "; stock (quantity/reserved) " + ", ".join(changed)

    # ---- tracking -------------------------------------------------------------------------
    def _check_reference(self, shop_reference: str, id_order: int, reference: str | None) -> None:
        """An ERP order from another channel or shop can carry a reference ending in "-<digits>":
        the order's own reference must match too, never the id alone."""
        if not shop_reference.endswith(f"{reference or ''}-{id_order}") or not reference:
            raise PermanentFailure(f"ERP order reference {shop_reference} does not belong to shop order "
                                   f"{id_order} (reference {reference!r})")

    def apply_tracking(self, conn: pymysql.connections.Connection, c: TrackingCommand) -> str:
        order = self._rows(conn, f"SELECT reference FROM {self.t('orders')} WHERE id_order=%s", (c.id_order,))
        if not order:
            raise PermanentFailure(f"no order {c.id_order} ({c.shop_reference}) in {self._prefix}orders")
        self._check_reference(c.shop_reference, c.id_order, order[0]["reference"])
        rows = self._rows(conn, f"SELECT id_order_carrier, tracking_number FROM {self.t('order_carrier')} "
                                "WHERE id_order=%s ORDER BY id_order_carrier DESC LIMIT 1 FOR UPDATE", (c.id_order,))
        if not rows:
            raise PermanentFailure(f"no {self._prefix}order_carrier row for order {c.id_order} ({c.shop_reference})")
        row = rows[0]
        if (row["tracking_number"] or "") == c.tracking_number:
            raise Skipped(f"tracking number already {c.tracking_number}")
        self._exec(conn, f"UPDATE {self.t('order_carrier')} SET tracking_number=%s WHERE id_order_carrier=%s",
                   (c.tracking_number, row["id_order_carrier"]))
        return f"tracking {c.tracking_number} on order_carrier {row['id_order_carrier']}"
