#!/usr/bin/env python
"""pssync's capture and Debezium's MariaDB connector side by side, in one run, on one backlog.

Debezium runs in the project's own Kafka Connect worker (``pssync.devstack.connect``: Kafka Connect
4.1.1, Debezium 3.5.0.Final, Apicurio's AvroConverter in Confluent-compatible mode against the
stack's registry, the format pssync writes), here a private worker on its own REST port, with
exactly-once source support on (pssync commits its events and offsets in Kafka transactions; pass
``--no-dbz-eos`` to measure Debezium without).

Per backlog workload (the workloads of bench_capture.py: ps_orders single-row INSERTs,
ps_stock_available multi-row UPDATEs):

1. one scratch database ``pssync_bench_<tag>`` with the PrestaShop demo data;
2. pssync's first capture run (prepare + snapshot: offset stored), then it stops; Debezium's connector
   is created (initial snapshot), then stopped (``PUT .../stop``) and its offsets are read
   (``GET .../offsets``);
3. the backlog is written ONCE, while both are stopped;
4. ``--repeat`` rounds, interleaved (pssync, Debezium, pssync, Debezium, ...):
   * pssync: the ``full`` pass of bench_capture.py in a fresh process (the first round restarts the
     capture under its own name; later rounds read the same backlog under another capture name from
     the same start offset): clocked from the start of streaming until the committed Kafka
     transaction covers the head GTID; the restart (``prepare()``) is printed apart;
   * Debezium: ``PUT .../resume`` (later rounds first rewind the stored source offset to the
     pre-backlog one with ``PATCH .../offsets``), clocked until a read_committed consumer has seen
     every backlog row on the table's topic; the time to the first event (connector restart) is
     printed apart; then stopped again. The JVM's peak RSS is reset before each round
     (``/proc/<pid>/clear_refs``), so it is that round's peak;
5. pssync's breakdown passes (parse / convert / encode, bench_capture.py) once, for where its time goes.

``--snapshot-rows N`` (0 = off) also measures the initial snapshot of a database whose
ps_stock_available holds N extra rows: pssync's ``prepare()`` + ``snapshot()`` in a fresh process,
Debezium's connector from creation until every snapshot row of the captured tables is readable.

Run from the repository root with the local stack up::

    python benchmarks/bench_vs_debezium.py --rows-orders 5000 --rows-stock 20000 --repeat 2
    python benchmarks/bench_vs_debezium.py --only stock --snapshot-rows 200000 --repeat 1
    python benchmarks/bench_vs_debezium.py --only none --snapshot-rows 200000   # snapshot only
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE / "debezium"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_capture as bc  # noqa: E402  (puts this checkout first on sys.path)
import bench_debezium as bd  # noqa: E402  (TopicCounter, the connector settings of the older comparison)
from confluent_kafka.admin import AdminClient  # noqa: E402

from pssync import devstack  # noqa: E402
from pssync.devstack import connect as dconnect  # noqa: E402
from pssync.settings import Settings  # noqa: E402

TABLE_OF = {"orders": "orders", "stock": "stock_available"}


# ---------------------------------------------------------------------------------------------
# the Connect worker: pssync.devstack.connect's, in a private stack dir, with its own group
# ---------------------------------------------------------------------------------------------
class BenchConnect(dconnect.Connect):
    """devstack's Connect worker (same jars, JVM options, Avro converter settings), with its own
    Connect group / internal topics and, optionally, exactly-once source support."""

    def __init__(self, settings: devstack.StackSettings, group: str, eos: bool) -> None:
        super().__init__(settings)
        self.group, self.eos = group, eos

    def prepare(self) -> None:
        dconnect.resolve_jars(self.settings)
        props = dconnect.render_worker_properties(self.settings).replace(
            dconnect.group_id(self.settings), self.group)
        if self.eos:
            props += "exactly.once.source.support=enabled\n"
        dconnect.worker_properties_path(self.settings).write_text(props)
        dconnect.log4j_path(self.settings).write_text(dconnect.render_log4j_properties(self.settings))

    def pid(self) -> int:
        pid = self.running_pid()
        if pid is None:
            raise RuntimeError("the Connect worker is not running")
        return pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid()}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid()}/status").read_text().splitlines()
                      if ":" in line)
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def reset_peak_rss(self) -> None:
        Path(f"/proc/{self.pid()}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def wait_stopped(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.state(name)
            if status and status["connector"]["state"] == "STOPPED" and not status.get("tasks"):
                return
            time.sleep(0.25)
        raise TimeoutError(f"connector {name} not STOPPED after {timeout:.0f}s: {self.state(name)}")


def start_worker(st: devstack.StackSettings, args: argparse.Namespace, tag: str) -> BenchConnect:
    work = Path(args.work_dir) / f"run-{tag}"
    private = st.model_copy(update={"dir": work, "connect_port": args.rest_port})
    (work / "connect").mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "run"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    # The jars: the shared stack's, when they were resolved from the same POM (no Maven run).
    shared_lib = dconnect.lib_dir(st)
    stamp = dconnect.connect_dir(st) / "lib.version"
    if shared_lib.is_dir() and stamp.exists() and stamp.read_text().strip() == dconnect.pom_digest():
        (work / "connect" / "lib").symlink_to(shared_lib)
        (work / "connect" / "lib.version").write_text(stamp.read_text())
    worker = BenchConnect(private, f"{args.tag}-connect-{tag}", args.dbz_eos)
    if not bd.port_free(args.rest_port):
        raise SystemExit(f"port {args.rest_port} is in use; pass --rest-port")
    t = time.perf_counter()
    worker.up()
    print(f"Connect worker (pssync.devstack.connect, Avro converter, exactly-once source support "
          f"{'on' if args.dbz_eos else 'off'}) up on {worker.url} in {time.perf_counter() - t:.1f} s; "
          f"pid {worker.pid()}, logs in {work / 'logs'}", flush=True)
    return worker


def connector_config(st: devstack.StackSettings, db: str, prefix: str, args: argparse.Namespace) -> dict[str, str]:
    config = bd.connector_config(st, db, prefix)
    config.update({
        # the server is shared: only this database's DDL in the schema history
        "schema.history.internal.store.only.captured.databases.ddl": "true",
        "schema.history.internal.store.only.captured.tables.ddl": "true",
    })
    if not args.dbz_eos:
        for key in ("exactly.once.support", "transaction.boundary"):
            config.pop(key, None)
    return config  # converters: the worker's (Apicurio Avro, Confluent ids)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cleanup_prefix(st: devstack.StackSettings, prefixes: list[str]) -> None:
    """Topics and registry subjects whose names start with one of `prefixes`."""
    topics: list[str] = []
    try:
        admin = AdminClient({"bootstrap.servers": st.kafka_bootstrap})
        topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(tuple(prefixes))]
        if topics:
            for fut in admin.delete_topics(topics, operation_timeout=30).values():
                fut.result()
    except Exception as exc:  # best effort
        print(f"  (could not delete topics {prefixes}: {exc})")
    bc.delete_subjects(st.ccompat_url, topics, tuple(prefixes))


def drop_db(st: devstack.StackSettings, db: str) -> None:
    conn = bc.mysql_connect(st)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    finally:
        conn.close()


def table_counts(conn: Any, tables: list[str], table_prefix: str) -> dict[str, int]:
    out = {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM `{table_prefix}{table}`")
            out[table] = cur.fetchone()[0]
    return out


def wait_quiet(counter: bd.TopicCounter, seconds: float = 2.0, timeout: float = 60.0) -> int:
    """Waits until the counter has not moved for `seconds`; returns the count."""
    deadline = time.monotonic() + timeout
    last, since = counter.count, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if counter.count != last:
            last, since = counter.count, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return last
    return counter.count


# ---------------------------------------------------------------------------------------------
# one backlog workload, both systems, interleaved
# ---------------------------------------------------------------------------------------------
def pssync_full(st: devstack.StackSettings, settings: dict[str, Any], db: str, tag: str, prefix: str,
                start: Any, head_gtid: str, round_no: int, args: argparse.Namespace) -> dict[str, Any]:
    if round_no == 0:  # the real restart: same capture name, from the stored offset
        return bc.in_child("full", bc.with_server_id(settings), start, head_gtid, resume=True)
    other = bc.settings_for(st, db, f"bench-{tag}-full{round_no}", f"{prefix}.full{round_no}", args,
                            offsets_topic=f"{prefix}.offsets")
    return bc.in_child("full", other, start, head_gtid, resume=False)


def debezium_round(worker: BenchConnect, name: str, counter: bd.TopicCounter, rows: int,
                   rewind: list[dict[str, Any]] | None) -> dict[str, Any]:
    if rewind is not None:
        worker.rest("PATCH", f"/connectors/{name}/offsets", {"offsets": rewind})
    base = counter.count
    worker.reset_peak_rss()
    cpu0 = worker.cpu_seconds()
    t0 = time.perf_counter()
    worker.rest("PUT", f"/connectors/{name}/resume")
    first = counter.wait(base + 1, 600)
    done = counter.wait(base + rows, 1800)
    cpu = worker.cpu_seconds() - cpu0  # includes a little idle time after `done`
    rss, hwm = worker.rss_mb()
    worker.rest("PUT", f"/connectors/{name}/stop")
    worker.wait_stopped(name)
    after = wait_quiet(counter)
    wall = done - t0
    return {"rows": rows, "wall": wall, "rows_per_s": rows / wall, "first_event_s": first - t0,
            "streaming_wall": done - first, "cpu": cpu, "jvm_rss_mb": rss, "jvm_peak_rss_mb": hwm,
            "extra_records": after - base - rows}


def run_workload(worker: BenchConnect, st: devstack.StackSettings, workload: str,
                 args: argparse.Namespace) -> dict[str, Any]:
    tag = f"{args.tag}{workload[:2]}{uuid.uuid4().hex[:6]}"
    db = f"pssync_bench_{tag}"
    prefix = f"bench{tag}"             # pssync's topics and subjects
    dbz_prefix = f"benchdbz{tag}"      # Debezium's
    name = f"bench-dbz-{tag}"
    rows = args.rows_orders if workload == "orders" else args.rows_stock
    txn_rows = args.orders_txn_rows if workload == "orders" else args.stock_txn_rows
    multi = (args.statements == "multi") if args.statements != "auto" else (workload == "stock")
    table = TABLE_OF[workload]
    dbz_topic = f"{dbz_prefix}.{db}.{st.table_prefix}{table}"
    report: dict[str, Any] = {"workload": workload, "rows": rows, "txn_rows": txn_rows, "database": db,
                              "statements": "multi-row" if multi else "single-row", "load_start": load()}
    print(f"\n=== {workload}: {rows:,} rows in transactions of {txn_rows} "
          f"({'one multi-row statement' if multi else 'one statement per row'} per transaction); "
          f"scratch DB {db}; load average {load()} ===", flush=True)
    counter: bd.TopicCounter | None = None
    try:
        devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
        conn = bc.mysql_connect(st, db, autocommit=True)
        if workload == "stock":
            bc.preload_stock(conn, args.stock_pool)
        snapshot_rows = table_counts(conn, [table], st.table_prefix)[table]

        # 1) pssync's first run: snapshot + stored offset
        settings = bc.settings_for(st, db, f"bench-{tag}", prefix, args)
        cap = bc.Capture(Settings(**settings))
        try:
            committed = bc.prepare_with_retry(cap)
            start = committed if committed is not None and committed.snapshot_completed \
                else cap.snapshot(progress=False)
        finally:
            cap.close()
        # 2) Debezium's first run: snapshot, stop, read its stored offsets
        worker.create_connector(name, connector_config(st, db, dbz_prefix, args))
        counter = bd.TopicCounter(st.kafka_bootstrap, dbz_topic)
        counter.wait(snapshot_rows, 300)
        time.sleep(args.settle)  # let it switch to binlog streaming and store its offsets
        worker.rest("PUT", f"/connectors/{name}/stop")
        worker.wait_stopped(name)
        if wait_quiet(counter) != snapshot_rows:
            raise RuntimeError(f"{dbz_topic}: {counter.count} records after the snapshot, expected {snapshot_rows}")
        dbz_offsets = worker.rest("GET", f"/connectors/{name}/offsets")["offsets"]
        print(f"  both snapshots done, both stopped; pssync offset {start.gtid}; Debezium offsets "
              f"{json.dumps([o['offset'] for o in dbz_offsets])}", flush=True)

        # 3) the backlog, once
        before = bc.binlog_head(conn)
        t = time.perf_counter()
        (bc.write_orders if workload == "orders" else bc.write_stock)(conn, rows, txn_rows, multi)
        write_s = time.perf_counter() - t
        head_file, head_pos, head_gtid = bc.binlog_head(conn)
        backlog = bc.binlog_bytes(conn, (start.file, start.pos), (head_file, head_pos))
        ours = bc.binlog_bytes(conn, before[:2], (head_file, head_pos))
        conn.close()
        report.update(write_s=write_s, head_gtid=head_gtid, binlog_bytes=backlog, workload_binlog_bytes=ours)
        print(f"  backlog written in {write_s:.1f} s; binlog {backlog / 2**20:.1f} MB from pssync's offset "
              f"(this workload {ours / 2**20:.1f} MB); head GTID {head_gtid}", flush=True)

        # 4) interleaved rounds
        ps_runs: list[dict[str, Any]] = []
        dbz_runs: list[dict[str, Any]] = []
        for round_no in range(args.repeat):
            res = pssync_full(st, settings, db, tag, prefix, start, head_gtid, round_no, args)
            res["load"] = load()
            ps_runs.append(res)
            ok = "" if res["rows"] == rows else f"   !! expected {rows:,} rows"
            print(f"  round {round_no + 1} pssync   {res['rows']:>8,} rows {res['wall']:7.2f} s "
                  f"{res['rows'] / res['wall']:>9,.0f} rows/s  (restart {res['prepare_s']:.2f} s apart)  "
                  f"CPU {100 * res['cpu'] / res['wall']:4.0f}%  peak RSS {res['rss_peak']:.0f} MB  "
                  f"load {res['load']}{ok}", flush=True)
            dres = debezium_round(worker, name, counter, rows, None if round_no == 0 else dbz_offsets)
            dres["load"] = load()
            dbz_runs.append(dres)
            extra = f"   ({dres['extra_records']} records beyond the backlog)" if dres["extra_records"] else ""
            print(f"  round {round_no + 1} Debezium {rows:>8,} rows {dres['wall']:7.2f} s "
                  f"{dres['rows_per_s']:>9,.0f} rows/s  (first event after {dres['first_event_s']:.2f} s, then "
                  f"{rows / max(1e-9, dres['streaming_wall']):,.0f} rows/s)  CPU {100 * dres['cpu'] / dres['wall']:4.0f}%  "
                  f"JVM RSS {dres['jvm_rss_mb']:.0f} MB, peak {dres['jvm_peak_rss_mb']:.0f} MB  "
                  f"load {dres['load']}{extra}", flush=True)
        report.update(pssync=ps_runs, debezium=dbz_runs)

        # 5) where pssync's time goes
        passes: dict[str, dict[str, Any]] = {}
        for kind in [p for p in ("parse", "convert", "encode") if p not in args.skip]:
            res = bc.in_child(kind, bc.with_server_id(settings), start, head_gtid)
            passes[kind] = res | {"all_walls": [res["wall"]]}
        best = min(ps_runs, key=lambda r: r["wall"])
        passes["full"] = best | {"all_walls": [r["wall"] for r in ps_runs]}
        report["passes"] = passes
        return report
    finally:
        if counter is not None:
            counter.close()
        try:
            worker.delete_connector(name)
        except Exception as exc:  # best effort
            print(f"  (could not delete connector {name}: {exc})")
        if not args.keep:
            drop_db(st, db)
            cleanup_prefix(st, [prefix + ".", dbz_prefix])


# ---------------------------------------------------------------------------------------------
# initial snapshot, both systems (a separate function: re-run it when the snapshot code changes)
# ---------------------------------------------------------------------------------------------
def pssync_snapshot_pass(settings: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: Capture.prepare() + snapshot() (one Kafka transaction, offset stored)."""
    try:
        import logging
        import resource

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        rss0 = bc.rss_now_mb()
        cap = bc.Capture(Settings(**settings))
        cpu0, t0 = time.process_time(), time.perf_counter()
        try:
            bc.prepare_with_retry(cap)
            t1 = time.perf_counter()
            cap.snapshot(progress=False)
            t2 = time.perf_counter()
        finally:
            cap.close()
        return {"prepare_s": t1 - t0, "snapshot_s": t2 - t1, "wall": t2 - t0, "cpu": time.process_time() - cpu0,
                "rss_start": rss0, "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    except BaseException as exc:
        import traceback

        raise RuntimeError(f"snapshot pass failed: {exc!r}\n{traceback.format_exc()}") from None


def measure_snapshot(worker: BenchConnect, st: devstack.StackSettings, args: argparse.Namespace) -> dict[str, Any]:
    import concurrent.futures
    import multiprocessing

    tag = f"{args.tag}sn{uuid.uuid4().hex[:6]}"
    db = f"pssync_bench_{tag}"
    tables = list(Settings().capture.tables)
    print(f"\n=== initial snapshot: ps_stock_available + {args.snapshot_rows:,} rows; scratch DB {db}; "
          f"load average {load()} ===", flush=True)
    prefixes: list[str] = []
    names: list[str] = []
    report: dict[str, Any] = {"workload": "snapshot", "extra_stock_rows": args.snapshot_rows, "database": db}
    try:
        devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
        conn = bc.mysql_connect(st, db, autocommit=True)
        t = time.perf_counter()
        bc.preload_stock(conn, args.snapshot_rows)
        counts = table_counts(conn, tables, st.table_prefix)
        conn.close()
        total = sum(counts.values())
        report.update(table_rows=counts, rows=total)
        print(f"  {total:,} rows in the {len(tables)} captured tables ({counts['stock_available']:,} in "
              f"ps_stock_available), loaded in {time.perf_counter() - t:.1f} s", flush=True)
        ps_runs, dbz_runs = [], []
        for round_no in range(args.repeat):
            # pssync: a fresh capture name and topic prefix each round
            prefix = f"bench{tag}r{round_no}"
            prefixes.append(prefix + ".")
            settings = bc.settings_for(st, db, f"bench-{tag}-r{round_no}", prefix, args)
            ctx = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                res = pool.submit(pssync_snapshot_pass, settings).result()
            res.update(rows=total, load=load())
            ps_runs.append(res)
            print(f"  round {round_no + 1} pssync   {total:>8,} rows {res['wall']:7.2f} s "
                  f"{total / res['wall']:>9,.0f} rows/s  (prepare {res['prepare_s']:.2f} s + snapshot "
                  f"{res['snapshot_s']:.2f} s)  CPU {100 * res['cpu'] / res['wall']:4.0f}%  "
                  f"peak RSS {res['rss_peak']:.0f} MB  load {res['load']}", flush=True)
            # Debezium: a fresh connector (initial snapshot) each round
            dbz_prefix = f"benchdbz{tag}r{round_no}"
            prefixes.append(dbz_prefix)
            name = f"bench-dbz-{tag}-r{round_no}"
            names.append(name)
            counters = {table: bd.TopicCounter(st.kafka_bootstrap, f"{dbz_prefix}.{db}.{st.table_prefix}{table}")
                        for table, n in counts.items() if n}
            try:
                worker.reset_peak_rss()
                cpu0 = worker.cpu_seconds()
                t0 = time.perf_counter()
                worker.rest("PUT", f"/connectors/{name}/config", connector_config(st, db, dbz_prefix, args))
                done = max(counters[table].wait(counts[table], 1800) for table in counters)
                cpu = worker.cpu_seconds() - cpu0
                rss, hwm = worker.rss_mb()
            finally:
                for counter in counters.values():
                    counter.close()
                worker.delete_connector(name)
            wall = done - t0
            dres = {"rows": total, "wall": wall, "rows_per_s": total / wall, "cpu": cpu, "jvm_rss_mb": rss,
                    "jvm_peak_rss_mb": hwm, "load": load()}
            dbz_runs.append(dres)
            print(f"  round {round_no + 1} Debezium {total:>8,} rows {wall:7.2f} s {total / wall:>9,.0f} rows/s  "
                  f"(connector creation to the last row readable)  CPU {100 * cpu / wall:4.0f}%  "
                  f"JVM RSS {rss:.0f} MB, peak {hwm:.0f} MB  load {dres['load']}", flush=True)
        report.update(pssync=ps_runs, debezium=dbz_runs)
        return report
    finally:
        for name in names:
            try:
                worker.delete_connector(name)
            except Exception as exc:  # best effort
                print(f"  (could not delete connector {name}: {exc})")
        if not args.keep:
            drop_db(st, db)
            cleanup_prefix(st, prefixes)


# ---------------------------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------------------------
def _rates(rep: dict[str, Any], kind: str) -> dict[str, list[float]]:
    """Per round, rows/s measured three ways (see print_summary)."""
    rows = rep["rows"]
    out: dict[str, list[float]] = {"restart": [], "streaming": []}
    for r in rep[kind]:
        if kind == "pssync":
            # backlog: the wall starts with streaming, prepare() is apart; snapshot: it includes prepare()
            out["restart"].append(rows / (r["wall"] + (r["prepare_s"] if rep["workload"] != "snapshot" else 0.0)))
            if "first_commit_s" in r:
                out["streaming"].append(rows / max(1e-9, r["wall"] - r["first_commit_s"]))
        else:
            out["restart"].append(r["rows_per_s"])
            if "streaming_wall" in r:
                out["streaming"].append(rows / max(1e-9, r["streaming_wall"]))
    return out


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def summary_lines(rep: dict[str, Any]) -> list[str]:
    ps, dbz = _rates(rep, "pssync"), _rates(rep, "debezium")
    ps_rss = max(r["rss_peak"] for r in rep["pssync"])
    dbz_rss = max(r["jvm_peak_rss_mb"] for r in rep["debezium"])
    label = (f"initial snapshot, {rep['rows']:,} rows" if rep["workload"] == "snapshot"
             else f"{rep['workload']} backlog, {rep['rows']:,} rows")
    lines = [f"{label}: peak RSS pssync {ps_rss:.0f} MB (one process), Debezium {dbz_rss:.0f} MB (Connect JVM)"]
    ways = [("restart", "restart included" if rep["workload"] != "snapshot"
             else "prepare/connector start included")]
    if rep["workload"] != "snapshot":
        ways.append(("streaming", "first to last visible record"))
    for way, text in ways:
        a, b = ps[way], dbz[way]
        if not a or not b:
            continue
        paired = [x / y for x, y in zip(a, b)]
        lines.append(f"  {text:<32} pssync {' '.join(f'{x:>7,.0f}' for x in a)} rows/s | Debezium "
                     f"{' '.join(f'{x:>7,.0f}' for x in b)} rows/s | pssync/Debezium per round "
                     f"{' '.join(f'{x:.2f}' for x in paired)}, median {_median(paired):.2f}x, "
                     f"best vs best {max(a) / max(b):.2f}x")
    return lines


def print_summary(reports: list[dict[str, Any]]) -> None:
    print("\n=== side by side, per interleaved round (pssync/Debezium > 1: pssync faster) ===")
    print("  restart included: pssync = prepare() (offset load) + streaming until the committed Kafka "
          "transaction covers the head;\n    Debezium = PUT resume until a read_committed consumer saw "
          "the last backlog row. Snapshot: pssync prepare() + snapshot(), Debezium connector creation "
          "until every snapshot row is readable.\n  first to last visible record: pssync from its first "
          "Kafka commit, Debezium from the consumer's first backlog record.")
    for rep in reports:
        for line in summary_lines(rep):
            print("  " + line)
    for rep in reports:
        if rep["workload"] != "snapshot" and len(rep.get("passes", {})) > 1:
            bc.print_report(rep)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--rows-orders", type=int, default=10_000, help="ps_orders rows inserted")
    ap.add_argument("--rows-stock", type=int, default=25_000, help="ps_stock_available rows updated")
    ap.add_argument("--only", choices=("orders", "stock", "none"),
                    help="one backlog workload only (none: only the snapshot, with --snapshot-rows)")
    ap.add_argument("--snapshot-rows", type=int, default=20_000,
                    help="extra ps_stock_available rows for the initial-snapshot comparison (0: skip it)")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved rounds (pssync, Debezium) per workload")
    ap.add_argument("--skip", nargs="*", default=[], choices=("parse", "convert", "encode"),
                    help="pssync breakdown passes to leave out")
    ap.add_argument("--orders-txn-rows", type=int, default=100)
    ap.add_argument("--stock-txn-rows", type=int, default=250)
    ap.add_argument("--stock-pool", type=int, default=10_000)
    ap.add_argument("--statements", choices=("auto", "single", "multi"), default="auto")
    ap.add_argument("--batch-max-events", type=int, default=Settings().capture.batch_max_events)
    ap.add_argument("--batch-max-ms", type=int, default=Settings().capture.batch_max_ms)
    ap.add_argument("--dbz-eos", action=argparse.BooleanOptionalAction, default=True,
                    help="Connect exactly-once source support (as pssync's transactions)")
    ap.add_argument("--rest-port", type=int, default=18093, help="the private Connect worker's REST port")
    ap.add_argument("--tag", default="vs", help="put into scratch DB, topic, connector and Connect group names")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds between Debezium's snapshot and its stop")
    ap.add_argument("--work-dir", default="/tmp/pssync-bench-vs-debezium",
                    help="the private worker's config, logs and pid file")
    ap.add_argument("--keep", action="store_true", help="keep scratch DBs, topics and subjects")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--summary-from", metavar="FILE", help="only print the summary of an earlier --json file")
    args = ap.parse_args()
    if args.summary_from:
        saved = json.loads(Path(args.summary_from).read_text())
        print(f"summary of {args.summary_from} ({saved['date']})")
        print_summary(saved["reports"])
        return
    args.registry_url = None  # bench_capture.settings_for: the stack's registry (both sides use it)
    args.profile = False

    st = devstack.ensure_up()
    from pssync import cdc

    print(f"bench_vs_debezium {dt.datetime.now().isoformat(timespec='seconds')} on {platform.node()}: "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load()}")
    print(f"pssync code under test: {Path(cdc.__file__).resolve().parent.parent}; registry {st.ccompat_url} "
          f"for both; MariaDB {st.mariadb_port}, Kafka {st.kafka_bootstrap}")
    tag = f"{args.tag}{uuid.uuid4().hex[:6]}"
    worker = start_worker(st, args, tag)
    reports: list[dict[str, Any]] = []
    try:
        for workload in ("orders", "stock"):
            if args.only and args.only != workload:
                continue
            reports.append(run_workload(worker, st, workload, args))
        if args.snapshot_rows:
            reports.append(measure_snapshot(worker, st, args))
    finally:
        worker.down()
        cleanup_prefix(st, [f"{worker.group}."])
    print_summary(reports)
    print(f"\nload average at the end: {load()}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"date": dt.datetime.now().isoformat(timespec="seconds"), "args": vars(args),
                       "reports": reports}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
