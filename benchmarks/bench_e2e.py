#!/usr/bin/env python
"""End-to-end latency of the running pipeline at a steady rate, apart from the ERP's own service time.

Two phases, one after the other, against the services started by ``pssync services up`` (the
``prestashop`` database, default topics, ``deploy/pipeline.yaml``):

(a) **shop commit -> ERP sale created.** Paid orders (``devstack.shop.place_order``, one line of
    product 6 / demo_11, ``PS_OS_PAYMENT``) are placed at ``--rate`` per second for ``--duration``
    seconds. The commit time is ``time.time()`` right after ``place_order`` returns (ps_orders.date_add
    has one-second precision only). The ERP sink's own evidence closes the loop: the
    ``pssync_sync_log`` row ``resource='sales_order', external_id='<reference>-<id_order>',
    outcome='applied'``. Its ``attempted_at`` is when the sink took the command up and its
    ``finished_at`` when the Tryton create had returned, so

        total        = finished_at  - commit
        pipeline     = attempted_at - commit     (capture, processors, Kafka, sink queue)
        ERP service  = finished_at  - attempted_at (the Tryton create itself)

    When the sink's Kafka record can be read back, ``pipeline`` is split further at the record's
    timestamp (when the processors produced the command): commit -> command produced, and
    command produced -> sink starts (queueing behind earlier commands).

(b) **ERP stock change -> ps_stock_available.** ``erp_actions.receive_stock(erp, "demo_11", 1)`` at
    ``--stock-rate`` per second. The change time is ``time.time()`` right after the call returns
    (the move is done). After each change the Tryton forecast is read: the shop row must reach at
    least that quantity. Detection, two ways:
      * sync log: the first ``resource='stock_available', external_id='demo_11'`` row applied from an
        ERP stock event (``source_event_id LIKE 'erp-stock:%'``) with ``finished_at`` after the change
        and ``quantity >= forecast`` in its detail (a poll may cover several changes, which then
        share one row);
      * shop DB: ps_stock_available (6, 0, shop 1) polled every ``--db-poll-ms`` (20 ms), first sample
        with ``quantity >= forecast`` (this includes the sink's commit).
    The Tryton side is polled (``erp.poll_interval_s``, 1 s in deploy/pipeline.yaml), not pushed:
    a change waits on average half an interval, at most a whole one, before it is even read. That
    share is reported separately.

Wall clocks: everything runs on one machine; the sync log stores naive UTC DATETIME(6).

This is a benchmark that prints figures, not a test. Run from the repository root::

    python benchmarks/bench_e2e.py                         # 1/s for 60 s, both phases
    python benchmarks/bench_e2e.py --duration 30 --rate 1
    python benchmarks/bench_e2e.py --only stock --stock-rate 2
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO / "deploy", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pymysql  # noqa: E402
import pymysql.cursors  # noqa: E402
import yaml  # noqa: E402

from pssync.devstack import erp_actions, pipeline  # noqa: E402
from pssync.devstack.settings import StackSettings  # noqa: E402
from pssync.devstack.shop import Line, place_order  # noqa: E402

PREFIX = "ps_"
UTC = dt.timezone.utc


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def epoch(value: dt.datetime) -> float:
    """Sync-log DATETIME(6) (naive UTC) -> seconds since the epoch."""
    return value.replace(tzinfo=UTC).timestamp()


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": min(values), "p50": percentile(values, 0.50), "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99), "max": max(values), "mean": sum(values) / len(values)}


def table(title: str, rows: list[tuple[str, list[float]]]) -> None:
    print(f"\n{title}")
    print(f"  {'latency (ms)':<50} {'n':>4} {'min':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    for label, values in rows:
        s = summary(values)
        if not s["n"]:
            print(f"  {label:<50} {0:>4}  (no samples)")
            continue
        print(f"  {label:<50} {s['n']:>4} " + " ".join(f"{s[k] * 1000:>8.0f}"
                                                          for k in ("min", "p50", "p95", "p99", "max", "mean")))


def connect(stack: StackSettings) -> pymysql.Connection:
    return pymysql.connect(**stack.mysql_params(stack.database), autocommit=True,
                           cursorclass=pymysql.cursors.DictCursor)


def query(conn: pymysql.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def paced(rate: float, duration: float):
    """Yields (index, scheduled time) at a steady rate; a late step is not made up for by bursting."""
    count = max(1, int(round(rate * duration)))
    start = time.time() + 0.2
    for i in range(count):
        due = start + i / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        yield i, due


class KafkaTimestamps:
    """CreateTime of single records (topic, partition, offset), read back read_committed."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Consumer
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-e2e-{uuid.uuid4().hex[:8]}",
                                  "enable.auto.commit": False, "isolation.level": "read_committed",
                                  "auto.offset.reset": "earliest"})

    def get(self, topic: str | None, partition: int | None, offset: int | None) -> float | None:
        if topic is None or partition is None or offset is None:
            return None
        from confluent_kafka import TopicPartition
        try:
            self.consumer.assign([TopicPartition(topic, partition, offset)])
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                msg = self.consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                if msg.offset() == offset:
                    kind, ms = msg.timestamp()
                    return ms / 1000 if kind != 0 else None
                if msg.offset() > offset:
                    return None
        except Exception:
            return None
        return None

    def close(self) -> None:
        self.consumer.close()


