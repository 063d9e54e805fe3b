#!/usr/bin/env python
"""Backlog throughput of the CDC capture: binlog -> Avro change events -> Kafka (exactly-once).

For each workload (ps_orders inserts, ps_stock_available updates) this script

1. creates a scratch PrestaShop database ``pssync_bench_<tag>`` with the demo data,
2. runs the capture once (``prepare()`` + snapshot) so the snapshot is in Kafka and the offset
   is stored, then stops it,
3. writes the whole workload into MariaDB while the capture is stopped (a binlog backlog),
4. measures, each in a fresh child process (so peak RSS belongs to that pass alone):
   - ``parse``:   cdc.binlog.BinlogReader over the backlog (python-mysql-replication decoding),
   - ``convert``: the same + RowConverter on every before/after image,
   - ``encode``:  the same + the capture's own per-transaction encoding (TableCodec.encode via
                  Capture._emit_rows) with the Kafka produce call replaced by a byte counter,
   - ``full``:    the capture restarted under its own name: ``prepare()``, ``start_position()``
                  (the stored offset), ``stream_resilient()``; timed from the start of streaming
                  until the committed offset (Kafka transaction acknowledged) covers the head GTID,
   - ``profile`` (unless --no-profile): the full pipeline again under cProfile, from the same
                  start offset under another capture name; only used for the hot-spot list.
5. drops the scratch database, its topics and registry subjects.

Run from the repository root with the local stack up::

    python benchmarks/bench_capture.py
    python benchmarks/bench_capture.py --only orders --rows-orders 5000 --no-profile
"""
from __future__ import annotations

import argparse
import concurrent.futures
import cProfile
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import platform
import pstats
import random
import resource
import string
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

