"""sinks/prestashop_ws.py without Kafka or a database: the applier's logic against the local Webservice server
(tests/vendor_servers/prestashop_webservice.py: follows PrestaShop's documents, is not PrestaShop)."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from pssync.errors import PermanentError, TransientError
from pssync.settings import Settings
from pssync.sinks.errors import Skipped
from pssync.sinks.prestashop_ws import PrestashopWebserviceApplier
from pssync.schemas.codec import Codec, MemoryStore
from pssync.schemas.commands import (BadCommand, OrderStateCommand, PriceCommand, ProductCommand, StockCommand,
                              TrackingCommand)
from tests.vendor_servers.prestashop_webservice import DEFAULT_KEY, PrestashopWebserviceServer, seed_demo

CODEC = Codec(MemoryStore())
UTC = dt.timezone.utc
KEY = "ZQ8WK3JH9S1XN5BVC7MD2LP4RT6YF0GA"


def settings(url: str = "https://shop.example/api", key: str = KEY, **extra: Any) -> Settings:
    capture = {"name": "unit"}
    capture.update(extra.pop("capture", {}))
    return Settings(capture=capture, streams={"shop_commands_topic": "unit.commands.shop"},
                    sinks={"prestashop_mode": "webservice", "dead_letter_topic": "unit.dlq",
                           "webservice": {"url": url, "key": key, "timeout_s": 2, **extra}})


@pytest.fixture()
def server():
    srv = seed_demo(PrestashopWebserviceServer()).start()
    yield srv
    srv.stop()


def applier_for(server: PrestashopWebserviceServer, **extra: Any) -> PrestashopWebserviceApplier:
    return PrestashopWebserviceApplier(settings(server.url + "/api", DEFAULT_KEY, **extra), codec=CODEC)


@pytest.fixture()
def applier(server):
    instance = applier_for(server)
    yield instance
    instance.close()


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def stock_cmd(quantity: int, *, product: int = 1, attribute: int = 3, known: tuple[int, ...] = (),
              since: dt.datetime | None = None, shop: int = 1) -> StockCommand:
    return StockCommand(command_id=str(uuid.uuid4()), source_event_id=f"erp-{uuid.uuid4().hex[:8]}",
                        created_at=now(), sku=f"demo_{product}-{attribute}", id_shop=shop, id_product=product,
                        id_product_attribute=attribute, quantity=quantity, erp_as_of=now(),
                        known_orders=known, orders_since=since or now() - dt.timedelta(minutes=10))


def test_identity_and_decode(applier):
    assert applier.name == "shop-ws-unit"
    assert applier.direction == "to_shop" and applier.topics == ["unit.commands.shop"]
    assert applier.remote is True and applier.marks_echo is False
    cmd = stock_cmd(5)
    decoded = applier.decode(CODEC.encode("unit.commands.shop", cmd), "t[0]@1")
    assert (decoded.key, decoded.command_id, decoded.command) == (cmd.key, cmd.command_id, cmd)
    with pytest.raises(BadCommand):
        applier.decode(b'{"type": "stock"}', "t[0]@2")
    with pytest.raises(BadCommand):
        applier.decode(None, "t[0]@3")


def test_stock_subtracts_unseen_orders_only(server, applier):
    since = now() - dt.timedelta(minutes=10)
    known = server.place_order("KNOWNORDR", [(1, 3, 3)])                       # the processor saw it
    unseen = server.place_order("UNSEENORD", [(1, 3, 2), (1, 3, 1), (6, 0, 1)])
    server.place_order("CANCELLED", [(1, 3, 5)], state=6)                      # no stock held
    other = server.place_order("OTHERSKU1", [(1, 4, 9)])                       # another combination
    server.add_order("TOOOLDORD", [(1, 3, 7)], date_add=(since - dt.timedelta(minutes=1)).strftime(
        "%Y-%m-%d %H:%M:%S"))
    result = applier.apply(None, stock_cmd(100, known=(known,), since=since))
    assert server.stock(1, 3) == 97
    assert "in 1 unseen order" in result and "quantity=97" in result
    [patch] = server.requests("PATCH")
    assert patch.path == "/api/stock_availables/4"
    assert patch.body == {"stock_available": {"id": "4", "quantity": "97"}}
    # the product-level row was re-summed by the shop, not written by the sink
    assert server.stock(1, 0) == sum(server.stock(1, a) for a in range(1, 9))
    assert not server.requests("PATCH", "/stock_availables/1")
    assert other and unseen


def test_a_lagging_sink_still_subtracts_every_order_since_orders_since(server, applier):
    # the processor bounded orders_since by stock_guard_window_s when it built the command; the
    # sink, processing it late, must not narrow that window again
    server.add_order("HOURAGO01", [(1, 3, 7)], date_add=(now() - dt.timedelta(hours=1)).strftime(
        "%Y-%m-%d %H:%M:%S"))
    applier.apply(None, stock_cmd(50, since=now() - dt.timedelta(hours=2)))
    assert server.stock(1, 3) == 43


def test_checkout_racing_the_patch_is_subtracted_by_the_recheck(server, applier):
    # a checkout lands after the sink read the orders and before its PATCH is applied: the PATCH
    # overwrites the checkout's decrement, the re-check sees the new order and writes again
    server.on("PATCH", "stock_availables", lambda s: s.place_order("RACINGORD", [(1, 3, 4)]), when="before")
    result = applier.apply(None, stock_cmd(100))
    assert server.stock(1, 3) == 96
    assert [c.body["stock_available"]["quantity"] for c in server.requests("PATCH")] == ["100", "96"]
    assert "re-check" in result and "quantity=96" in result


def test_checkout_after_the_patch_is_not_subtracted_twice(server, applier):
    server.on("PATCH", "stock_availables", lambda s: s.place_order("AFTERPTCH", [(1, 3, 4)]), when="after")
    result = applier.apply(None, stock_cmd(100))
    assert server.stock(1, 3) == 96                 # the checkout's own decrement, on top of the PATCH
    assert len(server.requests("PATCH")) == 1
    assert "row already 96" in result


def test_stock_floor_is_zero(server, applier):
    server.place_order("BIGORDER1", [(1, 3, 250)])
    applier.apply(None, stock_cmd(100))
    assert server.stock(1, 3) == 0


def test_order_dates_are_compared_in_the_shops_time_zone():
    srv = seed_demo(PrestashopWebserviceServer(timezone="Pacific/Kiritimati")).start()   # UTC+14
    try:
        local = dt.datetime.now(srv.zone)
        srv.add_order("RECENTORD", [(1, 3, 2)])
        srv.add_order("EARLIER01", [(1, 3, 5)],
                      date_add=(local - dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S"))
        ws = applier_for(srv, capture={"datetime_zone": "Pacific/Kiritimati"})
        ws.apply(None, stock_cmd(100, since=now() - dt.timedelta(minutes=10)))
        assert srv.stock(1, 3) == 98        # read as UTC, the window would take EARLIER01 too (93)
    finally:
        srv.stop()


def test_shared_stock_row_is_used_when_the_shop_has_none(server, applier):
    row = server.add_stock(6, 0, 40, id_shop=0, id_shop_group=1)
    server.rows["stock_availables"].pop(27)    # the shop's own row for product 6 gone: stock shared by the group
    applier.apply(None, stock_cmd(12, product=6, attribute=0))
    assert server.row("stock_availables", row)["quantity"] == "12"


def test_stock_refusals(server, applier):
    with pytest.raises(PermanentError, match="no stock_available row for product 1 combination 99"):
        applier.apply(None, stock_cmd(5, attribute=99))
    server.rows["stock_availables"][4]["depends_on_stock"] = "1"
    with pytest.raises(PermanentError, match="depends_on_stock=1"):
        applier.apply(None, stock_cmd(5))
    assert not server.requests("PATCH")


def price_cmd(price: str, attribute: int = 0, product: int = 1) -> PriceCommand:
    return PriceCommand(command_id=str(uuid.uuid4()), source_event_id=f"erp-{uuid.uuid4().hex[:8]}",
                        created_at=now(), sku=f"demo_{product}-{attribute}", id_shop=1, id_product=product,
                        id_product_attribute=attribute, price=Decimal(price), changed_at=now())


def test_prices(server, applier):
    assert applier.apply(None, price_cmd("25.50")) == "product 1 price=25.500000"
    assert server.row("products", 1)["price"] == "25.500000"
    result = applier.apply(None, price_cmd("27.40", attribute=3))
    assert server.row("combinations", 3)["price"] == "1.900000"
    assert "impact=1.900000" in result
    patches = server.requests("PATCH")
    assert [(c.path, c.body) for c in patches] == [
        ("/api/products/1", {"product": {"id": "1", "price": "25.500000"}}),
        ("/api/combinations/3", {"combination": {"id": "3", "price": "1.900000"}})]
    assert all(c.query.get("id_shop") == "1" for c in patches)
    with pytest.raises(Skipped, match="already"):
        applier.apply(None, price_cmd("25.5"))
    with pytest.raises(Skipped, match="already"):
        applier.apply(None, price_cmd("27.4", attribute=3))
    applier.apply(None, price_cmd("20.00", attribute=4))                # below the base: a negative impact
    assert server.row("combinations", 4)["price"] == "-5.500000"
    with pytest.raises(PermanentError, match="belongs to product 1, not 6"):
        applier.apply(None, price_cmd("9.00", attribute=3, product=6))
    with pytest.raises(PermanentError, match=r"-> 404: \[87\] Id\(s\) not exists: 404"):
        applier.apply(None, price_cmd("9.00", product=404))


def state_cmd(id_order: int, reference: str, key: str) -> OrderStateCommand:
    return OrderStateCommand(command_id=str(uuid.uuid4()), source_event_id=f"erp-{uuid.uuid4().hex[:8]}",
                             created_at=now(), id_order=id_order, shop_reference=reference, state_key=key,
                             erp_state="x", changed_at=now())


def test_order_state(server, applier):
    result = applier.apply(None, state_cmd(4, "FFATNOMMJ", "PS_OS_PAYMENT"))
    assert server.row("orders", 4)["current_state"] == "2" and server.row("orders", 4)["valid"] == "1"
    [post] = server.requests("POST")
    assert post.path == "/api/order_histories" and "sendemail" not in post.query
    assert post.body == {"order_history": {"id_order": "4", "id_order_state": "2"}}
    assert result.startswith("order 4 state 2 (PS_OS_PAYMENT) (order_history ")
    assert server.emails == []
    with pytest.raises(Skipped, match="already in state 2"):
        applier.apply(None, state_cmd(4, "FFATNOMMJ", "PS_OS_PAYMENT"))
    with pytest.raises(PermanentError, match="configuration PS_OS_NOPE not found"):
        applier.apply(None, state_cmd(4, "FFATNOMMJ", "PS_OS_NOPE"))
    with pytest.raises(PermanentError, match="is 'FFATNOMMJ' in the shop, not 'SOMEOTHER'"):
        applier.apply(None, state_cmd(4, "SOMEOTHER", "PS_OS_SHIPPING"))
    with pytest.raises(PermanentError, match=r"\[87\] Id\(s\) not exists: 77"):
        applier.apply(None, state_cmd(77, "NOSUCHORD", "PS_OS_SHIPPING"))
    assert len(server.requests("POST")) == 1


def test_order_state_with_email_and_a_shop_specific_state_id(server):
    server.add_configuration("PS_OS_SHIPPING", 5, id_shop=1)        # this shop maps "shipped" differently
    ws = applier_for(server, send_email=True)
    ws.apply(None, state_cmd(2, "OHSATSERP", "PS_OS_SHIPPING"))
    [post] = server.requests("POST")
    assert post.query["sendemail"] == "1"
    assert server.row("orders", 2)["current_state"] == "5"
    assert [(e.template, e.id_order) for e in server.emails] == []    # state 5 sends no email
    ws.apply(None, state_cmd(2, "OHSATSERP", "PS_OS_CANCELED"))
    assert [(e.template, e.id_order) for e in server.emails] == [("canceled", 2)]


def tracking_cmd(id_order: int, reference: str, number: str) -> TrackingCommand:
    return TrackingCommand(command_id=str(uuid.uuid4()), source_event_id=f"erp-{uuid.uuid4().hex[:8]}",
                           created_at=now(), id_order=id_order, shop_reference=reference,
                           tracking_number=number, changed_at=now())


def test_tracking_goes_to_the_latest_carrier_row(server, applier):
    latest = server.add_order_carrier(2, 3)
    assert applier.apply(None, tracking_cmd(2, "OHSATSERP", "1Z999AA10123456784")) == \
        f"order_carrier {latest} tracking_number=1Z999AA10123456784"
    assert server.row("order_carriers", latest)["tracking_number"] == "1Z999AA10123456784"
    assert server.row("order_carriers", 2)["tracking_number"] is None
    [patch] = server.requests("PATCH")
    assert patch.body == {"order_carrier": {"id": str(latest), "tracking_number": "1Z999AA10123456784"}}
    with pytest.raises(Skipped, match="already has tracking number"):
        applier.apply(None, tracking_cmd(2, "OHSATSERP", "1Z999AA10123456784"))
    with pytest.raises(PermanentError, match=r"-> 400: \[85\] Validation error"):
        applier.apply(None, tracking_cmd(2, "OHSATSERP", "bad*tracking"))


def test_server_faults_and_permissions_classify_as_the_runner_expects(server):
    ws = applier_for(server)
    server.fail_next(1, "503", retry_after="2", path_contains="/stock_availables", method="PATCH")
    with pytest.raises(TransientError) as info:
        ws.apply(None, stock_cmd(10))
    assert info.value.retry_after == 2.0 and "-> 503" in info.value.reason
    ws.apply(None, stock_cmd(10))
    assert server.stock(1, 3) == 10

    limited = PrestashopWebserviceServer(permissions={"orders": {"GET"}, "configurations": {"GET"}})
    seed_demo(limited).start()
    try:
        with pytest.raises(PermanentError, match='-> 401: \\[26\\] Resource of type "order_carriers" is not '
                                                   "allowed with this authentication key"):
            applier_for(limited).apply(None, tracking_cmd(2, "OHSATSERP", "TRACK1"))
    finally:
        limited.stop()
    wrong_key = PrestashopWebserviceApplier(settings(server.url + "/api", "X" * 32), codec=CODEC)
    with pytest.raises(PermanentError, match=r"-> 401: \[20\] Authentification key is not active"):
        wrong_key.apply(None, tracking_cmd(2, "OHSATSERP", "TRACK1"))


def test_a_state_change_whose_answer_was_lost_is_not_posted_twice(server, applier):
    # the shop processed the POST, the caller got a 504: the runner retries the command, which
    # now finds the order in the state
    server.fail_next(1, "lost_reply", path_contains="/order_histories", method="POST")
    with pytest.raises(TransientError, match="-> 504"):
        applier.apply(None, state_cmd(4, "FFATNOMMJ", "PS_OS_PAYMENT"))
    with pytest.raises(Skipped, match="already in state 2"):
        applier.apply(None, state_cmd(4, "FFATNOMMJ", "PS_OS_PAYMENT"))
    assert len(server.requests("POST")) == 1
    assert [h["id_order_state"] for h in server.rows["order_histories"].values() if h["id_order"] == "4"] \
        == ["1", "2"]


def test_product_active_flag(server, applier):
    command = ProductCommand(command_id=str(uuid.uuid4()), source_event_id="erp-product:1", created_at=now(),
                             sku="demo_1", id_shop=1, id_product=1, active=False, changed_at=now())
    assert applier.apply(None, command) == "product 1 active=0"
    assert str(server.row("products", 1)["active"]) == "0"
    patches = server.requests("PATCH")
    assert [(c.path, c.body) for c in patches] == [("/api/products/1", {"product": {"id": "1", "active": "0"}})]
    with pytest.raises(Skipped, match="already"):
        applier.apply(None, command)
