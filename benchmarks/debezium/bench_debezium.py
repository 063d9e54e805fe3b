#!/usr/bin/env python
"""The same backlog workloads as benchmarks/bench_capture.py, through Debezium for comparison.

Kafka Connect 3.9.2 (one distributed worker, exactly-once source support enabled) with Debezium's
MariaDB connector, all resolved from Maven Central by ``pom.xml`` next to this file; JSON
converter without embedded schemas (the Avro converter is not on Maven Central).

Per workload: scratch DB ``pssync_bench_<tag>`` with the PrestaShop demo data -> connector created
(initial snapshot) -> once the snapshot rows are in Kafka, the connector is stopped
(``PUT /connectors/<name>/stop``) -> the workload is written (backlog) -> ``PUT .../resume`` and the
clock runs until a read_committed consumer has seen every backlog row on the table's topic.

Run from the repository root (the local stack must be up; the worker's REST port is 18083)::

    python benchmarks/debezium/bench_debezium.py
    python benchmarks/debezium/bench_debezium.py --only stock --rows-stock 20000
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench_capture (which puts this checkout on sys.path)

import bench_capture as bc  # noqa: E402
from pssync import devstack  # noqa: E402
import httpx  # noqa: E402
from confluent_kafka import Consumer, KafkaError, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

TABLES = ("orders", "order_detail", "order_history", "stock_available", "product", "product_shop",
          "product_attribute", "specific_price")
CONNECT_MAIN = "org.apache.kafka.connect.cli.ConnectDistributed"


# ---------------------------------------------------------------------------------------------
# the Connect worker
# ---------------------------------------------------------------------------------------------
def resolve_libs(lib: Path) -> None:
    if lib.is_dir() and any(lib.glob("debezium-connector-mariadb-*.jar")):
        return
    print(f"resolving Kafka Connect + Debezium from Maven Central into {lib} ...", flush=True)
    subprocess.run(["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:copy-dependencies",
                    f"-DoutputDirectory={lib}", "-DincludeScope=runtime"], check=True)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class Worker:
    def __init__(self, work: Path, lib: Path, st: devstack.StackSettings, tag: str, port: int,
                 java: str, heap: str) -> None:
        self.work, self.lib, self.st, self.tag, self.port = work, lib, st, tag, port
        self.java, self.heap = java, heap
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.prefix = f"benchdbz{tag}"

    def start(self) -> None:
        if not port_free(self.port):
            raise SystemExit(f"port {self.port} is in use; pass --rest-port")
        self.work.mkdir(parents=True, exist_ok=True)
        props = self.work / "worker.properties"
        props.write_text("\n".join([
            f"bootstrap.servers={self.st.kafka_bootstrap}",
            f"group.id={self.prefix}-connect",
            f"config.storage.topic={self.prefix}.connect-configs",
            f"offset.storage.topic={self.prefix}.connect-offsets",
            f"status.storage.topic={self.prefix}.connect-status",
            "config.storage.replication.factor=1",
            "offset.storage.replication.factor=1",
            "status.storage.replication.factor=1",
            "offset.storage.partitions=1",
            "status.storage.partitions=1",
            "key.converter=org.apache.kafka.connect.json.JsonConverter",
            "value.converter=org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable=false",
            "value.converter.schemas.enable=false",
            f"listeners=http://127.0.0.1:{self.port}",
            "rest.advertised.host.name=127.0.0.1",
            f"rest.advertised.port={self.port}",
            "exactly.once.source.support=enabled",
            "offset.flush.interval.ms=1000",
            "",
        ]))
        log4j = self.work / "log4j.properties"
        log4j.write_text("\n".join([
            "log4j.rootLogger=INFO, file",
            "log4j.appender.file=org.apache.log4j.FileAppender",
            f"log4j.appender.file.File={self.work / 'connect.log'}",
            "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
            "log4j.logger.org.reflections=ERROR",
            "log4j.logger.org.apache.kafka.clients=WARN",
            "",
        ]))
        self.log = open(self.work / "connect.stdout", "w")
        self.proc = subprocess.Popen(
            [self.java, f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             f"-Dlog4j.configuration=file:{log4j}", "-cp", f"{self.lib}/*", CONNECT_MAIN, str(props)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"Connect worker exited ({self.proc.returncode}); see {self.work}/connect.log")
            try:
                if httpx.get(f"{self.url}/connector-plugins", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"Connect worker did not answer on {self.url} in 180 s; see {self.work}/connect.log")

    def rest(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202, 204)) -> Any:
        resp = httpx.request(method, f"{self.url}{path}", json=body, timeout=60)
        if resp.status_code not in ok:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp.json() if resp.content else None

    def state(self, name: str) -> tuple[str, list[str]]:
        status = self.rest("GET", f"/connectors/{name}/status", ok=(200, 404))
        if not status or "connector" not in status:
            return "ABSENT", []
        return status["connector"]["state"], [t["state"] for t in status.get("tasks", [])] + \
            [t.get("trace", "")[:2000] for t in status.get("tasks", []) if t["state"] == "FAILED"]

    def wait_state(self, name: str, want: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn, tasks = self.state(name)
            if "FAILED" in tasks or conn == "FAILED":
                raise RuntimeError(f"connector {name} failed: {tasks}")
            if conn == want and ((want == "STOPPED" and not tasks) or (tasks and all(t == want for t in tasks))):
                return
            time.sleep(0.25)
        raise TimeoutError(f"connector {name} not {want} after {timeout}s: {self.state(name)}")

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> tuple[float, float]:
        assert self.proc is not None
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines()
                      if ":" in line)
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


# ---------------------------------------------------------------------------------------------
# counting what reached Kafka
# ---------------------------------------------------------------------------------------------
class TopicCounter:
    """Counts read_committed records on one topic in a background thread."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.count = 0
        self.first_at: dict[int, float] = {}  # count threshold -> perf_counter when first reached
        self.watch: list[int] = []
        self._stop = threading.Event()
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-count-{uuid.uuid4().hex}",
                                  "isolation.level": "read_committed", "enable.auto.commit": False,
                                  "auto.offset.reset": "earliest", "fetch.wait.max.ms": 20})
        self.consumer.assign([TopicPartition(topic, 0, 0)])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for msg in self.consumer.consume(1000, 0.05):
                err = msg.error()
                if err is not None:
                    if err.code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                        continue
                    raise RuntimeError(str(err))
                if msg.value() is None:
                    continue  # tombstone
                self.count += 1
            now = time.perf_counter()
            for threshold in self.watch:
                if threshold not in self.first_at and self.count >= threshold:
                    self.first_at[threshold] = now

    def wait(self, threshold: int, timeout: float) -> float:
        self.watch.append(threshold)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if threshold in self.first_at:
                return self.first_at[threshold]
            time.sleep(0.01)
        raise TimeoutError(f"{self.topic}: {self.count} records, waited for {threshold}")

    def close(self) -> None:
        self._stop.set()
        self.thread.join(10)
        self.consumer.close()


