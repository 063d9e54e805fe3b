#!/usr/bin/env python
"""Initial snapshot throughput of the CDC capture: a big table read in primary-key chunks, each
chunk one Kafka transaction with the offset that records the snapshot's progress.

The script

1. creates a scratch PrestaShop database ``pssync_bench_h2snap_<tag>`` with the demo data and
   fills ``ps_stock_available`` up to ``--rows`` rows (INSERT … SELECT from MariaDB's sequence
   engine, without binlog when the user may ``SET sql_log_bin=0``, so no binlog reader of anyone
   else has to skip it),
2. in a fresh child process (peak RSS is that pass's alone):
   - ``read``:  the chunked keyset read alone (ConsistentSnapshot.rows, ``--chunk-rows`` + 1 per
                query as the capture reads them), no conversion, no Kafka,
   - ``full``:  ``Capture.prepare()`` then ``Capture.snapshot()``: rows converted, Avro-encoded and
                written to Kafka, one transaction per chunk; timed until the last chunk's commit is
                acknowledged,
3. prints rows/s, chunks, commit times and peak RSS, and the topic's end offset as a check,
4. drops the scratch database, its topics and registry subjects (unless ``--keep``).

Run from the repository root with the local stack up::

    python benchmarks/bench_snapshot.py                    # 2,000,000 rows, 5000 per chunk
    python benchmarks/bench_snapshot.py --rows 200000 --chunk-rows 1000
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import platform
import random
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

# Benchmark the code of THIS checkout, whatever the editable install currently points at.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
for _path in (REPO / "deploy", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pymysql  # noqa: E402
from bench_capture import cleanup, mysql_connect, settings_for  # noqa: E402

from pssync import devstack  # noqa: E402
from pssync.settings import Settings  # noqa: E402

STOCK_FILL = (
    "INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, id_shop_group, quantity, "
    "physical_quantity, reserved_quantity, depends_on_stock, out_of_stock, location) "
    "SELECT 200000 + seq DIV 4, seq MOD 4, 1, 0, seq MOD 500, seq MOD 500 + seq MOD 3, seq MOD 3, 0, seq MOD 3, "
    "ELT(1 + seq MOD 4, '', '', 'A-12-3', 'B-04-1') FROM seq_{first}_to_{last}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fill_stock(st: devstack.StackSettings, db: str, rows: int, step: int = 100_000) -> tuple[int, bool]:
    try:    # the dev stack's root may skip the binlog; the capture user may not
        conn = pymysql.connect(host="127.0.0.1", port=st.mariadb_port, user="root", database=db, autocommit=True)
    except pymysql.MySQLError:
        conn = mysql_connect(st, db, autocommit=True)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SET SESSION sql_log_bin=0")
                logged = False
            except pymysql.MySQLError:
                logged = True
            cur.execute("SELECT COUNT(*) FROM ps_stock_available")
            have = int(cur.fetchone()[0])
            missing = rows - have
            for first in range(1, missing + 1, step):
                last = min(missing, first + step - 1)
                cur.execute("BEGIN")
                cur.execute(STOCK_FILL.format(first=first, last=last))
                cur.execute("COMMIT")
            cur.execute("SELECT COUNT(*) FROM ps_stock_available")
            return int(cur.fetchone()[0]), logged
    finally:
        conn.close()


def run_pass(kind: str, settings_data: dict[str, Any]) -> dict[str, Any]:
    """One pass, in a child process."""
    import logging

    logging.basicConfig(level=logging.INFO, format="  %(asctime)s %(name)s %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpx2", "pssync.bus.kafka", "pssync.bus.registry"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from pssync.cdc import database
    from pssync.cdc.capture import Capture
    from pssync.cdc.snapshot import ConsistentSnapshot

    settings = Settings(**settings_data)
    table = database.prefixed(settings.mysql, "stock_available")
    limit = settings.capture.snapshot_chunk_rows
    if kind == "read":
        conn = database.connect(settings.mysql)
        key = database.table_def(conn, settings.mysql.database, table).primary_key
        conn.close()
        rss_before = peak_rss_mb()
        started = time.monotonic()
        rows = chunks = 0
        with ConsistentSnapshot(settings.mysql) as snap:
            after = None
            while True:
                got = list(snap.rows(table, key, after, limit + 1))
                chunk = got[:limit]
                rows += len(chunk)
                chunks += 1
                if len(got) <= limit:
                    break
                after = tuple(chunk[-1][c] for c in key)
        elapsed = time.monotonic() - started
        return {"rows": rows, "chunks": chunks, "seconds": elapsed, "rss_before_mb": rss_before,
                "peak_rss_mb": peak_rss_mb()}

    commits: list[tuple[float, int]] = []
    last = [time.monotonic()]

    def on_commit(offset, events: int) -> None:
        now = time.monotonic()
        commits.append((now - last[0], events))
        last[0] = now

    capture = Capture(settings, on_commit=on_commit)
    try:
        capture.prepare()
        rss_before = peak_rss_mb()
        started = last[0] = time.monotonic()
        offset = capture.snapshot(progress=False)
        elapsed = time.monotonic() - started
    finally:
        capture.close()
    from confluent_kafka import Consumer, TopicPartition

    from pssync.cdc.events import topic_for

    topic = topic_for(settings.capture.topic_prefix, settings.mysql.database, table)
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers, "group.id": f"bench-{uuid.uuid4().hex}"})
    _, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.close()
    rows = sum(n for _, n in commits)
    chunk_times = sorted(t for t, n in commits if n)
    return {"rows": rows, "chunks": len(commits), "seconds": elapsed, "rss_before_mb": rss_before,
            "peak_rss_mb": peak_rss_mb(), "completed": offset.snapshot_completed,
            "topic_end_offset": end, "chunk_s_median": chunk_times[len(chunk_times) // 2] if chunk_times else 0,
            "chunk_s_max": chunk_times[-1] if chunk_times else 0}


def in_child(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(run_pass, kind, settings).result()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="ps_stock_available rows snapshotted")
    ap.add_argument("--chunk-rows", type=int, default=Settings().capture.snapshot_chunk_rows,
                    help="capture.snapshot_chunk_rows")
    ap.add_argument("--skip-read", action="store_true", help="no read-only pass")
    ap.add_argument("--registry-url", default=None, help="ccompat URL (default: the dev stack's)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch DB, topics and subjects")
    ap.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    args = ap.parse_args()

    st = devstack.ensure_up()
    tag = uuid.uuid4().hex[:8]
    db, prefix = f"pssync_bench_h2snap_{tag}", f"benchh2snap{tag}"
    registry_url = args.registry_url or st.ccompat_url
    print(f"code measured: {REPO} (python {platform.python_version()}); scratch DB {db}", flush=True)
    report: dict[str, Any] = {"rows_wanted": args.rows, "chunk_rows": args.chunk_rows, "database": db}
    try:
        started = time.monotonic()
        devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
        rows, logged = fill_stock(st, db, args.rows)
        print(f"filled ps_stock_available to {rows:,} rows in {time.monotonic() - started:.1f} s "
              f"({'written to the binlog' if logged else 'sql_log_bin=0'})", flush=True)
        settings = settings_for(st, db, f"bench-h2snap-{tag}", prefix, argparse.Namespace(
            registry_url=args.registry_url, batch_max_events=Settings().capture.batch_max_events,
            batch_max_ms=Settings().capture.batch_max_ms))
        settings["capture"].update(tables=["stock_available"], snapshot_chunk_rows=args.chunk_rows)
        if not args.skip_read:
            read = in_child("read", settings)
            report["read"] = read
            print(f"read only (keyset chunks, no Kafka): {read['rows']:,} rows in {read['chunks']} chunks, "
                  f"{read['seconds']:.1f} s = {read['rows'] / read['seconds']:,.0f} rows/s, "
                  f"peak RSS {read['peak_rss_mb']:.0f} MB", flush=True)
        full = in_child("full", settings)
        report["full"] = full
        print(f"full snapshot (convert + Avro + Kafka EOS, one transaction per chunk): {full['rows']:,} rows "
              f"in {full['chunks']} chunks, {full['seconds']:.1f} s = {full['rows'] / full['seconds']:,.0f} rows/s; "
              f"chunk commit-to-commit median {full['chunk_s_median'] * 1000:.0f} ms, max {full['chunk_s_max'] * 1000:.0f} ms; "
              f"peak RSS {full['peak_rss_mb']:.0f} MB ({full['rss_before_mb']:.0f} MB before the snapshot); "
              f"topic end offset {full['topic_end_offset']:,} (rows + one commit marker per chunk); "
              f"completed: {full['completed']}", flush=True)
        if full["rows"] != rows:
            print(f"WARNING: {full['rows']:,} rows written, the table has {rows:,}", flush=True)
    finally:
        if not args.keep:
            cleanup(st, db, prefix, registry_url)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    random.seed()
    main()
