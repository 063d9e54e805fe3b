"""The router: copies every source event to the processors' internal topic partitioned by the key
its lookups need (streams.routes). Stateless, so source topics may have any number of partitions.

It runs in each worker process as a plain confluent-kafka consumer group (not a Faust agent):
faust-streaming 0.15 lost records of transactional topics (the capture's and the ERP poller's)
around rebalances, in about one run in three of the two-worker test; librdkafka's group handling
does not. At-least-once: a batch is produced and flushed before its offsets are committed, so a
crash or a rebalance repeats records (the processors absorb that), never skips them.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Consumer, KafkaError, Message, Producer

from pssync.retry import RetryPolicy
from pssync.schemas.dead_letters import error_headers
from pssync.bus.kafka import idempotent_producer, read_committed_consumer
from pssync.schemas.headers import ORIGIN_HEADER
from pssync.schemas.topics import change_topic, erp_topic
from pssync.settings import Settings
from pssync.streams.routes import (ACKS, BROADCAST_TABLES, KIND_HEADER, ORDER_TABLES, PRODUCT_TABLES,
                            Hub, Unroutable, app_id, header, hub_topic_name, routes)

log = logging.getLogger(__name__)
_partitioner = DefaultPartitioner()   # the one Faust's producer uses: a key lands where the processors send it


def source_kinds(settings: Settings) -> dict[str, str]:
    """Source topic -> the kind of its events."""
    cap, mysql = settings.capture, settings.mysql
    kinds = {change_topic(cap.topic_prefix, mysql.database, mysql.table_prefix + t): t
             for t in (*ORDER_TABLES, *BROADCAST_TABLES, *PRODUCT_TABLES) if t in cap.tables}
    kinds[change_topic(cap.topic_prefix, mysql.database, "pssync_product_map")] = "pssync_product_map"
    for kind in ("stock", "price", "product", "order_status", "shipment"):
        kinds[erp_topic(settings.erp.topic_prefix, kind)] = f"erp.{kind}"   # type: ignore[arg-type]
    kinds[settings.sinks.acks_topic] = ACKS
    return kinds


def partition_for(key: str, partitions: int) -> int:
    ids = list(range(partitions))
    return _partitioner(key.encode(), ids, ids)


class Router:
    def __init__(self, settings: Settings, decode: Callable[[bytes], Any], batch: int = 500) -> None:
        self.settings = settings
        self.decode = decode
        self.batch = batch
        self.kinds = source_kinds(settings)
        self.partitions = settings.streams.partitions
        self.app_id = app_id(settings.capture.name)
        self.hubs: dict[Hub, str] = {h: hub_topic_name(self.app_id, h) for h in ("shop", "stock")}
        self.stop = threading.Event()
        self._failed: list[str] = []

    def _consumer(self) -> Consumer:
        consumer = read_committed_consumer(
            self.settings.kafka, f"{self.app_id}-router",
            **{"session.timeout.ms": int(self.settings.streams.session_timeout_s * 1000)})
        consumer.subscribe(sorted(self.kinds))
        return consumer

    def _producer(self) -> Producer:
        return idempotent_producer(self.settings.kafka)

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._failed.append(f"{msg.topic()}: {err.str()}")

    def targets(self, kind: str, value: bytes) -> list[tuple[Hub, str | None]]:
        event = self.decode(value)
        return [] if event is None else routes(kind, event)

    def route(self, producer: Producer, msg: Message) -> None:
        kind, value = self.kinds[msg.topic()], msg.value()
        if value is None:
            return                   # tombstone: the delete event before it carried the row
        try:
            targets = self.targets(kind, value)
        except Unroutable as exc:
            self.dead_letter(producer, msg, str(exc))
            return
        except Exception as exc:     # undecodable: parked with the reason, never blocks the stream
            self.dead_letter(producer, msg, f"undecodable: {type(exc).__name__}: {exc}")
            return
        headers = [(KIND_HEADER, kind.encode())]
        if header(msg.headers(), ORIGIN_HEADER) is not None:
            headers.append((ORIGIN_HEADER, b"sink"))
        for hub, key in targets:
            if key is None:
                for partition in range(self.partitions):
                    producer.produce(self.hubs[hub], value, b"*", partition=partition, headers=headers,
                                     on_delivery=self._delivered)
            else:
                producer.produce(self.hubs[hub], value, key.encode(), partition=partition_for(key, self.partitions),
                                 headers=headers, on_delivery=self._delivered)

    def dead_letter(self, producer: Producer, msg: Message, reason: str) -> None:
        log.error("%s[%d]@%d: dead-lettered: %s", msg.topic(), msg.partition(), msg.offset(), reason)
        producer.produce(self.settings.streams.dead_letter_topic, msg.value(), msg.key(),
                         headers=error_headers(reason, topic=msg.topic(), partition=msg.partition(),
                                               offset=msg.offset(), keep=msg.headers() or ()),
                         on_delivery=self._delivered)

    def run_once(self, consumer: Consumer, producer: Producer) -> int:
        """One batch: route, wait until Kafka has every copy, then commit the source offsets."""
        # the first record as soon as it comes, then whatever else is already fetched (consume() with
        # a timeout would hold a lone record for the whole timeout: 100 ms more latency on average)
        first = consumer.poll(0.2)
        msgs = [] if first is None else [first, *(consumer.consume(self.batch - 1, 0) if self.batch > 1 else [])]
        routed = 0
        for msg in msgs:
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("router: %s", msg.error().str())
                continue
            self.route(producer, msg)
            routed += 1
        if routed:
            remaining = producer.flush(30)
            if remaining or self._failed:
                failed, self._failed = self._failed, []
                raise RuntimeError(f"{remaining} copies undelivered; {'; '.join(failed[:3])}")
            consumer.commit(asynchronous=False)
        return routed

    def run(self) -> None:
        """Until ``stop`` is set; on any failure the batch is repeated from the committed offsets."""
        policy, failures = RetryPolicy(base_delay=0.5, max_delay=30), 0
        while not self.stop.is_set():
            consumer = producer = None
            try:
                consumer, producer = self._consumer(), self._producer()
                while not self.stop.is_set():
                    self.run_once(consumer, producer)
                    failures = 0
            except Exception as exc:
                pause = policy.delay(failures, exc)
                failures += 1
                log.exception("router failed; starting again from the committed offsets in %.1fs", pause)
                self.stop.wait(pause)
            finally:
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception:
                        log.debug("router consumer close failed", exc_info=True)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="pssync-router", daemon=True)
        thread.start()
        return thread

    def close(self, thread: threading.Thread, timeout: float = 10.0) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        thread.join(max(0.0, deadline - time.monotonic()))