# Benchmark the code of THIS checkout, whatever the editable install currently points at.
REPO = Path(__file__).resolve().parent.parent
for _path in (REPO / "deploy", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pymysql  # noqa: E402

from pssync import devstack  # noqa: E402
from pssync.cdc import database  # noqa: E402
from pssync.cdc.binlog import BinlogReader, Idle, Rows, Transaction  # noqa: E402
from pssync.cdc.capture import TxnProgress  # noqa: E402
from pssync.cdc.capture import Capture  # noqa: E402
from pssync.cdc.offsets import SourceOffset  # noqa: E402
from pssync.settings import Settings  # noqa: E402

PASSES = ("parse", "convert", "encode", "full")
PASS_LABELS = {
    "parse": "parse only (BinlogReader)",
    "convert": "+ row conversion",
    "encode": "+ Avro encoding (no Kafka)",
    "full": "full pipeline (Kafka EOS)",
    "profile": "full pipeline under cProfile",
}
IDLE_LIMIT_S = 60.0  # a pass that sees nothing new for this long has lost its way


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def gtid_map(text: str | None) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        domain, _server, seq = part.split("-")
        out[int(domain)] = int(seq)
    return out


def covers(position: str | None, target: str) -> bool:
    """True when the GTID position includes every domain's sequence of ``target``."""
    have = gtid_map(position)
    return all(have.get(domain, -1) >= seq for domain, seq in gtid_map(target).items())


def partial_target(start: str, head: str, fraction: float) -> str:
    """A GTID position ``fraction`` of the way from ``start`` to ``head`` (per domain)."""
    if fraction >= 1:
        return head
    have = gtid_map(start)
    parts = []
    for domain, seq in gtid_map(head).items():
        first = have.get(domain, 0)
        parts.append(f"{domain}-0-{first + max(1, round((seq - first) * fraction))}")
    return ",".join(parts)


def rss_now_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def mysql_connect(st: devstack.StackSettings, db: str | None = None, **kw: Any) -> pymysql.Connection:
    conn = pymysql.connect(**st.mysql_params(db), **kw)
    with conn.cursor() as cur:
        cur.execute("SET sql_mode=''")  # PrestaShop writes zero dates
    return conn


def binlog_head(conn: pymysql.Connection) -> tuple[str, int, str]:
    with conn.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        row = cur.fetchone()
        cur.execute("SELECT @@gtid_binlog_pos")
        gtid = cur.fetchone()[0]
    return row[0], int(row[1]), gtid


def binlog_bytes(conn: pymysql.Connection, start: tuple[str, int], end: tuple[str, int]) -> int:
    """Bytes of binlog between two positions, across file rotations."""
    if start[0] == end[0]:
        return end[1] - start[1]
    with conn.cursor() as cur:
        cur.execute("SHOW BINARY LOGS")
        files = [(r[0], int(r[1])) for r in cur.fetchall()]
    total, inside = 0, False
    for name, size in files:
        if name == start[0]:
            total += size - start[1]
            inside = True
        elif name == end[0]:
            total += end[1]
            break
        elif inside:
            total += size
    return total


# ---------------------------------------------------------------------------------------------
# workloads (written while the capture is stopped)
# ---------------------------------------------------------------------------------------------
ORDER_COLUMNS = (
    "reference", "id_shop_group", "id_shop", "id_carrier", "id_lang", "id_customer", "id_cart",
    "id_currency", "id_address_delivery", "id_address_invoice", "current_state", "secure_key",
    "payment", "conversion_rate", "module", "recyclable", "gift", "gift_message", "mobile_theme",
    "total_discounts", "total_discounts_tax_incl", "total_discounts_tax_excl", "total_paid",
    "total_paid_tax_incl", "total_paid_tax_excl", "total_paid_real", "total_products",
    "total_products_wt", "total_shipping", "total_shipping_tax_incl", "total_shipping_tax_excl",
    "carrier_tax_rate", "total_wrapping", "total_wrapping_tax_incl", "total_wrapping_tax_excl",
    "round_mode", "round_type", "invoice_number", "delivery_number", "invoice_date",
    "delivery_date", "valid", "date_add", "date_upd", "note",
)
ORDER_INSERT = (f"INSERT INTO ps_orders ({', '.join(ORDER_COLUMNS)}) VALUES "
                f"({', '.join(['%s'] * len(ORDER_COLUMNS))})")
PAYMENTS = (("Payment by check", "ps_checkpayment"), ("Bank transfer", "ps_wirepayment"),
            ("Payments by credit card", "ps_checkout"), ("PayPal", "paypal"))
ZERO_DATE = "0000-00-00 00:00:00"
MICRO = Decimal("0.000001")


def order_row(rng: random.Random, i: int, base: dt.datetime) -> tuple:
    products = (Decimal(rng.randint(590, 89_900)) / 100).quantize(MICRO)
    products_wt = (products * Decimal("1.2")).quantize(MICRO)
    shipping = Decimal(rng.choice(("0", "5.833333", "7", "8.25"))).quantize(MICRO)
    shipping_wt = (shipping * Decimal("1.2")).quantize(MICRO)
    discount = (products * Decimal("0.1")).quantize(MICRO) if rng.random() < 0.15 else Decimal(0).quantize(MICRO)
    discount_wt = (discount * Decimal("1.2")).quantize(MICRO)
    paid = products + shipping - discount
    paid_wt = products_wt + shipping_wt - discount_wt
    state = rng.choice((1, 2, 2, 2, 3, 4, 5, 5, 6, 10))
    invoiced = state in (2, 3, 4, 5)
    date_add = base + dt.timedelta(seconds=37 * i)
    date_upd = date_add + dt.timedelta(minutes=rng.randint(0, 600))
    payment, module = rng.choice(PAYMENTS)
    gift = rng.random() < 0.05
    wrapping = Decimal("2.5").quantize(MICRO) if gift else Decimal(0).quantize(MICRO)
    return (
        "".join(rng.choices(string.ascii_uppercase, k=9)), 1, 1, rng.randint(1, 4), rng.randint(1, 2),
        rng.randint(1, 5000), 100_000 + i, 1, rng.randint(1, 9000), rng.randint(1, 9000), state,
        hashlib.md5(str(i).encode()).hexdigest(), payment, Decimal("1.000000"), module,
        0, int(gift), "Happy birthday! From Anna" if gift else None, 0,
        discount_wt, discount_wt, discount, paid_wt + wrapping, paid_wt + wrapping, paid + wrapping,
        paid_wt + wrapping if invoiced else Decimal(0).quantize(MICRO), products, products_wt,
        shipping_wt, shipping_wt, shipping, Decimal("20.000"), wrapping, wrapping * Decimal("1.2"),
        wrapping, 2, 2, i if invoiced else 0, i if state in (4, 5) else 0,
        date_upd if invoiced else ZERO_DATE, date_upd if state in (4, 5) else ZERO_DATE,
        int(invoiced), date_add, date_upd, "Leave at the back door" if rng.random() < 0.03 else None,
    )


def write_orders(conn: pymysql.Connection, rows: int, txn_rows: int, multi_row: bool) -> int:
    rng = random.Random(1234)
    base = dt.datetime(2026, 11, 20, 9, 15)
    txns = 0
    with conn.cursor() as cur:
        for first in range(0, rows, txn_rows):
            batch = [order_row(rng, i, base) for i in range(first, min(rows, first + txn_rows))]
            cur.execute("BEGIN")
            if multi_row:
                cur.executemany(ORDER_INSERT, batch)  # pymysql turns this into one multi-row INSERT
            else:
                for values in batch:
                    cur.execute(ORDER_INSERT, values)
            cur.execute("COMMIT")
            txns += 1
    return txns


def preload_stock(conn: pymysql.Connection, pool: int) -> None:
    """Stock rows the update workload walks over; inserted BEFORE the snapshot."""
    rng = random.Random(99)
    sql = ("INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, id_shop_group, "
           "quantity, physical_quantity, reserved_quantity, depends_on_stock, out_of_stock, location) "
           "VALUES (%s, %s, 1, 0, %s, %s, %s, 0, %s, %s)")
    with conn.cursor() as cur:
        for first in range(0, pool, 1000):
            batch = []
            for i in range(first, min(pool, first + 1000)):
                qty, reserved = rng.randint(0, 500), rng.randint(0, 3)
                batch.append((200_000 + i // 4, i % 4, qty, qty + reserved, reserved, rng.choice((0, 1, 2)),
                              rng.choice(("", "", "A-12-3", "B-04-1"))))
            cur.execute("BEGIN")
            cur.executemany(sql, batch)
            cur.execute("COMMIT")


def write_stock(conn: pymysql.Connection, rows: int, txn_rows: int, multi_row: bool) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT id_stock_available FROM ps_stock_available ORDER BY id_stock_available")
        ids = [r[0] for r in cur.fetchall()]
        if len(ids) < txn_rows:
            raise SystemExit(f"stock pool ({len(ids)} rows) smaller than one transaction ({txn_rows})")
        txns, done, at = 0, 0, 0
        while done < rows:
            n = min(txn_rows, rows - done)
            if at + n > len(ids):
                at = 0
            chunk = ids[at:at + n]
            at += n
            cur.execute("BEGIN")
            if multi_row:
                cur.execute("UPDATE ps_stock_available SET quantity=quantity-1, "
                            "physical_quantity=physical_quantity-1 WHERE id_stock_available IN ("
                            + ",".join(str(i) for i in chunk) + ")")
            else:
                for ident in chunk:
                    cur.execute("UPDATE ps_stock_available SET quantity=quantity-1, "
                                "physical_quantity=physical_quantity-1 WHERE id_stock_available=%s", (ident,))
            cur.execute("COMMIT")
            done += n
            txns += 1
    return txns


# ---------------------------------------------------------------------------------------------
# one measured pass, in a fresh (spawned) child process
# ---------------------------------------------------------------------------------------------
def _package_of(filename: str, funcname: str) -> str:
    if filename == "~":
        if "cimpl" in funcname:
            return "confluent_kafka (C: produce/commit/poll)"
        if "fastavro" in funcname or "_write" in funcname:
            return "fastavro (C)"
        return "builtins (C)"
    for marker, name in (("pymysqlreplication", "python-mysql-replication"), ("/pymysql/", "pymysql"),
                         ("fastavro", "fastavro"), ("/cdc/", "cdc (this project)"),
                         ("/bus/", "bus (this project)"), ("prometheus_client", "prometheus_client"),
                         ("confluent_kafka", "confluent_kafka (python)"), ("decimal", "decimal"),
                         ("/threading.py", "threading"), ("socket", "socket"), ("struct", "struct")):
        if marker in filename:
            return name
    return "python stdlib/other"


def _profile_summary(prof: cProfile.Profile, top: int = 10) -> dict[str, Any]:
    stats = pstats.Stats(prof)
    entries = []
    per_package: dict[str, float] = {}
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename
        for cut in ("site-packages/", "/work/main/", "lib/python3.11/"):
            if cut in short:
                short = short.split(cut, 1)[1]
        label = func if filename == "~" else f"{short}:{line}({func})"
        entries.append({"function": label, "ncalls": ncalls, "tottime": tottime, "cumtime": cumtime})
        pkg = _package_of(filename, func)
        per_package[pkg] = per_package.get(pkg, 0.0) + tottime
    entries.sort(key=lambda e: e["tottime"], reverse=True)
    return {"top": entries[:top], "total": stats.total_tt,  # type: ignore[attr-defined]
            "packages": sorted(per_package.items(), key=lambda kv: kv[1], reverse=True)}


def run_pass(kind: str, settings: dict[str, Any], start: bytes, target: str, resume: bool) -> dict[str, Any]:
    try:
        return _run_pass(kind, settings, start, target, resume)
    except BaseException as exc:  # confluent_kafka's exceptions do not pickle back to the parent
        import traceback

        raise RuntimeError(f"{kind} pass failed: {exc!r}\n{traceback.format_exc()}") from None


def _run_pass(kind: str, settings: dict[str, Any], start: bytes, target: str, resume: bool) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    s = Settings(**settings)
    start_off = SourceOffset.from_bytes(start)
    result: dict[str, Any] = {"pass": kind}
    if kind in ("parse", "convert", "encode"):
        return _run_decode_pass(kind, s, start_off, target, result)
    return _run_full_pass(kind, s, start_off, target, resume, result)


def _run_decode_pass(kind: str, s: Settings, start_off: SourceOffset, target: str,
                     result: dict[str, Any]) -> dict[str, Any]:
    cap = Capture(s)  # only for its codecs and _emit_rows; never prepared, no producer
    produced = [0, 0]

    def count_only(topic: str, key: bytes, value: bytes | None, headers: Any = None) -> None:
        produced[0] += 1
        produced[1] += len(key) + (len(value) if value else 0)

    cap._produce = count_only  # type: ignore[method-assign]
    reader = BinlogReader(database.binlog_connection_settings(s.mysql), s.mysql.server_id,
                          s.mysql.database, cap.tables, start_off.gtid, s.capture.heartbeat_seconds)
    rows = txns = 0
    progress = TxnProgress()
    rss0 = rss_now_mb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    last_progress = time.monotonic()
    try:
        for item in reader:
            if isinstance(item, Idle):
                if time.monotonic() - last_progress > IDLE_LIMIT_S:
                    raise TimeoutError(f"{kind}: head GTID {target} never reached")
                continue
            last_progress = time.monotonic()
            if isinstance(item, Rows):
                rows += len(item.changes)
                if item.gtid != progress.gtid:
                    txns += 1
                if kind == "convert":
                    progress.start(item.gtid)
                    for change in item.changes:
                        convert = cap.codec(change.table).convert
                        if change.before is not None:
                            convert(change.before)
                        if change.after is not None:
                            convert(change.after)
                elif kind == "encode":
                    cap._emit_rows(item, progress)
                else:
                    progress.start(item.gtid)
            elif isinstance(item, Transaction) and covers(item.position, target):
                break
    finally:
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        reader.close()
    result.update(rows=rows, txns=txns, wall=wall, cpu=cpu, rss_start=rss0, rss_peak=peak_rss_mb(),
                  avro_messages=produced[0], avro_bytes=produced[1])
    return result


def _run_full_pass(kind: str, s: Settings, start_off: SourceOffset, target: str, resume: bool,
                   result: dict[str, Any]) -> dict[str, Any]:
    from prometheus_client import REGISTRY

    stop = threading.Event()
    state: dict[str, Any] = {"commits": 0, "events": 0, "done": None, "timed_out": False,
                             "first_commit": None}

    def on_commit(offset: SourceOffset, events: int) -> None:
        state["commits"] += 1
        state["events"] += events
        if state["first_commit"] is None:
            state["first_commit"] = time.perf_counter()
        if state["done"] is None and covers(offset.gtid, target):
            state["done"] = time.perf_counter()
            stop.set()

    cap = Capture(s, on_commit=on_commit)
    t_prep = time.perf_counter()
    committed = prepare_with_retry(cap)
    if resume:
        if committed is None:
            raise RuntimeError("the restarted capture found no stored offset")
        begin = cap.start_position()  # the stored offset; no new snapshot
    else:
        begin = start_off  # another capture name: same backlog, explicit start
    result["prepare_s"] = time.perf_counter() - t_prep
    result["start_gtid"] = begin.gtid

    def watchdog() -> None:
        deadline = time.monotonic() + 1800
        while not stop.wait(1.0):
            if time.monotonic() > deadline:
                state["timed_out"] = True
                stop.set()

    threading.Thread(target=watchdog, daemon=True).start()
    prof = cProfile.Profile() if kind == "profile" else None
    rss0 = rss_now_mb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        if prof is not None:
            prof.enable()
        cap.stream_resilient(begin, stop)
    finally:
        if prof is not None:
            prof.disable()
        t_end = time.perf_counter()
        cpu = time.process_time() - cpu0
        cap.close()
    if state["timed_out"] or state["done"] is None:
        raise TimeoutError(f"{kind}: committed offset never covered {target} (last {cap.committed})")
    commit_sum = REGISTRY.get_sample_value("pssync_cdc_commit_seconds_sum") or 0.0
    result.update(rows=state["events"], txns=None, wall=state["done"] - t0, wall_until_stopped=t_end - t0,
                  cpu=cpu, rss_start=rss0, rss_peak=peak_rss_mb(), commits=state["commits"],
                  commit_s=commit_sum, first_commit_s=(state["first_commit"] or t0) - t0,
                  committed_gtid=cap.committed.gtid if cap.committed else None)
    if prof is not None:
        result["profile"] = _profile_summary(prof)
        if os.environ.get("BENCH_PROFILE_DUMP"):
            prof.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
            result["profile_file"] = os.environ["BENCH_PROFILE_DUMP"]
    return result


def prepare_with_retry(cap: Capture, attempts: int = 5) -> SourceOffset | None:
    """Capture.prepare(), retried: right after it creates the offsets topic, its offset load can
    fail with NOT_LEADER_FOR_PARTITION (see README, "Problems noticed")."""
    from confluent_kafka import KafkaException

    for attempt in range(1, attempts + 1):
        try:
            return cap.prepare()
        except KafkaException as exc:
            if attempt == attempts:
                raise
            print(f"  (prepare() failed, attempt {attempt}: {exc}; retrying)", file=sys.stderr, flush=True)
            cap.close()
            time.sleep(1)
    return None


def in_child(kind: str, settings: dict[str, Any], start: SourceOffset, target: str,
             resume: bool = False) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(run_pass, kind, settings, start.to_bytes(), target, resume).result()


# ---------------------------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------------------------
def settings_for(st: devstack.StackSettings, db: str, name: str, prefix: str,
                 args: argparse.Namespace, offsets_topic: str | None = None) -> dict[str, Any]:
    return {
        "mysql": {"host": "127.0.0.1", "port": st.mariadb_port, "user": st.mysql_user,
                  "password": st.mysql_password, "database": db, "table_prefix": st.table_prefix,
                  "server_id": random.randint(100_000, 2**31)},
        "kafka": {"bootstrap_servers": st.kafka_bootstrap},
        "registry": {"url": args.registry_url or st.ccompat_url},
        "capture": {"name": name, "topic_prefix": prefix, "offsets_topic": offsets_topic or f"{prefix}.offsets",
                    "batch_max_events": args.batch_max_events, "batch_max_ms": args.batch_max_ms},
    }


def with_server_id(settings: dict[str, Any]) -> dict[str, Any]:
    """Every binlog reader gets its own replica id (two with one id kick each other off)."""
    copy = json.loads(json.dumps(settings))
    copy["mysql"]["server_id"] = random.randint(100_000, 2**31)
    return copy


def cleanup(st: devstack.StackSettings, db: str, prefix: str, registry_url: str) -> None:
    conn = mysql_connect(st)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    finally:
        conn.close()
    try:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": st.kafka_bootstrap})
        topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix + ".")]
        if topics:
            for fut in admin.delete_topics(topics, operation_timeout=30).values():
                fut.result()
    except Exception as exc:  # best effort
        print(f"  (could not delete topics {prefix}.*: {exc})")
        topics = []
    delete_subjects(registry_url, topics, (prefix + ".",))


