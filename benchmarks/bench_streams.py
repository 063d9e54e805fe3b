#!/usr/bin/env python
"""Backlog throughput of the processors: shop orders in the capture topics -> sales-order commands.

1. A scratch PrestaShop database ``pssync_bench_<tag>`` with the demo data; products 6 and 8 are
   mapped to ERP SKUs (``pssync_product_map``).
2. The real capture takes its snapshot (demo data, configuration, mapping) into Kafka and stops.
3. ``--orders`` paid orders are placed as PrestaShop's checkout writes them
   (``devstack.shop.place_order``: ps_orders, ps_order_detail, ps_stock_available, ps_order_carrier,
   ps_order_history in one transaction), one or two lines each; the capture is started again and
   streams them from the binlog into Kafka (one Kafka transaction per shop transaction) and stops:
   the processors find a backlog of snapshot + orders.
4. For each entry of ``--workers`` (e.g. ``1,2``), a fresh processor application (its own consumer
   groups, internal and changelog topics, ``streams.partitions`` = that many workers) is started as
   the operator starts it (``pssync streams worker`` subprocesses) on the same capture topics. Timed:
   start-up = process start -> first record in the shop-events internal topic (imports, settings
   and rules checks, topic creation, the router's group join); processing = that record -> the
   last of the ``--orders`` commands (router -> shop-events -> order join and mapping -> command
   topic, for the snapshot and every order row). Orders complete only once their history row is
   in, and the router copies whole fetched batches of one topic at a time, so in a backlog the
   commands come out in bursts: processing time over the whole backlog is the figure, not the
   gap between first and last command. Each worker's peak RSS is read from /proc before it stops.
5. Drops the scratch database and deletes the topics it made.

This is a benchmark that prints figures, not a test. From the repository root, stack up::

    python benchmarks/bench_streams.py                       # 2,000 orders, 1 then 2 workers
    python benchmarks/bench_streams.py --orders 500 --workers 1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO / "deploy", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pymysql  # noqa: E402
import yaml  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

from pssync import devstack  # noqa: E402
from pssync.cdc.capture import Capture  # noqa: E402
from pssync.devstack.shop import Line, place_order  # noqa: E402
from pssync.prestashop.product_map import Mapping, set_mapping  # noqa: E402
from pssync.schemas.codec import Codec  # noqa: E402
from pssync.settings import Settings  # noqa: E402
from pssync.streams.routes import app_id, hub_topic_name  # noqa: E402

TABLES = ["orders", "order_detail", "order_history", "customer", "address", "currency", "configuration"]
MAPPED = {6: "bench-6", 8: "bench-8"}


def settings_for(st: devstack.StackSettings, database: str, tag: str, workers: int, run: str) -> Settings:
    prefix = f"bench{tag}"
    return Settings(
        mysql={"host": "127.0.0.1", "port": st.mariadb_port, "user": st.mysql_user, "password": st.mysql_password,
               "database": database, "table_prefix": st.table_prefix, "server_id": random.randint(10_000, 2**31)},
        kafka={"bootstrap_servers": st.kafka_bootstrap},
        registry={"url": st.ccompat_url},
        # the capture name names the processor application: one per run, same capture topics
        capture={"name": f"bench-{tag}-{run}", "topic_prefix": prefix, "offsets_topic": f"{prefix}.offsets",
                 "tables": TABLES, "extra_tables": ["pssync_product_map"]},
        streams={"order_mapping": str(REPO / "deploy" / "order_mapping.yaml"),
                 "rules": str(REPO / "deploy" / "rules.yaml"), "partitions": workers,
                 "commands_topic": f"{prefix}.{run}.commands", "dead_letter_topic": f"{prefix}.{run}.dead-letter",
                 "violations_topic": f"{prefix}.{run}.violations", "shop_commands_topic": f"{prefix}.{run}.shop",
                 "alerts_topic": f"{prefix}.{run}.alerts"},
        sinks={"acks_topic": f"{prefix}.acks"},
        erp={"topic_prefix": prefix},
    )


def root_connect(st: devstack.StackSettings, database: str) -> tuple[pymysql.Connection, bool]:
    """A connection that may skip the binlog (the dev stack's root), else the capture user's; and
    whether what it writes goes to the binlog."""
    try:
        conn = pymysql.connect(host="127.0.0.1", port=st.mariadb_port, user="root", database=database, autocommit=True)
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin=0")
        return conn, False
    except pymysql.MySQLError:
        return pymysql.connect(**st.mysql_params(database), autocommit=True), True


def clone_rows(cur: Any, table: str, where: str, count: int, overrides: dict[str, str]) -> None:
    """``count`` copies of the row ``where`` picks, ``overrides`` (column -> SQL over ``seq``, 1 to
    count) replacing columns; in steps of 20,000 rows (MariaDB's sequence engine)."""
    cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=DATABASE() "
                "AND TABLE_NAME=%s ORDER BY ORDINAL_POSITION", (table,))
    columns = [r[0] for r in cur.fetchall()]
    select = ", ".join(overrides.get(c, f"t.`{c}`") for c in columns)
    for first in range(1, count + 1, 20_000):
        last = min(count, first + 19_999)
        cur.execute(f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) SELECT {select} "
                    f"FROM `{table}` t JOIN seq_{first}_to_{last} WHERE {where}")