def ensure_services(stack: StackSettings, config: Path, warmup: float) -> None:
    states = [pipeline.state(stack, n) for n in pipeline.SERVICES]
    stopped = [s.name for s in states if not s.running]
    if not stopped:
        print("services: all running (" + ", ".join(f"{s.name} pid {s.pid}" for s in states) + ")")
        return
    print(f"services: {', '.join(stopped)} not running; starting them with devstack.pipeline.start "
          f"(config {config}), then {warmup:.0f}s warm-up")
    for s in pipeline.start(stack, stopped, config):
        print(f"  started {s.name} pid {s.pid}, log {s.log}")
    time.sleep(warmup)


# ---------------------------------------------------------------------------------------------
# (a) shop order -> Tryton sale
# ---------------------------------------------------------------------------------------------
@dataclass
class OrderSample:
    id_order: int
    external_id: str
    commit: float
    attempted: float | None = None
    finished: float | None = None
    outcome: str | None = None
    produced: float | None = None   # Kafka timestamp of the ERP command record
    in_tryton: bool | None = None


def run_orders(stack: StackSettings, args: argparse.Namespace) -> dict[str, Any]:
    conn = connect(stack)
    params = stack.mysql_params()
    samples: list[OrderSample] = []
    late = 0
    print(f"\n(a) placing paid orders (product 6 x1, PS_OS_PAYMENT) at {args.rate}/s for {args.duration:.0f}s ...",
          flush=True)
    for _, due in paced(args.rate, args.duration):
        if time.time() - due > 0.5 / args.rate:
            late += 1
        id_order = place_order(params, stack.database, PREFIX, [Line(6, 0, 1)], state_key="PS_OS_PAYMENT")
        committed = time.time()
        reference = query(conn, f"SELECT reference FROM {PREFIX}orders WHERE id_order=%s", id_order)[0]["reference"]
        samples.append(OrderSample(id_order, f"{reference}-{id_order}", committed))
    print(f"    {len(samples)} orders placed ({samples[0].external_id} .. {samples[-1].external_id}); "
          f"{late} started late; waiting for the ERP sink's sync-log rows ...", flush=True)

    by_id = {s.external_id: s for s in samples}
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        rows = query(conn, "SELECT external_id, outcome, attempted_at, finished_at, kafka_topic, kafka_partition, "
                     "kafka_offset FROM pssync_sync_log WHERE resource='sales_order' AND operation='create' "
                     f"AND external_id IN ({','.join(['%s'] * len(by_id))}) ORDER BY id", *by_id)
        for row in rows:
            s = by_id[row["external_id"]]
            if s.outcome == "applied":
                continue   # the first applied row counts; later ones are duplicates
            s.outcome = row["outcome"]
            if row["outcome"] in ("applied", "dead_letter", "skipped"):
                s.attempted, s.finished = epoch(row["attempted_at"]), epoch(row["finished_at"])
                s._kafka = (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"])  # type: ignore[attr-defined]
        if all(s.outcome in ("applied", "dead_letter", "skipped") for s in samples):
            break
        time.sleep(0.25)
    conn.close()

    kafka = KafkaTimestamps(stack.kafka_bootstrap)
    for s in samples:
        if s.outcome == "applied":
            s.produced = kafka.get(*getattr(s, "_kafka", (None, None, None)))
    kafka.close()
    if args.check_tryton:
        erp = erp_actions.tryton(stack)
        for s in samples:
            s.in_tryton = erp.find_sales_order(s.external_id) is not None

    applied = [s for s in samples if s.outcome == "applied"]
    total = [s.finished - s.commit for s in applied]
    before = [s.attempted - s.commit for s in applied]
    service = [s.finished - s.attempted for s in applied]
    split = [s for s in applied if s.produced is not None]
    outcomes: dict[str, int] = {}
    for s in samples:
        outcomes[s.outcome or "missing"] = outcomes.get(s.outcome or "missing", 0) + 1
    print(f"    outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}"
          + (f"; found in Tryton: {sum(bool(s.in_tryton) for s in samples)}/{len(samples)}"
             if args.check_tryton else ""))
    table("(a) shop commit -> Tryton sale created (sync log sales_order/create, applied)", [
        ("total: commit -> finished_at", total),
        ("pipeline only: commit -> attempted_at", before),
        ("  commit -> ERP command produced (Kafka ts)", [s.produced - s.commit for s in split]),
        ("  command produced -> sink attempted_at", [s.attempted - s.produced for s in split]),
        ("ERP service: attempted_at -> finished_at", service),
    ])
    if service:
        mean = sum(service) / len(service)
        print(f"    ERP sink utilisation = rate x mean service = {args.rate:g}/s x {mean * 1000:.0f} ms = "
              f"{args.rate * mean:.2f} (one create at a time; near 1 the sink queue grows)")
    return {"samples": [{k: v for k, v in asdict(s).items()} for s in samples], "outcomes": outcomes,
            "total": summary(total), "pipeline": summary(before), "erp_service": summary(service),
            "to_command": summary([s.produced - s.commit for s in split]),
            "sink_queue": summary([s.attempted - s.produced for s in split])}


# ---------------------------------------------------------------------------------------------
# (b) Tryton stock change -> ps_stock_available
# ---------------------------------------------------------------------------------------------
@dataclass
class StockSample:
    changed: float
    expected: int
    log_finished: float | None = None
    log_attempted: float | None = None
    log_row: int | None = None
    visible: float | None = None
    produced: float | None = None   # Kafka timestamp of the shop command record


@dataclass
class DbPoller:
    """ps_stock_available (id_product, id_product_attribute, shop 1) every ``interval`` seconds."""
    stack: StackSettings
    id_product: int
    id_attribute: int
    interval: float
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        conn = connect(self.stack)
        sql = (f"SELECT quantity FROM {PREFIX}stock_available WHERE id_product=%s AND id_product_attribute=%s "
               "AND id_shop=1")
        try:
            while not self._stop.is_set():
                with conn.cursor() as cur:
                    cur.execute(sql, (self.id_product, self.id_attribute))
                    row = cur.fetchone()
                stamp = time.time()
                quantity = int(row["quantity"]) if row else 0
                if not self.samples or self.samples[-1][1] != quantity:
                    self.samples.append((stamp, quantity))
                self._stop.wait(self.interval)
        finally:
            conn.close()

    def first_at_least(self, after: float, quantity: int) -> float | None:
        for stamp, value in self.samples:
            if stamp > after and value >= quantity:
                return stamp
        return None


QUANTITY = re.compile(r"quantity (-?\d+)")


def run_stock(stack: StackSettings, args: argparse.Namespace, poll_interval: float) -> dict[str, Any]:
    erp = erp_actions.tryton(stack)
    conn = connect(stack)
    start_id = query(conn, "SELECT COALESCE(MAX(id), 0) AS id FROM pssync_sync_log")[0]["id"]
    poller = DbPoller(stack, 6, 0, args.db_poll_ms / 1000)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    time.sleep(0.2)
    print(f"\n(b) receive_stock(erp, {args.sku!r}, 1) in Tryton at {args.stock_rate}/s for {args.duration:.0f}s "
          f"(shop row polled every {args.db_poll_ms:.0f} ms) ...", flush=True)
    samples: list[StockSample] = []
    for _, _due in paced(args.stock_rate, args.duration):
        erp_actions.receive_stock(erp, args.sku, 1)
        changed = time.time()
        expected = int(erp_actions.forecast(erp, args.sku))
        samples.append(StockSample(changed, expected))
    print(f"    {len(samples)} changes made (forecast {samples[0].expected} .. {samples[-1].expected}); "
          "waiting for the shop row ...", flush=True)

    deadline = time.monotonic() + args.timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = query(conn, "SELECT id, attempted_at, finished_at, detail, kafka_topic, kafka_partition, kafka_offset "
                     "FROM pssync_sync_log WHERE id > %s AND resource='stock_available' AND external_id=%s "
                     "AND outcome='applied' AND source_event_id LIKE 'erp-stock:%%' ORDER BY id",
                     start_id, args.sku)
        top = max((int(m.group(1)) for r in rows if (m := QUANTITY.search(r["detail"] or ""))), default=None)
        if top is not None and top >= samples[-1].expected and poller.first_at_least(
                samples[-1].changed, samples[-1].expected) is not None:
            break
        time.sleep(0.25)
    time.sleep(0.1)
    poller._stop.set()
    thread.join(2)
    conn.close()

    for s in samples:
        for r in rows:
            m = QUANTITY.search(r["detail"] or "")
            if m and int(m.group(1)) >= s.expected and epoch(r["finished_at"]) > s.changed:
                s.log_finished, s.log_attempted, s.log_row = epoch(r["finished_at"]), epoch(r["attempted_at"]), r["id"]
                s._kafka = (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"])  # type: ignore[attr-defined]
                break
        s.visible = poller.first_at_least(s.changed, s.expected)
    kafka = KafkaTimestamps(stack.kafka_bootstrap)
    for s in samples:
        if s.log_finished is not None:
            s.produced = kafka.get(*getattr(s, "_kafka", (None, None, None)))
    kafka.close()

    logged = [s for s in samples if s.log_finished is not None]
    seen = [s for s in samples if s.visible is not None]
    split = [s for s in logged if s.produced is not None]
    shared = len(logged) - len({s.log_row for s in logged})
    print(f"    sync-log rows used: {len({s.log_row for s in logged})} for {len(logged)} changes "
          f"({shared} changes shared a row with another: one ERP poll covered them); "
          f"{len(samples) - len(logged)} without a row; {len(samples) - len(seen)} never seen in the DB poll")
    total = [s.log_finished - s.changed for s in logged]
    table(f"(b) Tryton stock change -> ps_stock_available ({args.sku}, product 6/0, shop 1)", [
        ("total: change -> sync-log finished_at", total),
        (f"total: change -> seen in shop DB ({args.db_poll_ms:.0f} ms poll)", [s.visible - s.changed for s in seen]),
        ("  change -> shop command produced (Kafka ts)", [s.produced - s.changed for s in split]),
        ("  command produced -> sink attempted_at", [s.log_attempted - s.produced for s in split]),
        ("  shop sink service: attempted_at -> finished_at", [s.log_finished - s.log_attempted for s in logged]),
        ("  finished_at -> seen in shop DB (commit + poll)",
         [s.visible - s.log_finished for s in logged if s.visible is not None]),
    ])
    mean_wait = poll_interval / 2
    p50 = percentile(total, 0.5) if total else float("nan")
    print(f"    ERP capture polls Tryton every {poll_interval:g}s (erp.poll_interval_s): a change waits "
          f"U(0, {poll_interval:g}s) before it is read, {mean_wait * 1000:.0f} ms on average, "
          f"{poll_interval * 1000:.0f} ms at worst.")
    distinct = sorted({s.log_attempted for s in logged if s.log_attempted is not None})
    gaps = [b - a for a, b in zip(distinct, distinct[1:])]
    if gaps:
        print(f"    observed ERP poll cycle (gaps between the distinct sync-log rows; meaningful when changes "
              f"come faster than the cycle): median {percentile(gaps, 0.5) * 1000:.0f} ms, "
              f"min {min(gaps) * 1000:.0f}, max {max(gaps) * 1000:.0f} (interval + the time one poll of all "
              f"change kinds takes)")
    if total:
        print(f"    share of the median total: {100 * mean_wait / p50:.0f} % ({mean_wait * 1000:.0f} of "
              f"{p50 * 1000:.0f} ms); median minus the mean polling wait: {(p50 - mean_wait) * 1000:.0f} ms "
              f"(what a pushed change feed would leave)")
    return {"samples": [asdict(s) for s in samples], "total_synclog": summary(total),
            "total_db": summary([s.visible - s.changed for s in seen]),
            "to_command": summary([s.produced - s.changed for s in split]),
            "sink_queue": summary([s.log_attempted - s.produced for s in split]),
            "sink_service": summary([s.log_finished - s.log_attempted for s in logged]),
            "poll_interval_s": poll_interval, "shared_rows": shared,
            "poll_cycle": summary(gaps)}


# ---------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1.0, help="orders per second (default 1)")
    parser.add_argument("--stock-rate", type=float, default=None, help="ERP stock changes per second (default: --rate)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of each phase (default 60)")
    parser.add_argument("--only", choices=("orders", "stock"), help="run one phase only")
    parser.add_argument("--sku", default="demo_11", help="ERP product code of shop product 6 (default demo_11)")
    parser.add_argument("--db-poll-ms", type=float, default=20.0, help="shop DB poll interval in phase (b)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the last result")
    parser.add_argument("--settle", type=float, default=5.0, help="pause between the phases (default 5 s)")
    parser.add_argument("--warmup", type=float, default=20.0, help="pause after starting stopped services")
    parser.add_argument("--config", type=Path, default=pipeline.DEFAULT_CONFIG, help="pipeline config")
    parser.add_argument("--no-check-tryton", dest="check_tryton", action="store_false",
                        help="skip the final find_sales_order check of every order")
    parser.add_argument("--json", type=Path, help="also write all samples and summaries here")
    args = parser.parse_args()
    args.stock_rate = args.stock_rate or args.rate

    stack = StackSettings()
    config = yaml.safe_load(args.config.read_text()) or {}
    poll_interval = float((config.get("erp") or {}).get("poll_interval_s", 1))
    print(f"bench_e2e: {dt.datetime.now():%Y-%m-%d %H:%M:%S}, code {REPO}, db {stack.database}, "
          f"config {args.config}, erp.poll_interval_s={poll_interval:g}")
    ensure_services(stack, args.config, args.warmup)

    out: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    if args.only in (None, "orders"):
        out["orders"] = run_orders(stack, args)
    if args.only is None:
        time.sleep(args.settle)   # the sales' own stock moves reach the shop before (b) starts
    if args.only in (None, "stock"):
        out["stock"] = run_stock(stack, args, poll_interval)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