def delete_subjects(registry_url: str, topics: list[str], prefixes: tuple[str, ...]) -> None:
    """The topics' ``<topic>-key``/``-value`` subjects, and listed subjects starting with a prefix
    (the ccompat listing stops at 1,000 subjects, hence the names from the topics first)."""
    try:
        import httpx

        subjects = {f"{t}-{side}" for t in topics for side in ("key", "value")}
        subjects.update(s for s in httpx.get(f"{registry_url}/subjects", timeout=10).json() if s.startswith(prefixes))
        for subject in sorted(subjects):
            if httpx.delete(f"{registry_url}/subjects/{subject}", timeout=10).status_code == 200:
                httpx.delete(f"{registry_url}/subjects/{subject}", params={"permanent": "true"}, timeout=10)
    except Exception as exc:  # best effort
        print(f"  (could not delete registry subjects {prefixes}: {exc})")


def run_workload(st: devstack.StackSettings, workload: str, args: argparse.Namespace) -> dict[str, Any]:
    tag = f"{workload[:2]}{uuid.uuid4().hex[:8]}"
    db = f"pssync_bench_{tag}"
    prefix = f"bench{tag}"
    registry_url = args.registry_url or st.ccompat_url
    rows = args.rows_orders if workload == "orders" else args.rows_stock
    txn_rows = args.orders_txn_rows if workload == "orders" else args.stock_txn_rows
    style = args.statements
    multi = (style == "multi") if style != "auto" else (workload == "stock")
    report: dict[str, Any] = {"workload": workload, "rows": rows, "txn_rows": txn_rows,
                              "statements": "multi-row" if multi else "single-row", "database": db}
    print(f"\n=== {workload}: {rows:,} rows in transactions of {txn_rows} "
          f"({'one multi-row statement' if multi else 'one statement per row'} per transaction); "
          f"scratch DB {db} ===", flush=True)
    try:
        t = time.perf_counter()
        devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
        conn = mysql_connect(st, db, autocommit=True)
        if workload == "stock":
            preload_stock(conn, args.stock_pool)
        print(f"  fixtures loaded in {time.perf_counter() - t:.1f} s", flush=True)

        # 1) first run of the capture: snapshot + stored offset, then stop it
        settings = settings_for(st, db, f"bench-{tag}", prefix, args)
        t = time.perf_counter()
        cap = Capture(Settings(**settings))
        try:
            committed = prepare_with_retry(cap)
            start = committed if committed is not None and committed.snapshot_completed \
                else cap.snapshot(progress=False)
        finally:
            cap.close()
        report["snapshot_s"] = time.perf_counter() - t
        print(f"  first capture run (prepare + snapshot, offset stored at {start.gtid}): "
              f"{report['snapshot_s']:.1f} s", flush=True)

        # 2) the backlog, written while the capture is stopped
        before = binlog_head(conn)
        t = time.perf_counter()
        if workload == "orders":
            txns = write_orders(conn, rows, txn_rows, multi)
        else:
            txns = write_stock(conn, rows, txn_rows, multi)
        write_s = time.perf_counter() - t
        head_file, head_pos, head_gtid = binlog_head(conn)
        backlog = binlog_bytes(conn, (start.file, start.pos), (head_file, head_pos))
        ours = binlog_bytes(conn, before[:2], (head_file, head_pos))
        conn.close()
        report.update(write_s=write_s, source_txns=txns, head_gtid=head_gtid, binlog_bytes=backlog,
                      workload_binlog_bytes=ours, binlog_range=f"{start.file}:{start.pos}..{head_file}:{head_pos}")
        print(f"  backlog written in {write_s:.1f} s ({rows / write_s:,.0f} rows/s, {txns} transactions); "
              f"binlog {start.file}:{start.pos} -> {head_file}:{head_pos} = {backlog / 2**20:.1f} MB "
              f"(this workload {ours / 2**20:.1f} MB); head GTID {head_gtid}", flush=True)

        # 3) the measured passes
        passes: dict[str, dict[str, Any]] = {}
        order = [p for p in ("parse", "convert", "encode") if p not in args.skip] + ["full"]
        if args.profile:
            order.append("profile")
        for kind in order:
            runs = []
            for attempt in range(1 if kind == "profile" else args.repeat):
                if kind == "full" and attempt == 0:
                    # the real restart: same capture name, resumes from the stored offset
                    res = in_child("full", with_server_id(settings), start, head_gtid, resume=True)
                elif kind in ("full", "profile"):
                    # same backlog again under another capture name, from the same start offset
                    other = settings_for(st, db, f"bench-{tag}-{kind}{attempt}", f"{prefix}.{kind}{attempt}",
                                         args, offsets_topic=f"{prefix}.offsets")
                    target = head_gtid if kind == "full" else \
                        partial_target(start.gtid, head_gtid, args.profile_fraction)
                    if kind == "profile" and args.profile_dump:
                        os.makedirs(args.profile_dump, exist_ok=True)
                        os.environ["BENCH_PROFILE_DUMP"] = os.path.join(args.profile_dump, f"{workload}.prof")
                    res = in_child(kind, other, start, target, resume=False)
                else:
                    res = in_child(kind, with_server_id(settings), start, head_gtid)
                runs.append(res)
                ok = "" if res["rows"] == rows or kind == "profile" else f"   !! expected {rows:,} rows"
                print(f"  {PASS_LABELS[kind]:<30} {res['rows']:>8,} rows {res['wall']:7.2f} s "
                      f"{res['rows'] / res['wall']:>9,.0f} rows/s  CPU {100 * res['cpu'] / res['wall']:4.0f}%  "
                      f"RSS {res['rss_start']:.0f} -> peak {res['rss_peak']:.0f} MB{ok}", flush=True)
            best = min(runs, key=lambda r: r["wall"])
            best["all_walls"] = [r["wall"] for r in runs]
            passes[kind] = best
        report["passes"] = passes
        return report
    finally:
        if not args.keep:
            cleanup(st, db, prefix, registry_url)