def fill_shop(st: devstack.StackSettings, database: str, orders: int, customers: int) -> tuple[set[int], bool]:
    """A big shop before the first start: ``customers`` customers with an address each, ``orders``
    paid orders of theirs (round robin; one line of product 6), written as copies of one order placed
    by the checkout, so that the capture's snapshot (not the binlog) carries them. Returns the orders'
    ids and whether the copies went to the binlog too."""
    template = place_order(st.mysql_params(), database, st.table_prefix, [Line(6, 0, 1)], state_key="PS_OS_PAYMENT")
    p = st.table_prefix
    conn, logged = root_connect(st, database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode=''")
            cur.execute(f"SELECT id_customer, id_address_delivery FROM {p}orders WHERE id_order=%s", (template,))
            id_customer, id_address = cur.fetchone()
            cur.execute(f"SELECT MAX(id_customer) FROM {p}customer")
            c0 = int(cur.fetchone()[0])
            cur.execute(f"SELECT MAX(id_address) FROM {p}address")
            a0 = int(cur.fetchone()[0])
            o0 = template
            clone_rows(cur, f"{p}customer", f"t.id_customer={id_customer}", customers,
                       {"id_customer": f"{c0} + seq", "email": "CONCAT('bench', seq, '@example.com')"})
            clone_rows(cur, f"{p}address", f"t.id_address={id_address}", customers,
                       {"id_address": f"{a0} + seq", "id_customer": f"{c0} + seq"})
            clone_rows(cur, f"{p}orders", f"t.id_order={template}", orders,
                       {"id_order": f"{o0} + seq", "reference": "CONCAT('B', LPAD(seq, 8, '0'))",
                        "id_customer": f"{c0} + 1 + (seq - 1) MOD {customers}",
                        "id_address_delivery": f"{a0} + 1 + (seq - 1) MOD {customers}",
                        "id_address_invoice": f"{a0} + 1 + (seq - 1) MOD {customers}"})
            cur.execute(f"SELECT MAX(id_order_detail) FROM {p}order_detail")
            d0 = int(cur.fetchone()[0])
            clone_rows(cur, f"{p}order_detail", f"t.id_order={template}", orders,
                       {"id_order_detail": f"{d0} + seq", "id_order": f"{o0} + seq"})
            cur.execute(f"SELECT MAX(id_order_history) FROM {p}order_history")
            h0 = int(cur.fetchone()[0])
            clone_rows(cur, f"{p}order_history", f"t.id_order={template}", orders,
                       {"id_order_history": f"{h0} + seq", "id_order": f"{o0} + seq"})
    finally:
        conn.close()
    return {o0 + i for i in range(1, orders + 1)}, logged


def gtid_seq(conn: pymysql.Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT @@gtid_binlog_pos")
        return max(int(p.rsplit("-", 1)[1]) for p in cur.fetchone()[0].split(","))


def capture_backlog(settings: Settings, head: int, timeout: float = 600) -> float:
    """Run the capture until its committed offset covers GTID sequence ``head``; seconds taken."""
    capture, stop, errors = Capture(settings), threading.Event(), []

    def run() -> None:
        try:
            capture.run(stop)
        except BaseException as exc:   # reported below
            errors.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while time.monotonic() - started < timeout:
            if errors:
                raise errors[0]
            off = capture.committed
            if off is not None and off.gtid and max(int(p.rsplit("-", 1)[1]) for p in off.gtid.split(",")) >= head:
                return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"the capture did not reach GTID sequence {head} in {timeout:.0f}s")
    finally:
        stop.set()
        thread.join(30)
        capture.close()


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def hub_has_records(watcher: Consumer, hub: str, partitions: int) -> bool:
    try:
        return any(watcher.get_watermark_offsets(TopicPartition(hub, p), timeout=5, cached=False)[1] > 0
                   for p in range(partitions))
    except Exception:     # not created yet
        return False


def run_workers(settings: Settings, workers: int, wanted: set[int], workdir: Path, timeout: float,
                profile_dir: Path | None = None, python: str = sys.executable, code: Path = REPO,
                cprofile_dir: Path | None = None, label: str = "") -> dict[str, Any]:
    config = workdir / f"streams-{workers}.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")},
           "PYTHONPATH": os.pathsep.join([str(code), str(code / "deploy")]),
           "PSSYNC_STREAMS_DATADIR": str(workdir)}
    topic = settings.streams.commands_topic
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": f"bench-{uuid.uuid4()}",
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    started = time.monotonic()
    def command(i: int) -> list[str]:
        worker = [python, "-m", "pssync", "streams", "worker", "--config", str(config), "--loglevel", "warn"]
        if cprofile_dir is not None:    # the event loop's thread (the agents), not the router's; written at exit
            return [python, "-m", "cProfile", "-o", str(cprofile_dir / f"worker-{label}{workers}-{i}.prof"),
                    *worker[1:]]
        if profile_dir is None:
            return worker
        # collapsed stacks, all threads (the router is one), readable with any flame-graph tool
        return ["py-spy", "record", "--format", "raw", "--threads", "--rate", "200", "--output",
                str(profile_dir / f"worker-{workers}-{i}.txt"), "--", *worker]

    procs = [subprocess.Popen(command(i), cwd=workdir, env=env, start_new_session=True,
                              stdout=open(workdir / f"worker-{workers}-{i}.log", "w"), stderr=subprocess.STDOUT)
             for i in range(workers)]
    seen: set[int] = set()
    first = last = None
    commands = 0
    hub = hub_topic_name(app_id(settings.capture.name), "shop")
    codec = Codec.from_settings(settings)
    watcher = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": f"bench-{uuid.uuid4()}"})
    try:
        while seen < wanted and time.monotonic() - started < timeout:
            if first is None and hub_has_records(watcher, hub, settings.streams.partitions):
                first = time.monotonic()
            for msg in consumer.consume(500, 0.2):
                if msg.error():
                    continue
                commands += 1
                now = time.monotonic()
                order = codec.decode_record(msg.value(), "bench").get("id_order")
                if order in wanted and order not in seen:
                    seen.add(order)
                    last = now
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a worker exited; see {workdir}/worker-{workers}-*.log")
        rss = [peak_rss_mb(p.pid) for p in procs]
    finally:
        consumer.close()
        watcher.close()
        for p in procs:
            # the process group: py-spy and the worker it runs (py-spy writes its samples on SIGINT)
            os.killpg(p.pid, signal.SIGINT if profile_dir else signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
            try:
                os.killpg(p.pid, signal.SIGTERM)    # a worker py-spy left behind
            except ProcessLookupError:
                pass
    if seen < wanted:
        raise TimeoutError(f"{len(wanted - seen)} of {len(wanted)} orders had no command after {timeout:.0f}s")
    first = first if first is not None else started
    span = last - first
    return {"code": str(code), "workers": workers, "orders": len(wanted), "commands": commands,
            "startup_s": round(first - started, 2), "processing_s": round(span, 2),
            "orders_per_s": round(len(wanted) / span, 1) if span > 0 else None,
            "total_s": round(last - started, 2), "peak_rss_mb": [round(r, 1) if r else None for r in rss]}


def delete_topics(st: devstack.StackSettings, prefixes: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": st.kafka_bootstrap})
    names = [t for t in admin.list_topics(timeout=10).topics if any(t.startswith(p) for p in prefixes)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            try:
                future.result()
            except Exception:
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--keep", action="store_true", help="keep the database and topics")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--py-spy", type=Path, dest="profile_dir",
                        help="run each worker under py-spy (pip install py-spy) and write its samples here")
    parser.add_argument("--shop-orders", type=int, default=0,
                        help="first start on a big shop: this many paid orders in the shop before the snapshot "
                             "(copies of one, written without binlog when the stack's root may); with --orders 0 "
                             "only these are timed")
    parser.add_argument("--shop-customers", type=int, default=0, help="customers (one address each) of --shop-orders")
    parser.add_argument("--base", type=Path,
                        help="a checkout of other code (with its .venv): each run of --workers is made with it too, "
                             "alternating (this tree first)")
    parser.add_argument("--cprofile", type=Path, dest="cprofile_dir",
                        help="run each worker under cProfile (the agents' thread) and write its .prof here")
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",") if c.strip()]

    st = devstack.ensure_up()
    tag = uuid.uuid4().hex[:8]
    database = f"pssync_bench_{tag}"
    rng = random.Random(7)
    print(f"code: {REPO}; python {platform.python_version()}; {os.cpu_count()} CPUs; database {database}")
    devstack.load_prestashop_fixtures(st.mysql_params(), database, st.table_prefix)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-streams-{tag}-"))
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"orders": args.orders, "runs": []}
    try:
        conn = pymysql.connect(**st.mysql_params(database))
        for id_product, sku in MAPPED.items():
            set_mapping(conn, Mapping("tryton", id_product, 0, sku, str(id_product), "manual"))
        capture = settings_for(st, database, tag, 1, "capture")
        placed: set[int] = set()
        if args.shop_orders:
            started = time.monotonic()
            placed, logged = fill_shop(st, database, args.shop_orders, max(1, args.shop_customers))
            print(f"shop filled with {len(placed)} orders and {args.shop_customers} customers in "
                  f"{time.monotonic() - started:.1f} s ({'binlog too' if logged else 'sql_log_bin=0'})", flush=True)
        report["snapshot_s"] = round(capture_backlog(capture, gtid_seq(conn)), 1)
        started = time.monotonic()
        for _ in range(args.orders):
            lines = rng.choice([[Line(6, 0, rng.randint(1, 3))], [Line(8, 0, rng.randint(1, 3))],
                                [Line(6, 0, 1), Line(8, 0, rng.randint(1, 2))]])
            placed.add(place_order(st.mysql_params(), database, st.table_prefix, lines, state_key="PS_OS_PAYMENT"))
        report["place_s"] = round(time.monotonic() - started, 1)
        print(f"placed {len(placed)} orders in {report['place_s']} s")
        head = gtid_seq(conn)
        conn.close()
        report["capture_s"] = round(capture_backlog(capture, head), 1)
        print(f"snapshot captured in {report['snapshot_s']} s, the orders from the binlog in {report['capture_s']} s")
        if args.cprofile_dir:
            args.cprofile_dir.mkdir(parents=True, exist_ok=True)
        codes = [(REPO, sys.executable)]
        if args.base:
            codes.append((args.base.resolve(), str(args.base.resolve() / ".venv" / "bin" / "python")))
        runs = [(workers, code) for workers in counts for code in codes]
        for n, (workers, (code, python)) in enumerate(runs):
            result = run_workers(settings_for(st, database, tag, workers, f"r{n}"), workers, placed, workdir,
                                 args.timeout, args.profile_dir, python, code, args.cprofile_dir, f"r{n}-")
            result["load_avg"] = [round(x, 2) for x in os.getloadavg()]
            report["runs"].append(result)
            print(f"[{code}] load {result['load_avg']}; {workers} worker(s): start-up {result['startup_s']} s, then {result['orders']} orders in "
                  f"{result['processing_s']} s = {result['orders_per_s']} orders/s, {result['total_s']} s in all "
                  f"({result['commands']} commands read), peak RSS per worker {result['peak_rss_mb']} MB", flush=True)
    finally:
        if not args.keep:
            conn = pymysql.connect(**st.mysql_params())
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            conn.close()
            delete_topics(st, [f"bench{tag}", f"pssync-streams-bench-{tag}"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
