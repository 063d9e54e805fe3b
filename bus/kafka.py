"""Kafka clients: transactional producer, read_committed consumer, topic administration."""
from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from pssync.settings import KafkaSettings
from pssync.errors import PermanentError, TransientError

log = logging.getLogger(__name__)


class BrokerUnavailable(TransientError):
    pass


class Fenced(PermanentError):
    """Another instance with the same transactional id took over."""


def _base(settings: KafkaSettings) -> dict[str, Any]:
    return {"bootstrap.servers": settings.bootstrap_servers, **settings.client_config}


def transactional_producer(settings: KafkaSettings, transactional_id: str,
                           init_timeout: float = 30.0, **extra: Any) -> Producer:
    conf = {
        **_base(settings),
        "transactional.id": transactional_id,
        "enable.idempotence": True,
        "acks": "all",
        # Java clients' partitioner, so keys land where Kafka Connect/Debezium would put them
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "compression.type": "lz4",
        "transaction.timeout.ms": 900_000,
        "message.max.bytes": 8_000_000,
        **extra,
    }
    producer = Producer(conf)
    try:
        producer.init_transactions(init_timeout)
    except KafkaException as exc:
        err: KafkaError = exc.args[0]
        if err.code() in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
            raise BrokerUnavailable(
                f"Kafka at {settings.bootstrap_servers} did not answer within {init_timeout:.0f}s "
                f"({err.str()}); is the broker running and does it allow transactions?") from exc
        raise
    return producer


def idempotent_producer(settings: KafkaSettings, **extra: Any) -> Producer:
    """The producer of every non-transactional pssync writer (dead letters, acknowledgements,
    signals, webhooks, replays): idempotent, acks from all replicas, and keys placed with the Java
    clients' murmur2 partitioner like the transactional ones, so a key lands where Kafka Connect,
    Debezium and Faust put it."""
    return Producer({**_base(settings), "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                     "compression.type": "lz4", "partitioner": "murmur2_random", **extra})


def read_committed_consumer(settings: KafkaSettings, group_id: str, **extra: Any) -> Consumer:
    return Consumer({
        **_base(settings),
        "group.id": group_id,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        **extra,
    })


def admin(settings: KafkaSettings) -> AdminClient:
    return AdminClient(_base(settings))


def ensure_topics(settings: KafkaSettings, topics: dict[str, dict[str, str]],
                  timeout: float = 30.0, partitions: int | None = None) -> None:
    """Create missing topics; ``topics`` maps a name to its topic-level config."""
    client = admin(settings)
    try:
        existing = set(client.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise BrokerUnavailable(f"Kafka at {settings.bootstrap_servers} did not answer within "
                                f"{timeout:.0f}s: {exc.args[0].str()}") from exc
    missing = [NewTopic(name, num_partitions=1 if cfg.get("cleanup.policy") == "compact"
                        else partitions or settings.topic_partitions,
                        replication_factor=settings.topic_replication_factor, config=cfg)
               for name, cfg in topics.items() if name not in existing]
    if not missing:
        return
    for name, future in client.create_topics(missing, request_timeout=timeout).items():
        try:
            future.result()
            log.info("created topic %s", name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def is_fatal_fencing(exc: KafkaException) -> bool:
    err: KafkaError = exc.args[0]
    # a produce() after fencing only reports the generic _FATAL code
    return err.fatal() or err.code() in (KafkaError._FATAL, KafkaError._FENCED,
                                         KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)


def read_compacted(settings: KafkaSettings, topic: str, timeout: float = 30.0) -> dict[bytes, bytes | None]:
    """The last committed value of every key of a single-partition state topic (offsets,
    cursors), read with read_committed from the start to the end. A missing topic reads empty."""
    consumer = read_committed_consumer(settings, group_id="pssync-state-reader",
                                       **{"enable.partition.eof": True})
    latest: dict[bytes, bytes | None] = {}
    try:
        tp = TopicPartition(topic, 0)
        deadline = time.monotonic() + timeout
        while True:
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)
                break
            except KafkaException as exc:
                code = exc.args[0].code()
                if code in (KafkaError._UNKNOWN_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    return latest
                retriable = exc.args[0].retriable() or code == KafkaError.NOT_LEADER_FOR_PARTITION
                if not retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # a new topic's leader is still being elected
        if high <= low:
            return latest
        consumer.assign([TopicPartition(topic, 0, low)])
        while True:
            msg = consumer.poll(timeout)
            if msg is None:
                raise TimeoutError(f"state topic {topic} did not reach its end within {timeout}s")
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    return latest
                raise RuntimeError(f"reading {topic}: {msg.error()}")
            latest[msg.key()] = msg.value()
    finally:
        consumer.close()