def print_report(rep: dict[str, Any]) -> None:
    passes = rep["passes"]
    mb = rep["binlog_bytes"] / 2**20
    print(f"\n--- {rep['workload']}: results ({rep['rows']:,} rows, {rep['statements']} statements, "
          f"{rep['txn_rows']} rows/transaction, {mb:.1f} MB binlog backlog) ---")
    print(f"  {'pass':<32}{'rows':>8}{'wall s':>9}{'rows/s':>10}{'MB/s':>8}{'CPU%':>6}{'RSS peak MB':>13}"
          f"  {'all runs, wall s' if max(len(p.get('all_walls', [])) for p in passes.values()) > 1 else ''}")
    for kind in (*PASSES, "profile"):
        res = passes.get(kind)
        if res is None:
            continue
        print(f"  {PASS_LABELS[kind]:<32}{res['rows']:>8,}{res['wall']:>9.2f}{res['rows'] / res['wall']:>10,.0f}"
              f"{mb * res['rows'] / rep['rows'] / res['wall']:>8.2f}{100 * res['cpu'] / res['wall']:>6.0f}{res['rss_peak']:>13.0f}"
              f"  {' '.join(f'{w:.2f}' for w in res['all_walls']) if len(res['all_walls']) > 1 else ''}")
    full = passes["full"]
    print(f"  full pipeline: {full['commits']} Kafka transactions "
          f"(~{full['rows'] / max(1, full['commits']):.0f} events each), commit_transaction total "
          f"{full['commit_s']:.2f} s ({100 * full['commit_s'] / full['wall']:.0f}% of wall); "
          f"capture restart (prepare + offset load) {full['prepare_s']:.2f} s, not included; "
          f"first commit after {full['first_commit_s']:.2f} s")
    if "encode" in passes:
        enc = passes["encode"]
        print(f"  Avro output: {enc['avro_messages']:,} messages, {enc['avro_bytes'] / 2**20:.1f} MB "
              f"({enc['avro_bytes'] / max(1, enc['avro_messages']):.0f} B/message incl. key)")
    # where the time goes: differences between the passes, per row
    stages, prev = [], 0.0
    for kind, label in (("parse", "binlog read + decode (python-mysql-replication)"),
                        ("convert", "row conversion (RowConverter)"),
                        ("encode", "envelope + Avro encoding (TableCodec.encode)"),
                        ("full", "Kafka produce + transactions + offsets")):
        if kind in passes:
            wall = passes[kind]["wall"]
            stages.append((label, wall - prev))
            prev = wall
    if len(stages) > 1:
        print("  where the time goes (difference between successive passes; noisy when small):")
        for label, secs in stages:
            print(f"    {label:<50}{secs:7.2f} s {1e6 * secs / rep['rows']:8.1f} us/row "
                  f"{100 * secs / full['wall']:5.0f}%")
    prof = passes.get("profile", {}).get("profile")
    if prof:
        print(f"  top 10 functions by own time, full pipeline under cProfile ({passes['profile']['rows']:,} rows, "
              f"profiled wall {passes['profile']['wall']:.1f} s, {prof['total']:.1f} s in the streaming thread):")
        print(f"    {'tottime s':>9} {'cumtime s':>9} {'calls':>10}  function")
        for e in prof["top"]:
            print(f"    {e['tottime']:>9.2f} {e['cumtime']:>9.2f} {e['ncalls']:>10,}  {e['function']}")
        print("  own time by package (streaming thread):")
        for pkg, secs in prof["packages"][:8]:
            print(f"    {secs:7.2f} s {100 * secs / prof['total']:5.1f}%  {pkg}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--rows-orders", type=int, default=20_000, help="ps_orders rows inserted")
    ap.add_argument("--rows-stock", type=int, default=50_000, help="ps_stock_available rows updated")
    ap.add_argument("--only", choices=("orders", "stock"), help="run one workload only")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                    help="extra full-pipeline pass under cProfile, prints the top-10 hot functions")
    ap.add_argument("--profile-fraction", type=float, default=0.25,
                    help="the cProfile pass streams only this fraction of the backlog (it runs ~3x slower)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measured pass this many times and report the fastest (the machine is shared)")
    ap.add_argument("--profile-dump", metavar="DIR",
                    help="also write the cProfile data (<workload>.prof, for pstats/snakeviz) to DIR")
    ap.add_argument("--skip", nargs="*", default=[], choices=("parse", "convert", "encode"),
                    help="breakdown passes to leave out")
    ap.add_argument("--orders-txn-rows", type=int, default=100, help="ps_orders rows per source transaction")
    ap.add_argument("--stock-txn-rows", type=int, default=250, help="stock rows per source transaction")
    ap.add_argument("--stock-pool", type=int, default=10_000,
                    help="extra ps_stock_available rows created before the snapshot, walked by the updates")
    ap.add_argument("--statements", choices=("auto", "single", "multi"), default="auto",
                    help="auto: one INSERT per order (as PrestaShop does), one multi-row UPDATE per "
                         "stock transaction")
    ap.add_argument("--batch-max-events", type=int, default=Settings().capture.batch_max_events,
                    help="capture.batch_max_events (service default)")
    ap.add_argument("--batch-max-ms", type=int, default=Settings().capture.batch_max_ms,
                    help="capture.batch_max_ms (service default)")
    ap.add_argument("--registry-url", default=None, help="ccompat URL (default: the dev stack's)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch DB, topics and subjects")
    ap.add_argument("--json", dest="json_out", help="also write all figures to this JSON file")
    args = ap.parse_args()

    st = devstack.ensure_up()
    print(f"bench_capture {dt.datetime.now().isoformat(timespec='seconds')} on {platform.node()}: "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    from pssync import cdc

    print(f"code under test: {Path(cdc.__file__).resolve().parent.parent}")
    print(f"capture settings: batch_max_events={args.batch_max_events} batch_max_ms={args.batch_max_ms}; "
          f"MariaDB {st.mariadb_port}, Kafka {st.kafka_bootstrap}, registry {args.registry_url or st.ccompat_url}")
    reports = []
    for workload in ("orders", "stock"):
        if args.only and args.only != workload:
            continue
        reports.append(run_workload(st, workload, args))
    for rep in reports:
        print_report(rep)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"date": dt.datetime.now().isoformat(timespec="seconds"), "args": vars(args),
                       "cpus": os.cpu_count(), "reports": reports}, fh, indent=2, default=str)


if __name__ == "__main__":
    sys.exit(main())
