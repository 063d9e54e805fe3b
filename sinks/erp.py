"""The ERP sink: sales-order commands into the ERP, acknowledgements back to Kafka.

Each command is applied on its own (``remote``: the runner commits after every command):

* ``create``: look the shop reference up in the ERP, then create the sales order, which every
  adapter does idempotently (an order with that reference is returned, not duplicated; Tryton also
  finishes a sale left half-advanced by a crash). A command applied again after a crash therefore
  finds its order and reports it as ``existing``.
* ``cancel``: cancel the ERP order; one the ERP never received counts as done (Skipped).

Transient ERP errors are retried in place (``sinks.retry_attempts``, backoff capped at
``sinks.retry_max_s``); what is left after that, or a Retry-After longer than the cap, becomes a
TransientFailure: the runner rolls the command back and tries it again later. Permanent errors
become a PermanentFailure carrying the ERP's own message (dead-letter topic).

After a successful create or cancel an :class:`~pssync.schemas.commands.OrderAck` goes to
``sinks.acks_topic``, keyed by shop reference, through an idempotent producer. ``before_commit``
waits until Kafka has acknowledged it, so the command's offset is never committed before its ack is
durable; a crash in between sends the ack again on the next attempt (harmless: consumers key on
the shop reference and ``acked_at``).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pymysql
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from pssync.bus.kafka import idempotent_producer
from pssync.bus.kafka import ensure_topics
from pssync.erp.base import ErpAdapter
from pssync.erp.errors import ErpLoginRefused, NotFound, PermanentErpError, TransientErpError
from pssync.retry import RetryPolicy, with_retries
from pssync.settings import Settings
from pssync.sinks import synclog
from pssync.sinks.errors import PermanentFailure, Skipped, TransientFailure
from pssync.sinks.runner import Decoded
from pssync.schemas.codec import Codec
from pssync.schemas.commands import OrderAck, sales_order_key
from pssync.schemas.sales_order import SalesOrderCommand

log = logging.getLogger(__name__)

ACK_FLUSH_TIMEOUT_S = 30.0


class _Outstanding:
    """The acks produced since the last ``before_commit``, and how their delivery went."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.produced = 0
        self.pending = 0
        self.errors: list[str] = []
        self.fatal = False

    def delivered(self, err: KafkaError | None, msg: Message) -> None:
        with self.lock:
            self.pending -= 1
            if err is not None:
                self.errors.append(f"{err.name()}: {err.str()}")
                self.fatal = self.fatal or err.fatal()


def product_quantities(command: SalesOrderCommand) -> dict[str, Decimal]:
    """sku -> total quantity over the command's product lines (not shipping/wrapping/discount)."""
    totals: dict[str, Decimal] = {}
    for line in command.lines:
        if line.kind == "product":
            totals[line.sku] = totals.get(line.sku, Decimal(0)) + line.quantity
    return totals


