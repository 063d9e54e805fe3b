"""streams/orders_hub.py over plain dicts: an order becomes one sales-order command once its
header, lines and history are in and the rows it refers to are known; it waits for reference rows
and for the mapping of its products, and is dead-lettered once when it cannot be mapped."""
from __future__ import annotations

from decimal import Decimal

from tests.unit.streams.hub_support import Shop, change, order_mapping, run
from tests.unit.streams.recording import CODEC
from tests.unit.streams.test_orders import catalogue_sku, paid, rows_of

ID_ORDER = 2          # demo order 2, paid: lines (4, 18) x2 and (8, 0) x1


def references(shop: Shop, partition: int = 0, *, customer: bool = True) -> None:
    orders = shop.orders
    if customer:
        for row in rows_of("customer"):
            run(orders.on_reference(partition, change(row), "customer", "id_customer"))
    for row in rows_of("address"):
        run(orders.on_reference(partition, change(row), "address", "id_address"))
    for row in rows_of("currency"):
        run(orders.on_collection(partition, change(row), "currency", "id_currency"))
    for row in rows_of("configuration"):
        run(orders.on_collection(partition, change(row), "configuration", "id_configuration"))


def map_lines(shop: Shop, *, skip: tuple[int, int] | None = None, partition: int = 0) -> None:
    for line in rows_of("order_detail", id_order=ID_ORDER):
        key = (line["product_id"], line["product_attribute_id"])
        if key != skip:
            shop.map_product(*key, catalogue_sku(*key), partition)


def order_events(gtid: str = "0-1-7") -> tuple[dict, list[dict], list[dict]]:
    order, history = paid(ID_ORDER)
    return (change(order, gtid=gtid), [change(line, gtid=gtid) for line in rows_of("order_detail", id_order=ID_ORDER)],
            [change(row, gtid=gtid) for row in history])


def place(shop: Shop, partition: int = 0, gtid: str = "0-1-7") -> None:
    header, lines, history = order_events(gtid)
    run(shop.orders.on_order(partition, header))
    for event in history:
        run(shop.orders.on_order_history(partition, event))
    for event in lines:
        run(shop.orders.on_order_detail(partition, event))


def test_an_order_becomes_one_command_once_its_header_lines_and_history_are_in():
    shop = Shop()
    references(shop)
    map_lines(shop)
    header, lines, history = order_events()
    run(shop.orders.on_order(0, header))
    run(shop.orders.on_order_detail(0, lines[0]))
    for event in history:
        run(shop.orders.on_order_history(0, event))
    assert shop.rec.on("commands") == []           # the second line is on its way (totals)
    run(shop.orders.on_order_detail(0, lines[1]))
    (sent,) = shop.rec.on("commands")
    command = CODEC.sales_order(sent.value, "commands")
    assert sent.key == command.shop_reference.encode()     # the commands of one order stay in order
    assert command.id_order == ID_ORDER and command.erp_action == "create" and command.currency == "EUR"
    assert [(l.sku, l.quantity) for l in command.lines if l.kind == "product"] == [("demo_5-18", 2),
                                                                                  ("demo_13", 1)]
    assert shop.state.emitted == {str(command.command_id): True}
    assert shop.state.orders[ID_ORDER]["sent"] == [str(command.command_id)]
    # the same rows again (a replay after a crash): no second command
    run(shop.orders.on_order(0, header))
    run(shop.orders.on_order_detail(0, lines[1]))
    assert len(shop.rec.on("commands")) == 1
    assert shop.state.pending == {} and shop.state.unmapped == {}


def test_an_order_waits_for_its_reference_rows_and_goes_out_with_the_last_one():
    shop = Shop()
    references(shop, customer=False)
    map_lines(shop)
    place(shop)
    assert shop.rec.on("commands") == [] and shop.state.pending == {ID_ORDER: 0}
    run(shop.orders.on_reference(0, change(rows_of("customer")[0]), "customer", "id_customer"))
    assert len(shop.rec.on("commands")) == 1 and shop.state.pending == {}


def test_reference_rows_of_another_partition_do_not_release_an_order():
    shop = Shop(partitions=2)
    references(shop, partition=0, customer=False)
    map_lines(shop, partition=0)
    place(shop, partition=0)
    run(shop.orders.on_reference(1, change(rows_of("customer")[0]), "customer", "id_customer"))
    assert shop.rec.on("commands") == [] and shop.state.pending == {ID_ORDER: 0}


def test_an_order_with_an_unmapped_product_is_dead_lettered_once_then_sent_when_the_product_is_mapped():
    shop = Shop()
    references(shop)
    map_lines(shop, skip=(8, 0))
    place(shop)
    assert shop.rec.on("commands") == []
    (letter,) = shop.rec.on("dead_letters")
    assert letter.key == str(ID_ORDER).encode()
    body = letter.json
    assert body["record"]["id_order"] == ID_ORDER and "(8, 0)" in body["reason"]
    assert dict(letter.headers)["__connect.errors.exception.message"] == body["reason"].encode()
    assert shop.state.unmapped == {"0|8": [ID_ORDER]} and shop.state.orders[ID_ORDER]["awaits"] == [8]
    # another row of the order: still waiting, not dead-lettered again
    run(shop.orders.on_order(0, order_events()[0]))
    assert len(shop.rec.on("dead_letters")) == 1
    shop.map_product(8, 0, catalogue_sku(8, 0))
    (sent,) = shop.rec.on("commands")
    assert {l.sku for l in CODEC.sales_order(sent.value, "commands").lines} >= {"demo_13"}
    assert shop.state.unmapped == {} and shop.state.orders[ID_ORDER]["awaits"] == []


