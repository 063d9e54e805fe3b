"""sinks/erp.py without Kafka or an ERP: a fake adapter, a fake producer, and the real Tryton
adapter over httpx.MockTransport for how Tryton's answers are classified."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import httpx
import pytest
from confluent_kafka import KafkaError

from pssync.erp.base import Address, Customer, SalesOrder, SalesOrderResult
from pssync.erp.errors import NotFound, PermanentErpError, TransientErpError, UnknownProduct
from pssync.erp.tryton import TrytonAdapter
from pssync.settings import Settings
from pssync.sinks.erp import ErpApplier, product_quantities
from pssync.sinks.errors import PermanentFailure, Skipped, TransientFailure
from pssync.schemas.codec import Codec, MemoryStore
from pssync.schemas.commands import BadCommand

CODEC = Codec(MemoryStore())
from pssync.schemas.sales_order import CommandLine, SalesOrderCommand

UTC = dt.timezone.utc
ACKS = "unit.acks"
ADDRESS = Address("John DOE", "16, Main street", "33133", "Miami", "US")


def command(action: str = "create", reference: str = "ABCDEFGHI-7", *lines: CommandLine) -> SalesOrderCommand:
    lines = lines or (CommandLine("demo_1-1", Decimal(2), Decimal("23.90"), "Shirt", "product", 1),
                      CommandLine("demo_11", Decimal(1), Decimal("11.90"), "Mug", "product", 2),
                      CommandLine("demo_1-1", Decimal(3), Decimal("23.90"), "Shirt again", "product", 3),
                      CommandLine("SHIPPING", Decimal(1), Decimal("7.00"), "Shipping", "shipping"))
    return SalesOrderCommand(
        command_id=uuid.uuid4(), erp_action=action, shop_id="unit", id_shop=1, id_order=7,
        reference=reference.split("-")[0], shop_reference=reference, state_id=2, state_key="PS_OS_PAYMENT",
        source_event_id=f"0-1-{uuid.uuid4().int % 10_000}",
        customer=Customer("PS-CUST-1", "John DOE", "pub@prestashop.com"), currency="EUR",
        lines=tuple(lines), invoice_address=ADDRESS, shipment_address=ADDRESS,
        ordered_at=dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC), shipping_cost=Decimal(0), comment="",
        carrier="", price_list=None)


class FakeAdapter:
    """The ErpAdapter protocol, scripted: each method pops its next outcome (a value or an
    exception); ``events`` records the calls in order."""
    name = "fake"

    def __init__(self, events: list[str], find=(None,), create=(), cancel=()) -> None:
        self.events = events
        self.outcomes = {"find": list(find), "create": list(create), "cancel": list(cancel)}
        self.orders: list[SalesOrder] = []

    def _next(self, what: str):
        self.events.append(what)
        outcomes = self.outcomes[what]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def changes(self, kind, since, after_id, limit=500):
        return []

    def stock_snapshot(self, page=None, page_size=500):
        raise NotImplementedError

    def find_sales_order(self, shop_reference: str) -> str | None:
        return self._next("find")

    def create_sales_order(self, order: SalesOrder) -> SalesOrderResult:
        self.orders.append(order)
        return self._next("create")

    def cancel_sales_order(self, shop_reference: str) -> str:
        return self._next("cancel")

    def close(self) -> None:
        self.events.append("close")


class FakeProducer:
    """Keeps what is produced; flush() reports delivery with ``error`` unless ``stuck``."""

    def __init__(self, error: KafkaError | None = None, stuck: bool = False) -> None:
        self.messages: list[tuple[str, bytes, bytes]] = []
        self.waiting: list = []
        self.error, self.stuck = error, stuck
        self.flushes = 0

    def produce(self, topic, key=None, value=None, on_delivery=None):
        self.messages.append((topic, key, value))
        self.waiting.append(on_delivery)

    def poll(self, timeout=None):
        return 0

    def flush(self, timeout=None):
        self.flushes += 1
        if not self.stuck:
            for callback in self.waiting:
                callback(self.error, None)
            self.waiting.clear()
        return len(self.waiting)


def settings(**sinks) -> Settings:
    return Settings(erp={"name": "unit"},
                    streams={"commands_topic": "unit.commands"},
                    sinks={"acks_topic": ACKS, "retry_attempts": 3, "retry_max_s": 30, **sinks})


def applier(adapter, producer=None, events: list[str] | None = None, **sinks):
    sleeps: list[float] = []

    def clock() -> dt.datetime:
        if events is not None:
            events.append("clock")
        return dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)

    instance = ErpApplier(settings(**sinks), adapter, producer=producer or FakeProducer(),
                          sleep=sleeps.append, clock=clock, ack_flush_timeout=0.1, codec=CODEC)
    return instance, sleeps


# ---- identity and decoding ------------------------------------------------------------------------

def test_applier_identity_and_decoding():
    erp, _ = applier(FakeAdapter([]))
    assert (erp.name, erp.direction, erp.topics, erp.remote, erp.marks_echo) == (
        "erp-unit", "to_erp", ["unit.commands"], True, False)
    assert ACKS in erp.topics_to_create
    cmd = command("cancel")
    decoded = erp.decode(CODEC.encode("unit.commands", cmd), "t[0]@1")
    assert decoded.command == cmd and decoded.command_id == str(cmd.command_id)
    assert (decoded.key.resource, decoded.key.external_id, decoded.key.operation,
            decoded.key.source_event_id) == ("sales_order", cmd.shop_reference, "cancel", cmd.source_event_id)
    with pytest.raises(BadCommand):
        erp.decode(b'{"erp_action": "create"}', "t[0]@2")
    with pytest.raises(BadCommand):
        erp.decode(None, "t[0]@3")


# ---- create ---------------------------------------------------------------------------------------

def test_create_checks_the_erp_first_then_acks_with_the_erp_id_and_product_quantities():
    events: list[str] = []
    producer = FakeProducer()
    erp, _ = applier(FakeAdapter(events, find=[None], create=[SalesOrderResult("1042", True)]),
                     producer, events)
    cmd = command()
    assert erp.apply(None, cmd) == "1042"
    assert events == ["find", "create", "clock"]      # acked_at is read after the ERP answered
    assert erp.adapter.orders == [cmd.to_sales_order()]
    [(topic, key, value)] = producer.messages
    assert topic == ACKS and key == cmd.shop_reference.encode()
    ack = CODEC.ack(value, "ack")
    assert ack.model_dump() == {
        "command_id": str(cmd.command_id), "action": "create", "id_order": 7,
        "shop_reference": cmd.shop_reference, "erp_order_id": "1042", "created": True,
        "acked_at": dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        "lines": {"demo_1-1": Decimal(5), "demo_11": Decimal(1)}}   # shipping line left out
    erp.before_commit()
    assert producer.flushes == 1


def test_an_order_already_in_the_erp_is_reported_existing_not_created():
    events: list[str] = []
    producer = FakeProducer()
    erp, _ = applier(FakeAdapter(events, find=["77"], create=[SalesOrderResult("77", False)]), producer)
    assert erp.apply(None, command()) == "77 existing"
    assert events == ["find", "create"]     # create still runs: idempotent, finishes a half-done sale
    ack = CODEC.ack(producer.messages[0][2], "ack")
    assert ack.erp_order_id == "77" and ack.created is False


def test_a_new_order_replacing_a_cancelled_one_is_reported_created():
    producer = FakeProducer()
    erp, _ = applier(FakeAdapter([], find=["70"], create=[SalesOrderResult("71", True)]), producer)
    assert erp.apply(None, command()) == "71"
    ack = CODEC.ack(producer.messages[0][2], "ack")
    assert ack.erp_order_id == "71" and ack.created is True


def test_transient_errors_are_retried_then_become_a_transient_failure_with_retry_after():
    events: list[str] = []
    producer = FakeProducer()
    busy = TransientErpError("fake", "HTTP 503", status=503, retry_after=4.0)
    erp, sleeps = applier(FakeAdapter(events, find=[busy]), producer, retry_attempts=3)
    with pytest.raises(TransientFailure) as failure:
        erp.apply(None, command())
    assert failure.value.retry_after == 4.0
    assert "HTTP 503" in failure.value.reason
    assert events == ["find"] * 3 and len(sleeps) == 2 and all(s >= 4.0 for s in sleeps)
    assert producer.messages == []


def test_a_retry_after_beyond_retry_max_is_left_to_the_runner():
    events: list[str] = []
    busy = TransientErpError("fake", "HTTP 429", status=429, retry_after=600.0)
    erp, sleeps = applier(FakeAdapter(events, find=[busy]), retry_max_s=30)
    with pytest.raises(TransientFailure) as failure:
        erp.apply(None, command())
    assert failure.value.retry_after == 600.0
    assert events == ["find"] and sleeps == []     # no blocking inside the transaction


def test_a_transient_error_followed_by_success_creates_once():
    events: list[str] = []
    flaky = TransientErpError("fake", "timed out")
    erp, sleeps = applier(FakeAdapter(events, find=[None],
                                      create=[flaky, SalesOrderResult("9", True)]))
    assert erp.apply(None, command()) == "9"
    assert events == ["find", "create", "find", "create"] and len(sleeps) == 1


def test_a_permanent_error_is_a_permanent_failure_with_the_erp_message_and_no_retry():
    events: list[str] = []
    producer = FakeProducer()
    refused = UnknownProduct("fake", "order X-1: unknown product code(s) nope", code="unknown_product")
    erp, sleeps = applier(FakeAdapter(events, find=[None], create=[refused]), producer)
    with pytest.raises(PermanentFailure) as failure:
        erp.apply(None, command())
    assert "order X-1: unknown product code(s) nope" in failure.value.reason
    assert events == ["find", "create"] and sleeps == [] and producer.messages == []


def test_not_found_during_a_create_is_a_permanent_failure_not_a_skip():
    gone = NotFound("fake", "customer PS-CUST-1 not found", code="not_found")
    erp, _ = applier(FakeAdapter([], find=[None], create=[gone]))
    with pytest.raises(PermanentFailure, match="customer PS-CUST-1 not found"):
        erp.apply(None, command())


# ---- cancel ---------------------------------------------------------------------------------------

def test_cancel_acks_the_cancelled_order():
    events: list[str] = []
    producer = FakeProducer()
    erp, _ = applier(FakeAdapter(events, cancel=["55"]), producer, events)
    cmd = command("cancel")
    assert erp.apply(None, cmd) == "55"
    assert events == ["cancel", "clock"]
    ack = CODEC.ack(producer.messages[0][2], "ack")
    assert (ack.action, ack.erp_order_id, ack.created, ack.id_order) == ("cancel", "55", False, 7)
    assert ack.lines == {"demo_1-1": Decimal(5), "demo_11": Decimal(1)}


def test_cancelling_an_order_the_erp_never_received_is_skipped():
    events: list[str] = []
    producer = FakeProducer()
    missing = NotFound("fake", "no sale with reference 'ABCDEFGHI-7'", code="not_found")
    erp, sleeps = applier(FakeAdapter(events, cancel=[missing]), producer)
    with pytest.raises(Skipped) as skipped:
        erp.apply(None, command("cancel"))
    assert "no sale with reference 'ABCDEFGHI-7'" in skipped.value.reason
    assert events == ["cancel"] and sleeps == [] and producer.messages == []


def test_a_refused_cancel_is_a_permanent_failure_with_the_erp_message():
    refused = PermanentErpError("fake", "sale 12 is already processing", code="state")
    erp, _ = applier(FakeAdapter([], cancel=[refused]))
    with pytest.raises(PermanentFailure, match="sale 12 is already processing"):
        erp.apply(None, command("cancel"))


# ---- acknowledgements must be durable before the commit -------------------------------------------

def test_before_commit_without_acks_does_not_flush():
    producer = FakeProducer()
    erp, _ = applier(FakeAdapter([]), producer)
    erp.before_commit()
    assert producer.flushes == 0


def test_an_ack_kafka_did_not_confirm_fails_the_commit():
    producer = FakeProducer(stuck=True)
    erp, _ = applier(FakeAdapter([], create=[SalesOrderResult("1", True)]), producer)
    erp.apply(None, command())
    with pytest.raises(TransientFailure, match="not confirmed"):
        erp.before_commit()


def test_an_ack_kafka_refused_fails_the_commit_and_the_next_attempt_starts_clean():
    producer = FakeProducer(error=KafkaError(KafkaError._MSG_TIMED_OUT))
    erp, _ = applier(FakeAdapter([], create=[SalesOrderResult("1", True)]), producer)
    erp.apply(None, command())
    with pytest.raises(TransientFailure, match="not delivered"):
        erp.before_commit()
    producer.error = None                  # the retry of the command produces the ack again
    erp.apply(None, command())
    erp.before_commit()
    assert len(producer.messages) == 2


def test_product_quantities_sum_product_lines_only():
    cmd = command("create", "R-1",
                  CommandLine("A", Decimal("1.5"), Decimal(1), "", "product", 1),
                  CommandLine("A", Decimal("2"), Decimal(1), "", "product", 2),
                  CommandLine("DISC", Decimal(1), Decimal(-3), "", "discount"))
    assert product_quantities(cmd) == {"A": Decimal("3.5")}


# ---- the real Tryton adapter's errors, over a mock transport --------------------------------------

def tryton(answer_for) -> TrytonAdapter:
    """A TrytonAdapter whose server is ``answer_for(method, params) -> httpx.Response | result``."""
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method = body["method"]
        if method == "common.db.login":
            return httpx.Response(200, json={"id": body["id"], "result": [1, "token"]})
        if method == "model.res.user.get_preferences":
            return httpx.Response(200, json={"id": body["id"], "result": {"company": 1}})
        answer = answer_for(method, body["params"])
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"id": body["id"], **answer})

    return TrytonAdapter(TrytonAdapter.Settings(url="http://tryton.test", attempts=1),
                         transport=httpx.MockTransport(handler))


def test_tryton_503_with_retry_after_becomes_a_transient_failure():
    calls: list[str] = []

    def answer(method, params):
        calls.append(method)
        return httpx.Response(503, headers={"Retry-After": "5"}, text="maintenance")

    erp, sleeps = applier(tryton(answer), retry_attempts=2)
    with pytest.raises(TransientFailure) as failure:
        erp.apply(None, command())
    assert failure.value.retry_after == 5.0 and "HTTP 503" in failure.value.reason
    assert calls == ["model.sale.sale.search_read"] * 2 and sleeps and sleeps[0] >= 5.0


def test_tryton_user_error_becomes_a_permanent_failure_with_trytons_message():
    results = {"model.sale.sale.search_read": [],
               "model.product.product.search_read": [{"id": 5, "code": "demo_1-1", "default_uom": 1},
                                                     {"id": 6, "code": "demo_11", "default_uom": 1},
                                                     {"id": 7, "code": "SHIPPING", "default_uom": 1}],
               "model.currency.currency.search_read": [{"id": 1}],
               "model.party.party.search_read": [{"id": 2}],
               "model.country.country.search_read": [{"id": 3}],
               "model.party.address.search_read": [{"id": 4}],
               "model.stock.location.search_read": [{"id": 6}]}

    def answer(method, params):
        if method == "model.sale.sale.create":
            return {"error": ["UserError", ["The credit limit of party \"John DOE\" is exceeded.", ""]]}
        return {"result": results[method]}

    erp, sleeps = applier(tryton(answer))
    with pytest.raises(PermanentFailure) as failure:
        erp.apply(None, command())
    assert 'The credit limit of party "John DOE" is exceeded.' in failure.value.reason
    assert failure.value.reason.startswith("tryton: ") and sleeps == []


def test_tryton_cancel_of_an_unknown_reference_is_skipped():
    erp, _ = applier(tryton(lambda method, params: {"result": []}))
    with pytest.raises(Skipped, match="no sale with reference"):
        erp.apply(None, command("cancel"))
