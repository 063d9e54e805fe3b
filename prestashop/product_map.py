"""External-id mapping between PrestaShop products/combinations and ERP SKUs: the one place
records are matched, always on stable ids, never on names. Kept in the table
``pssync_product_map`` of the shop database so the sinks can read it inside their own MySQL
transactions."""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pymysql

from pssync.errors import PermanentError

log = logging.getLogger(__name__)

TABLE = "pssync_product_map"
DDL = f"""CREATE TABLE IF NOT EXISTS `{TABLE}` (
  `erp` VARCHAR(64) NOT NULL,
  `id_product` INT(10) UNSIGNED NOT NULL,
  `id_product_attribute` INT(10) UNSIGNED NOT NULL DEFAULT 0,
  `sku` VARCHAR(128) NOT NULL,
  `erp_product_id` VARCHAR(64) NOT NULL,
  `source` ENUM('catalogue','manual') NOT NULL DEFAULT 'catalogue',
  `date_upd` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`erp`, `id_product`, `id_product_attribute`),
  UNIQUE KEY `erp_sku` (`erp`, `sku`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"""


@dataclass(frozen=True)
class Mapping:
    erp: str
    id_product: int
    id_product_attribute: int
    sku: str
    erp_product_id: str
    source: str = "catalogue"


@dataclass(frozen=True)
class ErpItem:
    sku: str
    erp_product_id: str


@dataclass
class LoadReport:
    mapped: list[Mapping]
    unknown: list[ErpItem]                     # ERP SKUs no shop product/combination has
    ambiguous: dict[str, list[tuple[int, int]]]  # SKU -> several shop candidates: not guessed
    kept_manual: list[Mapping]


def ensure_table(conn: pymysql.connections.Connection) -> None:
    with conn.cursor() as cur:
        cur.execute(DDL)


def shop_references(conn: pymysql.connections.Connection, prefix: str) -> dict[str, list[tuple[int, int]]]:
    """SKU candidates in the shop: each combination as ``<reference>-<id_product_attribute>`` and
    under its own reference, each product without combinations under its reference."""
    candidates: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with conn.cursor() as cur:
        cur.execute(f"SELECT pa.id_product, pa.id_product_attribute, pa.reference, p.reference AS parent "
                    f"FROM {prefix}product_attribute pa JOIN {prefix}product p USING (id_product)")
        with_combinations = set()
        for row in cur.fetchall():
            row = _row(row, cur)
            with_combinations.add(row["id_product"])
            key = (int(row["id_product"]), int(row["id_product_attribute"]))
            parent = row["parent"] or row["reference"]
            if parent:
                candidates[f"{parent}-{key[1]}"].append(key)
            if row["reference"] and row["reference"] != parent:
                candidates[row["reference"]].append(key)
        cur.execute(f"SELECT id_product, reference FROM {prefix}product")
        for row in cur.fetchall():
            row = _row(row, cur)
            if row["reference"] and int(row["id_product"]) not in with_combinations:
                candidates[row["reference"]].append((int(row["id_product"]), 0))
    return candidates


def _row(row, cur) -> dict:
    if isinstance(row, dict):
        return row
    return {d[0]: v for d, v in zip(cur.description, row)}


def load_from_catalogue(conn: pymysql.connections.Connection, prefix: str, erp: str,
                        items: Iterable[ErpItem]) -> LoadReport:
    """Map every ERP SKU that names exactly one shop product/combination; report the rest.
    Manual mappings are never overwritten."""
    ensure_table(conn)
    candidates = shop_references(conn, prefix)
    manual = {(m.id_product, m.id_product_attribute): m for m in all_mappings(conn, erp) if m.source == "manual"}
    report = LoadReport([], [], {}, list(manual.values()))
    for item in items:
        found = candidates.get(item.sku, [])
        if not found:
            report.unknown.append(item)
        elif len(found) > 1:
            report.ambiguous[item.sku] = found
        elif found[0] not in manual:
            report.mapped.append(Mapping(erp, found[0][0], found[0][1], item.sku, item.erp_product_id))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO `{TABLE}` (erp, id_product, id_product_attribute, sku, erp_product_id, source) "
            "VALUES (%s, %s, %s, %s, %s, 'catalogue') ON DUPLICATE KEY UPDATE sku=VALUES(sku), "
            "erp_product_id=VALUES(erp_product_id)",
            [(m.erp, m.id_product, m.id_product_attribute, m.sku, m.erp_product_id) for m in report.mapped])
    conn.commit()
    return report


class MappingConflict(PermanentError, ValueError):
    """A manual mapping that would take a SKU from another product/combination, or give a mapped
    product/combination another SKU, without being told to (``reassign``)."""


def row_name(id_product: int, id_product_attribute: int) -> str:
    """A shop row as people name it: ``product 7`` or ``product 16 combination 28``."""
    if id_product_attribute:
        return f"product {id_product} combination {id_product_attribute}"
    return f"product {id_product}"


