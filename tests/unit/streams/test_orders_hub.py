"""streams/orders_hub.py over plain dicts: an order becomes one sales-order command once its
header, lines and history are in and the rows it refers to are known; it waits for reference rows
and for the mapping of its products, and is dead-lettered once when it cannot be mapped."""
from __future__ import annotations

from decimal import Decimal

from pssync.streams.orders_hub import OrderAssembly
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


# ---- orders waiting for reference rows are indexed by the rows (streams.orders_hub.RowWaits) -------------
def a_customer(id_customer: int) -> dict:
    return {**rows_of("customer")[0], "id_customer": id_customer}


def an_address(id_address: int, id_customer: int) -> dict:
    return {**rows_of("address", id_address=2)[0], "id_address": id_address, "id_customer": id_customer}


def place_copy(shop: Shop, id_order: int, id_customer: int, id_address: int, partition: int = 0) -> None:
    """Demo order 2, paid, as order ``id_order`` of that customer, delivered and invoiced to that address."""
    order, history = paid(ID_ORDER)
    order = {**order, "id_order": id_order, "id_customer": id_customer, "id_address_delivery": id_address,
             "id_address_invoice": id_address}
    run(shop.orders.on_order(partition, change(order)))
    for row in history:
        run(shop.orders.on_order_history(partition, change({**row, "id_order": id_order,
                                                            "id_order_history": id_order * 10 + row["id_order_history"]})))
    for row in rows_of("order_detail", id_order=ID_ORDER):
        run(shop.orders.on_order_detail(partition, change({**row, "id_order": id_order,
                                                           "id_order_detail": id_order * 10 + row["id_order_detail"]})))


def count_tries(shop: Shop) -> list[int]:
    """The orders try_emit is called for, in order (the assembly still does the work)."""
    tried: list[int] = []
    real = shop.orders.try_emit

    async def counted(id_order: int, partition: int) -> None:
        tried.append(id_order)
        await real(id_order, partition)

    shop.orders.try_emit = counted      # type: ignore[method-assign]
    return tried


def commands_for(shop: Shop) -> list[int]:
    return [CODEC.sales_order(c.value, "commands").id_order for c in shop.rec.on("commands")]


def test_an_order_waiting_for_a_customer_and_an_address_is_tried_when_either_arrives_and_sent_when_both_are_in():
    shop = Shop()
    references(shop, customer=False)
    map_lines(shop)
    place_copy(shop, 50, id_customer=5, id_address=7)
    assert commands_for(shop) == [] and shop.state.pending == {50: 0}
    tried = count_tries(shop)
    run(shop.orders.on_reference(0, change(a_customer(6)), "customer", "id_customer"))   # not its customer
    assert tried == []
    run(shop.orders.on_reference(0, change(a_customer(5)), "customer", "id_customer"))
    assert tried == [50] and commands_for(shop) == [] and shop.state.pending == {50: 0}   # its address is missing
    run(shop.orders.on_reference(0, change(an_address(8, 5)), "address", "id_address"))   # not its address
    assert tried == [50]
    run(shop.orders.on_reference(0, change(an_address(7, 5)), "address", "id_address"))
    assert tried == [50, 50] and commands_for(shop) == [50] and shop.state.pending == {}
    assert shop.orders.row_waits.by_row == {} and shop.orders.row_waits.of_order == {}


def test_the_address_first_then_the_customer_releases_the_order_too():
    shop = Shop()
    references(shop, customer=False)
    map_lines(shop)
    place_copy(shop, 50, id_customer=5, id_address=7)
    tried = count_tries(shop)
    run(shop.orders.on_reference(0, change(an_address(7, 5)), "address", "id_address"))
    assert tried == [50] and commands_for(shop) == []
    run(shop.orders.on_reference(0, change(an_address(9, 5)), "address", "id_address"))
    assert tried == [50]
    run(shop.orders.on_reference(0, change(a_customer(5)), "customer", "id_customer"))
    assert tried == [50, 50] and commands_for(shop) == [50]