class ErpApplier:
    direction: synclog.Direction = "to_erp"
    remote = True
    marks_echo = False

    def __init__(self, settings: Settings, adapter: ErpAdapter, *, producer: Any | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], dt.datetime] | None = None,
                 ack_flush_timeout: float = ACK_FLUSH_TIMEOUT_S, codec: Codec | None = None) -> None:
        """``producer``: a ready Producer-like object (tests); by default an idempotent Kafka
        producer is built and the acks topic created if missing. ``codec``: the contracts' wire
        format (by default on the schema registry of ``settings``)."""
        self.settings = settings
        self.codec = codec or Codec.from_settings(settings)
        self.adapter = adapter
        self.name = f"erp-{settings.erp.name}"
        self.topics = [settings.streams.commands_topic]
        self.acks_topic = settings.sinks.acks_topic
        self.topics_to_create = [self.acks_topic]
        self.policy = RetryPolicy(attempts=settings.sinks.retry_attempts,
                                  max_delay=settings.sinks.retry_max_s,
                                  # a longer pause is taken by the runner, outside any transaction
                                  max_retry_after=settings.sinks.retry_max_s)
        self._sleep = sleep
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._ack_flush_timeout = ack_flush_timeout
        self._outstanding = _Outstanding()
        self._own_producer = producer is None
        if producer is None:
            ensure_topics(settings.kafka, {t: {} for t in self.topics_to_create})
            producer = self._new_producer()
        self._producer = producer
        self._producer_failed = False

    # ---- Applier protocol ---------------------------------------------------------------------
    def decode(self, value: bytes | None, where: str) -> Decoded:
        command = self.codec.sales_order(value, where)
        return Decoded(sales_order_key(command), str(command.command_id), command)

    def apply(self, conn: pymysql.connections.Connection, command: SalesOrderCommand) -> str | None:
        if command.erp_action == "create":
            return self._create(command)
        if command.erp_action == "cancel":
            return self._cancel(command)
        raise PermanentFailure(f"unknown erp_action {command.erp_action!r}")

    def before_commit(self) -> None:
        """Wait until Kafka holds every ack produced since the last call."""
        batch, self._outstanding = self._outstanding, _Outstanding()
        if not batch.produced:
            return
        self._producer.flush(self._ack_flush_timeout)
        with batch.lock:
            pending, errors, fatal = batch.pending, list(batch.errors), batch.fatal
        if errors:
            if fatal:
                self._producer_failed = True       # an idempotent producer cannot go on after that
            raise TransientFailure(f"acknowledgement not delivered to {self.acks_topic}: {errors[0]}")
        if pending > 0:
            raise TransientFailure(f"{pending} acknowledgement(s) not confirmed by Kafka within "
                                   f"{self._ack_flush_timeout:.0f}s ({self.acks_topic})")

    # ---- create / cancel ------------------------------------------------------------------------
    def _create(self, command: SalesOrderCommand) -> str:
        order = command.to_sales_order()
        reference = command.shop_reference

        def attempt() -> tuple[str | None, Any]:
            found = self.adapter.find_sales_order(reference)
            return found, self.adapter.create_sales_order(order)

        found, result = self._erp_call(attempt, f"create sales order {reference}")
        acked_at = self._clock()
        # ``created``: by this attempt. After a crash between the ERP call and the commit the order
        # is found on the next attempt, and its ack says created=False.
        created = result.created and found != result.erp_order_id
        if found is not None and found != result.erp_order_id:
            # e.g. only a cancelled order had this reference and the ERP made a new one
            log.info("%s: %s was %s in %s, now %s", self.name, reference, found, self.adapter.name,
                     result.erp_order_id)
        self._ack(command, "create", result.erp_order_id, created, acked_at)
        return result.erp_order_id if created else f"{result.erp_order_id} existing"

    def _cancel(self, command: SalesOrderCommand) -> str:
        reference = command.shop_reference
        erp_order_id = self._erp_call(lambda: self.adapter.cancel_sales_order(reference),
                                      f"cancel sales order {reference}", not_found_is_done=True)
        acked_at = self._clock()
        self._ack(command, "cancel", erp_order_id, False, acked_at)
        return erp_order_id

    def _erp_call(self, fn: Callable[[], Any], what: str, not_found_is_done: bool = False) -> Any:
        try:
            return with_retries(fn, self.policy, sleep=self._sleep, what=f"{self.adapter.name} {what}")
        except NotFound as exc:
            if not_found_is_done:    # a cancel of an order the ERP never received
                raise Skipped(f"nothing to cancel: {exc.erp}: {exc.erp_message}") from None
            raise PermanentFailure(f"{exc.erp}: {exc.erp_message}") from None
        except TransientErpError as exc:
            raise TransientFailure(f"{what}: {exc.erp}: {exc.erp_message}",
                                   retry_after=exc.retry_after) from None
        except ErpLoginRefused:
            raise
        except PermanentErpError as exc:
            if exc.code == "auth":          # credentials refused: stop the sink, not the command
                raise ErpLoginRefused(exc.erp, f"{exc.erp}: {exc.erp_message}: check the erp.{exc.erp} "
                                               "credentials", status=exc.status) from None
            raise PermanentFailure(f"{exc.erp}: {exc.erp_message}") from None

    # ---- acknowledgements -----------------------------------------------------------------------
    def _new_producer(self) -> Producer:
        return idempotent_producer(self.settings.kafka)

    def _ack(self, command: SalesOrderCommand, action: str, erp_order_id: str, created: bool,
             acked_at: dt.datetime) -> None:
        ack = OrderAck(command_id=str(command.command_id), action=action, id_order=command.id_order,
                       shop_reference=command.shop_reference, erp_order_id=erp_order_id,
                       created=created, acked_at=acked_at, lines=product_quantities(command))
        if self._producer_failed and self._own_producer:
            self._producer.flush(0)
            self._producer = self._new_producer()
            self._producer_failed = False
        batch = self._outstanding
        try:
            self._producer.produce(self.acks_topic, key=command.shop_reference.encode(), value=self.codec.encode(self.acks_topic, ack),
                                   on_delivery=batch.delivered)
        except BufferError as exc:
            raise TransientFailure(f"acks producer queue full: {exc}") from None
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            self._producer_failed = self._producer_failed or err.fatal()
            raise TransientFailure(f"cannot produce to {self.acks_topic}: {err.str()}") from None
        # delivery callbacks only run inside poll()/flush() on this thread: counting after is safe
        with batch.lock:
            batch.produced += 1
            batch.pending += 1
        self._producer.poll(0)

    def close(self) -> None:
        try:
            self._producer.flush(self._ack_flush_timeout)
        finally:
            self.adapter.close()
