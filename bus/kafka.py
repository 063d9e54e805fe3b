"""Kafka clients: transactional producer, read_committed consumer, topic administration."""
from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
import time
from typing import Any, Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType

from pssync.settings import KafkaSettings, is_secret_key
from pssync.errors import ConfigError, PermanentError, TransientError

log = logging.getLogger(__name__)


class BrokerUnavailable(TransientError):
    pass


class Fenced(PermanentError):
    """Another instance with the same transactional id took over."""


# ---- client logging: librdkafka repeats a failed connection every backoff (about 8 lines a second
# per client while a broker is away); each distinct line is logged at most once per interval ----------

CLIENT_LOG_INTERVAL_S = 60.0
client_log = logging.getLogger("pssync.bus.librdkafka")
_VARYING = re.compile(r"\d+")


class ThrottledClientLog:
    """librdkafka's ``logger``: its lines into Python logging, each distinct line (numbers aside:
    timings, client and broker ids) at most once per ``interval``, the next one saying how many
    were left out."""

    def __init__(self, interval: float = CLIENT_LOG_INTERVAL_S, target: logging.Logger = client_log) -> None:
        self.interval = interval
        self.target = target
        self._lock = threading.Lock()
        self._seen: dict[str, list[float]] = {}      # key -> [last logged, suppressed since]

    def log(self, level: int, fmt: str, *args: Any) -> None:
        text = fmt % args if args else fmt
        key = f"{level} {_VARYING.sub('#', text)}"
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.interval:
                seen[1] += 1
                return
            suppressed = int(seen[1]) if seen else 0
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = [now, 0]
        if suppressed:
            text += f" ({suppressed} more like it in the last {self.interval:.0f}s)"
        self.target.log(level, "%s", text)


_CLIENT_LOG = ThrottledClientLog()

# ---- broker reachability, for the clients' owners to say once that Kafka is away and once that
# it is back (librdkafka itself keeps retrying without a word to its caller) ----------------------

_UNREACHABLE = (KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE)


class BrokerWatch:
    """What the clients of one bootstrap address report through ``error_cb``."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.down_since: float | None = None      # wall clock, first 'all brokers down' of an outage
        self.reason = ""
        self._stuck_since: float | None = None
        self._reported = False

    def on_error(self, err: KafkaError) -> None:
        if err.code() in _UNREACHABLE:
            if self.down_since is None:
                self.down_since, self.reason = time.time(), err.str()
        else:
            log.debug("Kafka client error: %s", err.str())

    def waiting(self, events: int) -> None:
        """A writer is held up with ``events`` not yet in Kafka: said once per outage."""
        if self._stuck_since is None:
            self._stuck_since = time.time()
        if self._reported or self.down_since is None:
            return
        self._reported = True
        since = dt.datetime.fromtimestamp(self.down_since).astimezone().isoformat(timespec="seconds")
        log.error("Kafka at %s unreachable since %s (%s), %d events waiting; retrying",
                  self.bootstrap, since, self.reason, events)

    def reachable(self) -> None:
        """A write went through: the outage (if one was reported) is over, said once."""
        if self._reported:
            log.warning("Kafka at %s reachable again after %.0fs", self.bootstrap,
                        time.time() - (self.down_since or self._stuck_since or time.time()))
        self.down_since, self.reason, self._stuck_since, self._reported = None, "", None, False


_WATCHES: dict[str, BrokerWatch] = {}
_WATCHES_LOCK = threading.Lock()


def broker_watch(settings: KafkaSettings) -> BrokerWatch:
    """The one watch of this process for that bootstrap address, fed by all its clients."""
    with _WATCHES_LOCK:
        return _WATCHES.setdefault(settings.bootstrap_servers, BrokerWatch(settings.bootstrap_servers))


def _base(settings: KafkaSettings) -> dict[str, Any]:
    return {"bootstrap.servers": settings.bootstrap_servers, "logger": _CLIENT_LOG,
            "error_cb": broker_watch(settings).on_error, **settings.client_config}


_PROPERTY = re.compile(r'property:? "?([A-Za-z0-9._-]+)"?')


def _build(kind: Any, conf: dict[str, Any], settings: KafkaSettings) -> Any:
    """``kind(conf)``; librdkafka refusing a setting of kafka.client_config (a misspelt or unknown
    property, a value it cannot take) is a ConfigError naming the key and librdkafka's reason, the
    values of secret keys left out."""
    try:
        return kind(conf)
    except KafkaException as exc:
        err: KafkaError = exc.args[0]
        if err.code() != KafkaError._INVALID_ARG or not settings.client_config:
            raise
        raise ConfigError(describe_refused_config(err.str(), settings.client_config)) from None


def describe_refused_config(reason: str, client_config: dict[str, Any]) -> str:
    for key, value in client_config.items():      # librdkafka quotes an invalid value back
        if is_secret_key(key):
            reason = reason.replace(f'"{value}"', '"<hidden>"')
    named = _PROPERTY.search(reason)
    keys = list(client_config)
    if named and named.group(1) in client_config:
        where = f"kafka.client_config.{named.group(1)}"
    elif len(keys) == 1:
        where = f"kafka.client_config.{keys[0]}"
    else:                                         # an alias (linger.ms is queue.buffering.max.ms)
        where = f"kafka.client_config (one of {', '.join(keys)})"
    hint = ("; see librdkafka's CONFIGURATION.md for the property names"
            if "No such configuration property" in reason else "")
    return f"{where}: librdkafka refused it: {reason}{hint}"


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
    producer = _build(Producer, conf, settings)
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
    return _build(Producer, {**_base(settings), "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                             "compression.type": "lz4", "partitioner": "murmur2_random", **extra}, settings)


class ConsumerFenced(PermanentError):
    """Another consumer joined the group with this consumer's ``group.instance.id``: it took over."""