def test_of_many_waiting_orders_a_row_retries_only_those_waiting_for_it():
    shop = Shop()
    references(shop, customer=False)
    map_lines(shop)
    for n in range(100):                    # orders 100..199, customers 1000..1049 (two orders each)
        run(shop.orders.on_reference(0, change(an_address(2000 + n % 50, 1000 + n % 50)), "address", "id_address"))
        place_copy(shop, 100 + n, id_customer=1000 + n % 50, id_address=2000 + n % 50)
    assert commands_for(shop) == [] and len(shop.state.pending) == 100
    tried = count_tries(shop)
    run(shop.orders.on_reference(0, change(a_customer(1007)), "customer", "id_customer"))
    assert tried == [107, 157] and commands_for(shop) == [107, 157] and len(shop.state.pending) == 98
    for c in range(50):
        run(shop.orders.on_reference(0, change(a_customer(1000 + c)), "customer", "id_customer"))
    assert len(tried) == 100 and sorted(commands_for(shop)) == list(range(100, 200)) and shop.state.pending == {}


def test_orders_waiting_for_the_configuration_are_tried_on_ps_os_keys_only_once_there_are_rows():
    shop = Shop()
    map_lines(shop)
    references(shop, customer=True)
    configuration = rows_of("configuration")
    shop.state.references.clear()           # everything but the ps_configuration rows
    for row in rows_of("customer"):
        run(shop.orders.on_reference(0, change(row), "customer", "id_customer"))
    for row in rows_of("address"):
        run(shop.orders.on_reference(0, change(row), "address", "id_address"))
    for row in rows_of("currency"):
        run(shop.orders.on_collection(0, change(row), "currency", "id_currency"))
    map_lines(shop)
    place(shop)
    tried = count_tries(shop)
    other = [r for r in configuration if not r["name"].startswith("PS_OS_")]
    states = [r for r in configuration if r["name"].startswith("PS_OS_")]
    run(shop.orders.on_collection(0, change(other[0]), "configuration", "id_configuration"))
    assert tried == [ID_ORDER] and commands_for(shop) == []     # the first row: its state is not told yet
    for row in other[1:]:
        run(shop.orders.on_collection(0, change(row), "configuration", "id_configuration"))
    assert tried == [ID_ORDER]                                  # rows that cannot tell its state
    for row in states:
        run(shop.orders.on_collection(0, change(row), "configuration", "id_configuration"))
    assert commands_for(shop) == [ID_ORDER] and shop.state.pending == {}
    assert 1 < len(tried) <= 1 + len(states)


def test_a_restarted_worker_finds_the_orders_that_waited_before_it_started():
    shop = Shop()
    references(shop, customer=False)
    map_lines(shop)
    for n in range(3):
        place_copy(shop, 50 + n, id_customer=5 + n, id_address=2)
    # a new process over the same tables: the index is in memory only, rebuilt at the first row
    restarted = OrderAssembly(shop.state, shop.mapping, shop.rec.outputs, shop.waits)
    tried: list[int] = []
    real = restarted.try_emit

    async def counted(id_order: int, partition: int) -> None:
        tried.append(id_order)
        await real(id_order, partition)

    restarted.try_emit = counted        # type: ignore[method-assign]
    run(restarted.on_reference(0, change(a_customer(5)), "customer", "id_customer"))
    assert sorted(tried) == [50, 51, 52] and commands_for(shop) == [50] and shop.state.pending == {51: 0, 52: 0}
    run(restarted.on_reference(0, change(a_customer(6)), "customer", "id_customer"))
    assert tried[3:] == [51] and commands_for(shop) == [50, 51] and shop.state.pending == {52: 0}
    restarted.row_waits.forget()        # a rebalance: rebuilt again at the next row
    run(restarted.on_reference(0, change(a_customer(7)), "customer", "id_customer"))
    assert tried[4:] == [52] and commands_for(shop) == [50, 51, 52] and shop.state.pending == {}
