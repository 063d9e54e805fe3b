#!/usr/bin/env python
"""How long a consumer takes to resume after a Kafka outage longer than its session timeout:
a static group member (what the sinks are, ``bus.kafka.member_id``) against a dynamic one (what
they were), side by side in one run.

A private one-node Kafka (its own directory and ports, from the stack's jars) is started, one
topic, two consumers in two groups read it; the broker is stopped for ``--outage`` seconds, started
again, one record is produced, and the script prints how many seconds after the broker was back
each consumer received it. The shared stack is not touched.

    python benchmarks/bench_broker_outage.py                 # 60 s outage, session timeout 45 s
    python benchmarks/bench_broker_outage.py --outage 20     # shorter than the session: both quick
"""
from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import threading
import time
from pathlib import Path

from pssync.bus.kafka import ensure_topics, idempotent_producer, member_id, read_committed_consumer
from pssync.devstack.kafka import Kafka
from pssync.devstack.settings import StackSettings
from pssync.settings import KafkaSettings

TOPIC = "bench-outage"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def follow(settings: KafkaSettings, group: str, static: bool, got: dict[bytes, float],
           stop: threading.Event) -> None:
    consumer = read_committed_consumer(settings, group, static_member=member_id(group) if static else None)
    consumer.subscribe([TOPIC])
    try:
        while not stop.is_set():
            for msg in consumer.consume(10, 0.2):
                if msg.error() is None:
                    got.setdefault(msg.value(), time.monotonic())
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=60, help="seconds the broker is away")
    parser.add_argument("--limit", type=float, default=180, help="seconds to wait for a consumer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory(prefix="pssync-bench-outage-") as work:
        stack = StackSettings(dir=Path(work), kafka_port=free_port(), kafka_controller_port=free_port())
        broker = Kafka(stack)
        broker.up()
        settings = KafkaSettings(bootstrap_servers=stack.kafka_bootstrap)
        ensure_topics(settings, {TOPIC: {}})
        producer = idempotent_producer(settings)
        stop = threading.Event()
        got = {"static": {}, "dynamic": {}}
        threads = [threading.Thread(target=follow, args=(settings, f"bench-{kind}", kind == "static",
                                                         got[kind], stop), daemon=True)
                   for kind in got]
        try:
            for t in threads:
                t.start()
            producer.produce(TOPIC, value=b"before")
            producer.flush(30)
            deadline = time.monotonic() + args.limit
            while not all(b"before" in g for g in got.values()) and time.monotonic() < deadline:
                time.sleep(0.1)
            broker.down()
            time.sleep(args.outage)
            broker.up()
            back = time.monotonic()
            producer.produce(TOPIC, value=b"after")
            producer.flush(60)
            deadline = back + args.limit
            while not all(b"after" in g for g in got.values()) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            broker.down()
    seconds = {kind: (g[b"after"] - back if b"after" in g else None) for kind, g in got.items()}
    print(f"outage {args.outage:.0f}s (session timeout 45s); seconds from the broker's return to the "
          f"next record consumed:")
    for kind, s in seconds.items():
        print(f"  {kind:<8} {'not within the limit' if s is None else f'{s:6.1f}'}")
    if all(seconds.values()):
        print(f"  dynamic / static: {seconds['dynamic'] / seconds['static']:.1f}x")


if __name__ == "__main__":
    main()