def test_an_order_in_a_state_that_sends_nothing_waits_for_nothing():
    shop = Shop()
    references(shop)
    map_lines(shop)
    order = rows_of("orders", id_order=ID_ORDER)[0]       # awaiting check payment: unpaid, not sent
    run(shop.orders.on_order(0, change(order)))
    for row in rows_of("order_history", id_order=ID_ORDER):
        run(shop.orders.on_order_history(0, change(row)))
    for row in rows_of("order_detail", id_order=ID_ORDER):
        run(shop.orders.on_order_detail(0, change(row)))
    assert shop.rec.sent == [] and shop.state.pending == {} and shop.state.unmapped == {}


def test_an_order_that_cannot_be_mapped_is_dead_lettered_with_the_reason_once():
    shop = Shop(mapping=order_mapping(countries={}))      # no country code for any address
    references(shop)
    map_lines(shop)
    place(shop)
    place(shop)
    (letter,) = shop.rec.on("dead_letters")
    assert letter.json["record"]["id_order"] == ID_ORDER and "country" in letter.json["reason"]
    assert shop.rec.on("commands") == [] and shop.state.pending == {}
    assert shop.state.emitted == {f"dead-letter:{ID_ORDER}:{letter.json['reason']}": True}


def test_the_decimal_and_datetime_values_of_a_dead_letter_are_written_as_text():
    shop = Shop()
    run(shop.orders.dead_letter_order(5, "why", {"amount": Decimal("1.50"),
                                                 "at": rows_of("orders", id_order=1)[0]["date_add"]}))
    (letter,) = shop.rec.on("dead_letters")
    assert letter.json == {"source": "order 5", "reason": "why",
                           "record": {"id_order": 5, "amount": "1.50", "at": "2024-03-01T09:15:00+00:00"}}


# ---- state changes after the create ---------------------------------------------------------------

def _binlog(pos: int) -> dict:
    return {"file": "mariadb-bin.000001", "pos": pos, "snapshot": "false"}


def state_change(shop: Shop, state: int, history_id: int, pos: int, *, order_first: bool = False,
                 partition: int = 0) -> None:
    """The shop moves the order to ``state`` as PrestaShop does: the ps_orders update and the
    history row, two statements (binlog positions ``pos`` and ``pos + 1``) on two topics, delivered
    in either order."""
    entry = shop.state.orders.get(ID_ORDER)
    at = entry["row"]["date_upd"]           # the same second: only the binlog tells them apart
    order = {**entry["row"], "current_state": state, "date_upd": at}
    history = {"id_order_history": history_id, "id_employee": 1, "id_order": ID_ORDER, "id_order_state": state,
               "date_add": at}
    order_event = change(order, entry["row"], gtid=f"0-1-{pos}")
    order_event["source"].update(_binlog(pos))
    history_event = change(history, gtid=f"0-1-{pos + 1}")
    history_event["source"].update(_binlog(pos + 1))
    events = [(shop.orders.on_order, order_event), (shop.orders.on_order_history, history_event)]
    for handler, event in (events if order_first else events[::-1]):
        run(handler(partition, event))


def commands(shop: Shop) -> list:
    return [CODEC.sales_order(r.value, "commands") for r in shop.rec.on("commands")]


def test_a_cancel_after_the_create_is_a_command_of_its_own_and_a_create_after_it_another():
    shop = Shop()
    references(shop)
    map_lines(shop)
    place(shop)
    state_change(shop, 3, 101, 500)                    # PS_OS_PREPARATION: nothing for the ERP
    state_change(shop, 6, 102, 510)                    # PS_OS_CANCELED
    state_change(shop, 6, 102, 510, order_first=True)  # redelivered
    state_change(shop, 2, 103, 520, order_first=True)  # paid again: the order is back
    sent = commands(shop)
    assert [(c.erp_action, c.source_event_id) for c in sent] == [
        ("create", "0-1-7"), ("cancel", "0-1-7:cancel:2"), ("create", "0-1-7:create:3")]
    assert len({c.command_id for c in sent}) == 3
    assert {c.shop_reference for c in sent} == {sent[0].shop_reference}


def test_a_state_is_told_by_the_later_of_its_two_statements_never_by_a_stale_one():
    """Quick changes within one second: the history row of the cancel arrives, then the ps_orders
    update of the earlier state (paid again, written before the cancel): the order is still
    cancelled, and no create goes out again."""
    shop = Shop()
    references(shop)
    map_lines(shop)
    place(shop)
    entry = shop.state.orders.get(ID_ORDER)
    cancel = {"id_order_history": 102, "id_employee": 1, "id_order": ID_ORDER, "id_order_state": 6,
              "date_add": entry["row"]["date_upd"]}
    cancel_event = change(cancel, gtid="0-1-601")
    cancel_event["source"].update(_binlog(601))
    run(shop.orders.on_order_history(0, cancel_event))
    stale = change({**entry["row"], "current_state": 2}, entry["row"], gtid="0-1-600")
    stale["source"].update(_binlog(600))
    run(shop.orders.on_order(0, stale))
    assert [c.erp_action for c in commands(shop)] == ["create", "cancel"]


def test_fifty_quick_state_changes_ending_in_a_cancel_send_one_create_and_one_cancel():
    shop = Shop()
    references(shop)
    map_lines(shop)
    place(shop)
    for n in range(49):
        state_change(shop, (3, 4)[n % 2], 200 + n, 1000 + 10 * n, order_first=bool(n % 3))
    state_change(shop, 6, 300, 2000, order_first=True)
    assert [c.erp_action for c in commands(shop)] == ["create", "cancel"]
