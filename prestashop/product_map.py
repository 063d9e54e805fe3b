"""External-id mapping between PrestaShop products/combinations and ERP SKUs: the one place
records are matched, always on stable ids, never on names. Kept in the table
``pssync_product_map`` of the shop database so the sinks can read it inside their own MySQL
transactions."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pymysql

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


def set_mapping(conn: pymysql.connections.Connection, mapping: Mapping) -> None:
    ensure_table(conn)
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM `{TABLE}` WHERE erp=%s AND sku=%s AND NOT (id_product=%s AND id_product_attribute=%s)",
                    (mapping.erp, mapping.sku, mapping.id_product, mapping.id_product_attribute))
        cur.execute(
            f"INSERT INTO `{TABLE}` (erp, id_product, id_product_attribute, sku, erp_product_id, source) "
            "VALUES (%s, %s, %s, %s, %s, 'manual') ON DUPLICATE KEY UPDATE sku=VALUES(sku), "
            "erp_product_id=VALUES(erp_product_id), source='manual'",
            (mapping.erp, mapping.id_product, mapping.id_product_attribute, mapping.sku, mapping.erp_product_id))
    conn.commit()


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
