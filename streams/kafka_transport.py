"""Faust's Kafka transport, with two changes.

1. Its consumers always read with ``isolation.level=read_committed``. faust-streaming reads
   committed-only data only under its experimental exactly-once guarantee; under at-least-once its
   consumers use read_uncommitted and would see change events of Kafka transactions the capture
   aborted (after a crash or fencing).
2. No record is lost around a rebalance. faust-streaming's streams skip the records that reach
   them while its flow is stopped or that were fetched under an older generation, yet mark them
   acknowledged (so they can be committed), and count on the seek to the committed offsets that
   follows a rebalance to fetch them again. Three holes, each seen losing ERP and order events
   with two workers (tests/integration/streams/test_partitions.py):
   - aiokafka's seek leaves partitions alone whose committed offset is missing or 0: they are
     now sought to their beginning (the ``earliest`` reset Faust is configured with);
   - records fetched after that seek but before the flow resumes are skipped too: a skipped
     record (one the stream never tracked) is never counted as acknowledged, so no commit passes
     it, and once the flow runs again its partition is sought back to the first one skipped.
   Records the stream had already processed beyond that point are processed twice:
   at-least-once, which every processor and sink here is built for.
3. On topics registered with ``contiguous_commits`` (the internal topics, written without
   transactions, so they hold no control records), an offset is committed only when every record
   from the committed offset on has been acknowledged. Faust commits the first run of consecutive
   acknowledged offsets wherever it starts: past the whole head of a partition never committed
   (or committed at 0), and past one missing record otherwise (it allows for a transaction
   marker). A record missing at the head now holds the commit back until it is read again (by
   the re-seek of 2, or by ``guard_stalls``).

4. Declaring a topic does not ask Kafka for the whole cluster's metadata. Faust refreshes its
   producer's metadata after creating each topic; while the producer tracks no topic, aiokafka asks
   for every topic of the cluster, so a worker's start (some 40 topics declared) cost a full
   metadata response each: on a cluster of 3,600 topics, 5 s of a worker's CPU at start (measured
   with benchmarks/bench_streams.py --cprofile). Each topic created is now tracked by the
   producer, so the refreshes ask for the declared topics only. (A topic is tracked once it
   exists: asking for the metadata of a missing topic may make a broker auto-create it.)

Register it with ``install()`` and use the broker URL scheme ``kafka+rc://``."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from typing import Any, Mapping

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "kafka+rc"
log = logging.getLogger(__name__)
_CONTIGUOUS: set[str] = set()


def contiguous_commits(topics: set[str]) -> None:
    """Commit offsets of these topics only over an unbroken run of acknowledged records (see 3)."""
    _CONTIGUOUS.update(topics)


def head_is_missing(acked: list[int], committed: int | None, log_start: int | None) -> bool:
    """True when the lowest acknowledged offset lies beyond the next offset to commit, i.e. a
    record between them has not been processed. ``committed`` is Kafka's committed offset (the
    next record to read); without one, the partition's first offset stands for it (None: unknown)."""
    expected = committed if committed else log_start
    return bool(acked) and expected is not None and min(acked) > expected


class ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = "read_committed"  # read by AIOKafkaConsumer.start()
        return consumer

    async def seek_to_committed(self) -> Mapping[Any, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)

    async def _seek_to_committed_or_beginning(self) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        committed = await consumer.seek_to_committed()
        # table changelogs are positioned by Faust's recovery, never by committed offsets
        unset = [tp for tp, offset in committed.items()
                 if (offset is None or offset <= 0) and not tp.topic.endswith("-changelog")]
        if unset:
            self.consumer._log_start.update(await consumer.beginning_offsets(unset))
            await consumer.seek_to_beginning(*unset)
        return committed


class ReadCommittedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ReadCommittedConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    _skipped: dict[Any, int] | None = None          # tp -> first offset the stream skipped
    _reseek: concurrent.futures.Future | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._log_start: dict[Any, int] = {}        # tp -> first offset, for partitions never committed

    def _new_offset(self, tp: Any) -> int | None:
        if tp.topic in _CONTIGUOUS and head_is_missing(self._acked[tp], self._committed_offset[tp],
                                                       self._log_start.get(tp)):
            return None
        return super()._new_offset(tp)

    def ack(self, message: Any) -> bool:
        if message.tracked:
            return super().ack(message)
        # skipped by the stream during a rebalance, never processed: not acknowledged, and the
        # partition is sought back to it once the flow runs again
        skipped = self._skipped = self._skipped if self._skipped is not None else {}
        if message.tp not in skipped or message.offset < skipped[message.tp]:
            skipped[message.tp] = message.offset
        if self._reseek is None or self._reseek.done():
            self._reseek = asyncio.run_coroutine_threadsafe(self._seek_back_once_flowing(), self.loop)
        return False

    async def perform_seek(self) -> None:
        if self._skipped:
            self._skipped.clear()    # the committed offsets sought now come before every skipped record
        await super().perform_seek()

    async def _seek_back_once_flowing(self, timeout: float = 120.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (self.app.flow_control.is_active() and self.flow_active):
            if loop.time() > deadline:
                return
            await asyncio.sleep(0.01)
        skipped, self._skipped = self._skipped or {}, {}
        assigned = self.assignment()
        for tp, offset in sorted(skipped.items()):
            if tp not in assigned:
                continue             # moved to another worker, which starts from the committed offset
            try:
                await self.seek(tp, offset)
                log.info("re-reading %s from offset %d (skipped during a rebalance)", tp, offset)
            except Exception:        # another rebalance meanwhile: it seeks to the committed offsets
                log.warning("could not seek %s back to %d", tp, offset, exc_info=True)


class TrackedTopicsProducer(faust_aiokafka.Producer):
    async def create_topic(self, topic: str, *args: Any, **kwargs: Any) -> None:
        await super().create_topic(topic, *args, **kwargs)
        if self._producer is not None and self.app.conf.topic_allow_declare:
            # it exists now; later refreshes ask for the tracked topics only (see 4)
            self._producer.client._topics.add(topic)


class ReadCommittedTransport(faust_aiokafka.Transport):
    Consumer = ReadCommittedConsumer
    Producer = TrackedTopicsProducer


def install() -> str:
    drivers.TRANSPORTS.data[SCHEME] = f"{__name__}:ReadCommittedTransport"
    return SCHEME


def guard_stalls(app: Any, topics: set[str], after_s: float = 30.0, every_s: float = 5.0) -> None:
    """A backstop for the holes above that could not be traced: a partition of ``topics`` whose
    committed offset stays behind its high watermark, unchanged, for ``after_s`` seconds while the
    flow runs is sought back to its committed offset, so what was skipped is read again (records
    after it may be processed twice). Caught up or progressing partitions are left alone. The
    topics' commits are made contiguous too (see 3)."""
    contiguous_commits(topics)
    seen: dict[Any, tuple[int, float]] = {}

    @app.timer(interval=every_s)
    async def stalled_partitions() -> None:
        consumer = app.consumer
        if not (app.flow_control.is_active() and consumer.flow_active):
            return
        now = time.monotonic()
        for tp in consumer.assignment():
            if tp.topic not in topics:
                continue
            # never committed: its first offset stands for it (see ReadCommittedConsumerThread)
            committed = consumer._committed_offset.get(tp) or getattr(consumer, "_log_start", {}).get(tp)
            high = consumer.highwater(tp)
            if committed is None or high is None or committed >= high:
                seen.pop(tp, None)
                continue
            known = seen.get(tp)
            if known is None or known[0] != committed:
                seen[tp] = (committed, now)
            elif now - known[1] >= after_s:
                seen[tp] = (committed, now)
                try:
                    first = (await consumer.earliest_offsets(tp)).get(tp)
                    if first is not None and first > committed:
                        # the records from the committed offset on were deleted (retention) while no
                        # worker read them: nothing is left to wait for before the partition's start
                        log.error("%s: offsets %d to %d were deleted before they were processed; "
                                  "going on from %d", tp, committed, first - 1, first)
                        consumer._committed_offset[tp] = first
                        continue
                    log.warning("%s has stood at offset %d (end %d) for %.0fs: reading it again from there",
                                tp, committed, high, after_s)
                    await consumer.seek(tp, committed)
                except Exception:
                    log.warning("could not seek %s back to %d", tp, committed, exc_info=True)