@dataclass(frozen=True)
class MappingChange:
    """What one manual mapping does: ``sku`` now names ``row``; it was taken from ``taken_from``
    (left unmapped), and ``row`` lost the SKU it had (``replaced_sku``, now nobody's)."""
    erp: str
    sku: str
    row: tuple[int, int]
    erp_product_id: str
    taken_from: tuple[int, int] | None = None
    replaced_sku: str | None = None

    @property
    def moves(self) -> bool:
        return self.taken_from is not None or self.replaced_sku is not None

    def describe(self) -> str:
        text = f"mapped {row_name(*self.row)} to {self.sku}"
        if self.taken_from is not None:
            text += f" (moved from {row_name(*self.taken_from)}, now unmapped)"
        if self.replaced_sku is not None:
            text += f"; its SKU {self.replaced_sku} is no longer mapped"
        return text


def plan_mapping(mapping: Mapping, holder: Mapping | None, current: Mapping | None,
                 reassign: bool = False) -> MappingChange:
    """What mapping ``mapping`` changes, given the row now holding its SKU (``holder``) and the
    mapping its row has now (``current``). Taking a SKU from another row, or replacing a row's SKU,
    is refused (:class:`MappingConflict`, one line naming both) unless ``reassign``."""
    row = (mapping.id_product, mapping.id_product_attribute)
    taken = None if holder is None or (holder.id_product, holder.id_product_attribute) == row else (
        holder.id_product, holder.id_product_attribute)
    replaced = None if current is None or current.sku == mapping.sku else current.sku
    change = MappingChange(mapping.erp, mapping.sku, row, mapping.erp_product_id, taken, replaced)
    if change.moves and not reassign:
        held = []
        if taken is not None:
            held.append(f"SKU {mapping.sku} is mapped to {row_name(*taken)}")
        if replaced is not None:
            held.append(f"{row_name(*row)} is mapped to SKU {replaced}")
        raise MappingConflict(f"{' and '.join(held)}: not mapping {row_name(*row)} to {mapping.sku}; "
                              "rerun with --reassign to move it (the processors re-key both products)")
    return change


def set_mapping(conn: pymysql.connections.Connection, mapping: Mapping, reassign: bool = False) -> MappingChange:
    """Record a manual mapping in one transaction. A SKU mapped to another row, or a row mapped to
    another SKU, is refused unless ``reassign``: then the other row's mapping is deleted and this
    row's replaced, together (the processors see both changes and re-key: streams.product_mapping,
    streams.stock_hub)."""
    ensure_table(conn)
    conn.begin()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT erp, id_product, id_product_attribute, sku, erp_product_id, source FROM `{TABLE}` "
                        "WHERE erp=%s AND (sku=%s OR (id_product=%s AND id_product_attribute=%s)) FOR UPDATE",
                        (mapping.erp, mapping.sku, mapping.id_product, mapping.id_product_attribute))
            found = [Mapping(**_row(r, cur)) for r in cur.fetchall()]
            row = (mapping.id_product, mapping.id_product_attribute)
            holder = next((m for m in found if m.sku == mapping.sku), None)
            current = next((m for m in found if (m.id_product, m.id_product_attribute) == row), None)
            change = plan_mapping(mapping, holder, current, reassign)
            if change.taken_from is not None:
                cur.execute(f"DELETE FROM `{TABLE}` WHERE erp=%s AND id_product=%s AND id_product_attribute=%s",
                            (mapping.erp, *change.taken_from))
            cur.execute(
                f"INSERT INTO `{TABLE}` (erp, id_product, id_product_attribute, sku, erp_product_id, source) "
                "VALUES (%s, %s, %s, %s, %s, 'manual') ON DUPLICATE KEY UPDATE sku=VALUES(sku), "
                "erp_product_id=VALUES(erp_product_id), source='manual'",
                (mapping.erp, mapping.id_product, mapping.id_product_attribute, mapping.sku, mapping.erp_product_id))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    if change.moves:
        log.warning("product mapping: %s", change.describe())
    return change


def all_mappings(conn: pymysql.connections.Connection, erp: str) -> list[Mapping]:
    ensure_table(conn)
    with conn.cursor() as cur:
        cur.execute(f"SELECT erp, id_product, id_product_attribute, sku, erp_product_id, source FROM `{TABLE}` "
                    "WHERE erp=%s ORDER BY id_product, id_product_attribute", (erp,))
        return [Mapping(**_row(r, cur)) for r in cur.fetchall()]


def by_sku(conn: pymysql.connections.Connection, erp: str, sku: str) -> Mapping | None:
    with conn.cursor() as cur:
        cur.execute(f"SELECT erp, id_product, id_product_attribute, sku, erp_product_id, source FROM `{TABLE}` "
                    "WHERE erp=%s AND sku=%s", (erp, sku))
        row = cur.fetchone()
        return Mapping(**_row(row, cur)) if row else None
