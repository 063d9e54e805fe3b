"""Faust's Kafka transport, with one change: its consumers always read with
``isolation.level=read_committed``.

faust-streaming reads committed-only data only under its experimental exactly-once guarantee;
under at-least-once its consumers use read_uncommitted and would see change events of Kafka
transactions the capture aborted (after a crash or fencing). Register it with
``install()`` and use the broker URL scheme ``kafka+rc://``."""
from __future__ import annotations

from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "kafka+rc"


class ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = "read_committed"  # read by AIOKafkaConsumer.start()
        return consumer


class ReadCommittedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ReadCommittedConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ReadCommittedTransport(faust_aiokafka.Transport):
    Consumer = ReadCommittedConsumer


def install() -> str:
    drivers.TRANSPORTS.data[SCHEME] = f"{__name__}:ReadCommittedTransport"
    return SCHEME
