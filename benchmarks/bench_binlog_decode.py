#!/usr/bin/env python
"""Binlog decoding alone: BinlogReader over a ps_orders INSERT backlog and a ps_stock_available
UPDATE backlog (the workloads of bench_capture.py), with python-mysql-replication's row reader
and with the compiled plans of cdc/binlog_rows.py, alternated in one process so both see the
same machine load. ``--check`` also compares every decoded value of the two (type and value).

    python benchmarks/bench_binlog_decode.py --rows-orders 5000 --rows-stock 25000 --repeat 3 --check
    python benchmarks/bench_binlog_decode.py --profile compiled     # cProfile top functions
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO / "deploy", REPO, REPO / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pymysql  # noqa: E402

import bench_capture as bc  # noqa: E402
from pssync import devstack  # noqa: E402
from pssync.cdc import binlog_rows  # noqa: E402
from pssync.cdc.binlog import BinlogReader, Idle, Rows, Transaction  # noqa: E402


def read_backlog(st: devstack.StackSettings, db: str, tables: list[str], start: str, head: str,
                 keep: bool = False) -> tuple[int, float, list, float]:
    params = st.mysql_params()
    conn = {k: params[k] for k in ("host", "port", "user", "password")}
    reader = BinlogReader(conn, random.randint(100_000, 2**31), db, tables, start, 0.5)
    rows, kept = 0, []
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        for item in reader:
            if isinstance(item, Rows):
                rows += len(item.changes)
                if keep:
                    kept.extend((c.op, c.before, c.after) for c in item.changes)
            elif isinstance(item, Transaction) and bc.covers(item.position, head):
                break
            elif isinstance(item, Idle):
                pass
    finally:
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        reader.close()
    return rows, wall, kept, cpu


def same(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[union-attr]
    if isinstance(a, float) and a != a:
        return b != b  # type: ignore[comparison-overlap]
    return a == b and str(a) == str(b)


def encode_pass(st: devstack.StackSettings, db: str, name: str, tables: list[str], start: str, head: str,
                args: argparse.Namespace) -> None:
    """Row conversion and envelope + Avro encoding of the decoded changes, timed apart from the
    binlog reading (Capture._emit_rows with the Kafka produce call replaced by a counter)."""
    from pssync.cdc.capture import Capture
    from pssync.settings import Settings

    ns = argparse.Namespace(registry_url=None, batch_max_events=5000, batch_max_ms=100)
    settings = bc.settings_for(st, db, f"bench-dec-{name}", f"benchdec{uuid.uuid4().hex[:6]}", ns)
    cap = Capture(Settings(**settings))
    cap._produce = lambda *a, **k: None  # type: ignore[method-assign]
    params = st.mysql_params()
    conn = {k: params[k] for k in ("host", "port", "user", "password")}
    reader = BinlogReader(conn, random.randint(100_000, 2**31), db, tables, start, 0.5)
    items = []
    for item in reader:
        if isinstance(item, Rows):
            items.append(item)
        elif isinstance(item, Transaction) and bc.covers(item.position, head):
            break
    reader.close()
    changes = [c for it in items for c in it.changes]
    codec = cap.codec(changes[0].table)      # registers the schemas once
    convert = codec.convert
    for label, fn in (("convert", lambda: [convert(c.after if c.after is not None else c.before) for c in changes]
                       if changes[0].op != "u" else [(convert(c.before), convert(c.after)) for c in changes]),
                      ("emit", lambda: emit_all(cap, items))):
        runs = [_timed(fn) for _ in range(args.repeat)]
        best, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{name:<7} {label:<9} {len(changes):>7,} rows  best {best:6.2f} s  {len(changes) / best:>9,.0f} rows/s  "
              f"{1e6 * best / len(changes):7.1f} us/row, CPU {1e6 * cpu / len(changes):6.1f} us/row")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        emit_all(cap, items)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def emit_all(cap, items) -> None:
    from pssync.cdc.capture import TxnProgress

    progress = TxnProgress()
    for it in items:
        cap._emit_rows(it, progress)


def _timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows-orders", type=int, default=5000)
    ap.add_argument("--rows-stock", type=int, default=25000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="compare every value of the two decoders")
    ap.add_argument("--profile", choices=("library", "compiled"), help="one cProfile'd pass per workload")
    ap.add_argument("--encode", action="store_true",
                    help="also time RowConverter and TableCodec.encode over the decoded changes (no Kafka)")
    args = ap.parse_args()

    st = devstack.ensure_up()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tag = uuid.uuid4().hex[:8]
    db = f"pssync_bench_dec_{tag}"
    devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
    try:
        conn = bc.mysql_connect(st, db, autocommit=True)
        bc.preload_stock(conn, 10_000)
        workloads = []
        start = bc.binlog_head(conn)[2]
        bc.write_orders(conn, args.rows_orders, 100, multi_row=False)
        mid = bc.binlog_head(conn)[2]
        workloads.append(("orders", [f"{st.table_prefix}orders"], start, mid, args.rows_orders))
        bc.write_stock(conn, args.rows_stock, 250, multi_row=True)
        head = bc.binlog_head(conn)[2]
        workloads.append(("stock", [f"{st.table_prefix}stock_available"], mid, head, args.rows_stock))
        conn.close()
        for name, tables, a, b, expected in workloads:
            if args.check:
                binlog_rows.ENABLED = False
                _, _, lib, _ = read_backlog(st, db, tables, a, b, keep=True)
                binlog_rows.ENABLED = True
                _, _, ours, _ = read_backlog(st, db, tables, a, b, keep=True)
                bad = [i for i, (x, y) in enumerate(zip(lib, ours)) if not same(x, y)]
                print(f"{name}: check {len(lib)} vs {len(ours)} changes, {len(bad)} differ"
                      + (f" (first: {lib[bad[0]]} != {ours[bad[0]]})" if bad else ""))
            if args.profile and not args.encode:
                binlog_rows.ENABLED = args.profile == "compiled"
                prof = cProfile.Profile()
                prof.enable()
                read_backlog(st, db, tables, a, b)
                prof.disable()
                print(f"--- {name}, {args.profile} decoder under cProfile")
                pstats.Stats(prof).sort_stats("tottime").print_stats(18)
                continue
            if args.encode:
                encode_pass(st, db, name, tables, a, b, args)
            walls: dict[str, list[float]] = {"library": [], "compiled": []}
            cpus: dict[str, list[float]] = {"library": [], "compiled": []}
            for _ in range(args.repeat):
                for mode in ("library", "compiled"):
                    binlog_rows.ENABLED = mode == "compiled"
                    rows, wall, _, cpu = read_backlog(st, db, tables, a, b)
                    assert rows == expected, (name, mode, rows, expected)
                    walls[mode].append(wall)
                    cpus[mode].append(cpu)
            for mode, ws in walls.items():
                best = min(ws)
                print(f"{name:<7} {mode:<9} {expected:>7,} rows  best {best:6.2f} s  {expected / best:>9,.0f} rows/s  "
                      f"{1e6 * best / expected:7.1f} us/row, CPU of this process {1e6 * min(cpus[mode]) / expected:6.1f} "
                      f"us/row  (wall of each run: {' '.join(f'{w:.2f}' for w in ws)})")
    finally:
        conn = pymysql.connect(**st.mysql_params())
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