def member_id(group_id: str, instance: str | None = None) -> str:
    """The static member id of a long-running consumer of ``group_id``: given, or the host's name
    (a restarted process, or a Kubernetes StatefulSet pod, comes back as the same member)."""
    return f"{group_id}@{instance or socket.gethostname()}"


def read_committed_consumer(settings: KafkaSettings, group_id: str, *, static_member: str | None = None,
                            **extra: Any) -> Consumer:
    """A read_committed consumer without auto-commit. ``static_member`` (see ``member_id``) makes
    it a static group member: after an outage longer than the session timeout, or a restart, it
    rejoins as itself and gets its partitions back at once, instead of the group waiting a whole
    session timeout (45 s by default) for the member it lost to expire."""
    static = {"group.instance.id": static_member} if static_member else {}
    return _build(Consumer, {
        **static,
        **_base(settings),
        "group.id": group_id,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        **extra,
    }, settings)


def raise_if_fatal(err: KafkaError, group_id: str) -> None:
    """A fatal consumer error (code ``_FATAL`` on the polled message) ends the consumer for good:
    librdkafka delivers nothing after it, so it is raised, never logged and polled past."""
    if err.code() != KafkaError._FATAL and not err.fatal():
        return
    if "fenced" in err.str().lower():
        raise ConsumerFenced(f"another process joined Kafka group {group_id} with this one's "
                             f"group.instance.id and took over; only one may run with that identity "
                             f"({err.str()})")
    raise ConsumerFenced(f"the consumer of Kafka group {group_id} was stopped by a fatal error: {err.str()}")


def admin(settings: KafkaSettings) -> AdminClient:
    return _build(AdminClient, _base(settings), settings)