# ---------------------------------------------------------------------------------------------
# one workload
# ---------------------------------------------------------------------------------------------
def connector_config(st: devstack.StackSettings, db: str, prefix: str) -> dict[str, str]:
    return {
        "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
        "tasks.max": "1",
        "database.hostname": "127.0.0.1",
        "database.port": str(st.mariadb_port),
        "database.user": st.mysql_user,
        "database.password": st.mysql_password,
        "database.server.id": str(random.randint(100_000, 2**31)),
        "database.ssl.mode": "disable",
        "topic.prefix": prefix,
        "database.include.list": db,
        "table.include.list": ",".join(f"{db}.{st.table_prefix}{t}" for t in TABLES),
        "schema.history.internal.kafka.bootstrap.servers": st.kafka_bootstrap,
        "schema.history.internal.kafka.topic": f"{prefix}.schema-history",
        "include.schema.changes": "false",
        "snapshot.mode": "initial",
        "snapshot.locking.mode": "none",  # no FLUSH TABLES WITH READ LOCK on the shared server
        "exactly.once.support": "requested",  # 3.2 lacks the preflight API for "required"
        "transaction.boundary": "poll",
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
    }


def run_workload(worker: Worker, st: devstack.StackSettings, workload: str, args: argparse.Namespace) -> dict[str, Any]:
    tag = f"{workload[:2]}{uuid.uuid4().hex[:8]}"
    db = f"pssync_bench_dbz_{tag}"
    prefix = f"{worker.prefix}.{tag}"
    name = f"bench-{tag}"
    rows = args.rows_orders if workload == "orders" else args.rows_stock
    txn_rows = args.orders_txn_rows if workload == "orders" else args.stock_txn_rows
    multi = (args.statements == "multi") if args.statements != "auto" else (workload == "stock")
    table = f"{st.table_prefix}{'orders' if workload == 'orders' else 'stock_available'}"
    topic = f"{prefix}.{db}.{table}"
    print(f"\n=== Debezium, {workload}: {rows:,} rows in transactions of {txn_rows} "
          f"({'multi-row' if multi else 'single-row'} statements); scratch DB {db} ===", flush=True)
    counter: TopicCounter | None = None
    try:
        devstack.load_prestashop_fixtures(st.mysql_params(), db, st.table_prefix)
        conn = bc.mysql_connect(st, db, autocommit=True)
        if workload == "stock":
            bc.preload_stock(conn, args.stock_pool)
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            snapshot_rows = cur.fetchone()[0]

        # 1) first run: the initial snapshot, then stop the connector (offsets kept)
        t = time.perf_counter()
        worker.rest("POST", "/connectors", {"name": name, "config": connector_config(st, db, prefix)})
        worker.wait_state(name, "RUNNING")
        counter = TopicCounter(st.kafka_bootstrap, topic)
        counter.wait(snapshot_rows, 300)
        time.sleep(args.settle)  # let it switch to binlog streaming and commit its offsets
        worker.rest("PUT", f"/connectors/{name}/stop")
        worker.wait_state(name, "STOPPED")
        time.sleep(2)  # the task's last transaction, if any, lands before the backlog is written
        snap_s = time.perf_counter() - t
        print(f"  snapshot ({snapshot_rows:,} {table} rows) done and connector stopped in {snap_s:.1f} s", flush=True)

        # 2) the backlog
        start_file, start_pos, _ = bc.binlog_head(conn)
        t = time.perf_counter()
        (bc.write_orders if workload == "orders" else bc.write_stock)(conn, rows, txn_rows, multi)
        write_s = time.perf_counter() - t
        head_file, head_pos, head_gtid = bc.binlog_head(conn)
        backlog = bc.binlog_bytes(conn, (start_file, start_pos), (head_file, head_pos))
        conn.close()
        print(f"  backlog written in {write_s:.1f} s; binlog {backlog / 2**20:.1f} MB; head GTID {head_gtid}", flush=True)

        # 3) resume and time until every row is readable (read_committed) in Kafka
        if counter.count != snapshot_rows:
            raise RuntimeError(f"{topic} holds {counter.count} records before the resume, expected the "
                               f"{snapshot_rows} snapshot rows: the connector did not stop")
        cpu0 = worker.cpu_seconds()
        t0 = time.perf_counter()
        worker.rest("PUT", f"/connectors/{name}/resume")
        first = counter.wait(snapshot_rows + 1, 600)
        done = counter.wait(snapshot_rows + rows, 1800)
        cpu = worker.cpu_seconds() - cpu0  # includes a little idle time after `done`
        rss, hwm = worker.rss_mb()
        wall = done - t0
        res = {"workload": workload, "rows": rows, "statements": "multi-row" if multi else "single-row",
               "txn_rows": txn_rows, "wall": wall, "rows_per_s": rows / wall,
               "streaming_wall": done - first, "first_event_s": first - t0,
               "binlog_bytes": backlog, "cpu": cpu, "jvm_rss_mb": rss, "jvm_peak_rss_mb": hwm,
               "extra_records": counter.count - snapshot_rows - rows}
        print(f"  Debezium backlog -> Kafka (read_committed): {rows:,} rows in {wall:.2f} s = "
              f"{rows / wall:,.0f} rows/s, {backlog / 2**20 / wall:.2f} MB/s of binlog; first event after "
              f"{first - t0:.2f} s (connector restart), then {rows / max(1e-9, done - first):,.0f} rows/s; "
              f"worker CPU {cpu:.1f} s ({100 * cpu / wall:.0f}% of one core); JVM RSS {rss:.0f} MB, peak {hwm:.0f} MB",
              flush=True)
        return res
    finally:
        if counter is not None:
            counter.close()
        try:
            worker.rest("DELETE", f"/connectors/{name}", ok=(200, 204, 404))
        except Exception as exc:  # best effort
            print(f"  (could not delete connector {name}: {exc})")
        if not args.keep:
            bc.cleanup(st, db, prefix, st.ccompat_url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--rows-orders", type=int, default=20_000)
    ap.add_argument("--rows-stock", type=int, default=50_000)
    ap.add_argument("--only", choices=("orders", "stock"))
    ap.add_argument("--orders-txn-rows", type=int, default=100)
    ap.add_argument("--stock-txn-rows", type=int, default=250)
    ap.add_argument("--stock-pool", type=int, default=10_000)
    ap.add_argument("--statements", choices=("auto", "single", "multi"), default="auto")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per workload in the same worker (fresh DB and connector each); the "
                         "first includes the JVM's JIT warm-up")
    ap.add_argument("--rest-port", type=int, default=18083)
    ap.add_argument("--java", default=shutil.which("java") or "java", help="java binary (17+)")
    ap.add_argument("--heap", default="1g", help="worker -Xmx")
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/pssync-bench-debezium"),
                    help="jars (lib/) and the worker's config and logs")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds between snapshot end and stop")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()

    st = devstack.ensure_up()
    lib = args.work_dir / "lib"
    resolve_libs(lib)
    java_version = subprocess.run([args.java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    print(f"bench_debezium {dt.datetime.now().isoformat(timespec='seconds')} on {platform.node()}: "
          f"{os.cpu_count()} CPUs, {java_version}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tag = uuid.uuid4().hex[:6]
    worker = Worker(args.work_dir / f"run-{tag}", lib, st, tag, args.rest_port, args.java, args.heap)
    results = []
    t = time.perf_counter()
    worker.start()
    print(f"Connect worker up on {worker.url} in {time.perf_counter() - t:.1f} s "
          f"(logs in {worker.work})", flush=True)
    try:
        for workload in ("orders", "stock"):
            if args.only and args.only != workload:
                continue
            for attempt in range(args.repeat):
                if args.repeat > 1:
                    print(f"\n(run {attempt + 1} of {args.repeat} in the same worker"
                          f"{'; the first one includes JIT warm-up' if attempt == 0 else ''})")
                results.append(run_workload(worker, st, workload, args))
    finally:
        worker.stop()
        if not args.keep:
            try:
                admin = AdminClient({"bootstrap.servers": st.kafka_bootstrap})
                topics = [t for t in admin.list_topics(timeout=10).topics if t.startswith(worker.prefix)]
                if topics:
                    for fut in admin.delete_topics(topics, operation_timeout=30).values():
                        fut.result()
            except Exception as exc:  # best effort
                print(f"(could not delete worker topics: {exc})")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"date": dt.datetime.now().isoformat(timespec="seconds"), "args": vars(args),
                       "results": results}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