def ensure_topics(settings: KafkaSettings, topics: dict[str, dict[str, str]],
                  timeout: float = 30.0, partitions: int | None = None) -> list[str]:
    """Create missing topics; ``topics`` maps a name to its topic-level config. Returns the names
    this call created (with that config)."""
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
    created: list[str] = []
    if not missing:
        return created
    for name, future in client.create_topics(missing, request_timeout=timeout).items():
        try:
            future.result()
            log.info("created topic %s", name)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def message_limits(settings: KafkaSettings, topics: list[str], at_least: int | None = None,
                   timeout: float = 30.0) -> dict[str, int]:
    """Each topic's ``max.message.bytes`` as the broker has it. With ``at_least``, a topic below it
    (created before, or by someone else at the broker's 1 MB default) is raised to it first; where
    the cluster refuses (no ALTER_CONFIGS right), its lower limit stays and is returned, said once."""
    client = admin(settings)

    def read() -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            found = client.describe_configs([ConfigResource(ResourceType.TOPIC, t) for t in topics],
                                            request_timeout=timeout)
            try:
                return {res.name: int(f.result(timeout)["max.message.bytes"].value) for res, f in found.items()}
            except KafkaException as exc:
                # a topic created a moment ago (by another process) may not be known to the broker
                # answering yet
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    limits = read()
    low = [t for t, limit in limits.items() if at_least is not None and limit < at_least]
    if not low:
        return limits
    futures = client.incremental_alter_configs([ConfigResource(
        ResourceType.TOPIC, t, incremental_configs=[ConfigEntry(
            "max.message.bytes", str(at_least), incremental_operation=AlterConfigOpType.SET)])
        for t in low], request_timeout=timeout)
    for res, future in futures.items():
        try:
            future.result(timeout)
            log.info("topic %s: max.message.bytes raised from %d to %d", res.name, limits[res.name], at_least)
        except KafkaException as exc:
            log.warning("topic %s accepts records up to %d bytes (max.message.bytes) and could not be "
                        "raised to %d (%s); larger events go to the dead-letter topic", res.name,
                        limits[res.name], at_least, exc.args[0].str())
    return read()


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


def read_recent(settings: KafkaSettings, topics: list[str], since_ms: int,
                timeout: float = 30.0) -> Iterator[Message]:
    """The committed records of ``topics`` written at or after ``since_ms`` (record timestamps, unix
    milliseconds), every partition read up to its end as it was when the call began. Missing
    topics read empty; a broker that does not answer within ``timeout`` raises BrokerUnavailable."""
    consumer = read_committed_consumer(settings, group_id="pssync-recent-reader",
                                       **{"enable.partition.eof": True})
    try:
        try:
            metadata = consumer.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise BrokerUnavailable(f"Kafka at {settings.bootstrap_servers} did not answer within "
                                    f"{timeout:.0f}s: {exc.args[0].str()}") from exc
        wanted = [TopicPartition(t, p, since_ms) for t in topics if t in metadata.topics
                  for p in metadata.topics[t].partitions]
        if not wanted:
            return
        ends: dict[tuple[str, int], int] = {}
        start: list[TopicPartition] = []
        for tp in consumer.offsets_for_times(wanted, timeout=timeout):
            if tp.error:
                raise BrokerUnavailable(f"Kafka could not look up {tp.topic}[{tp.partition}] by time: {tp.error}")
            high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                  timeout=timeout, cached=False)[1]
            if 0 <= tp.offset < high:      # -1: nothing written since then
                ends[(tp.topic, tp.partition)] = high
                start.append(TopicPartition(tp.topic, tp.partition, tp.offset))
        if not start:
            return
        consumer.assign(start)
        deadline = time.monotonic() + timeout
        while ends:
            msg = consumer.poll(1.0)
            if msg is None:
                if time.monotonic() > deadline:
                    raise BrokerUnavailable(f"reading {sorted(t for t, _ in ends)} from Kafka at "
                                            f"{settings.bootstrap_servers} did not finish within {timeout:.0f}s")
                continue
            place = (msg.topic(), msg.partition())
            if place not in ends:
                continue
            if msg.error():
                # the end of what read_committed may see (a transaction marker can be the last offset)
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    raise BrokerUnavailable(f"reading {msg.topic()}: {msg.error()}")
            else:
                yield msg
            if msg.error() or msg.offset() + 1 >= ends[place]:
                del ends[place]
                consumer.incremental_unassign([TopicPartition(*place)])
    finally:
        consumer.close()
