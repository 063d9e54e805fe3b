"""The whole flow under crashes: the shop capture, the ERP capture, the processors and both sinks run
as the operator runs them (`pssync ...` subprocesses, deploy/devstack/pipeline.py SERVICES), against
a scratch PrestaShop database, the stack's Kafka/registry and the real Tryton. While shop orders are
placed, some cancelled in the shop once their sale is in Tryton, some moved quickly from state to
state (statement by statement, as PrestaShop writes them), and stock is received in Tryton, the
services are SIGKILLed at random moments and restarted. At the end every order is exactly one
Tryton sale in its final state (cancelled for the orders cancelled in the shop), no shop order was
moved out of its cancellation, the shop's stock equals the ERP's, and the sync log accounts for
every effect. Nothing is mocked; every topic, group and id is private to the test."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pymysql
import pytest
import yaml

from pssync.devstack.pipeline import SERVICES   # the same commands `pssync services up` runs
from pssync.devstack.shop import Line, change_state, place_order
from pssync.prestashop.product_map import Mapping, set_mapping
from pssync.sinks import synclog
from tests.integration.erp.tryton_support import adapter as tryton_adapter
from tests.integration.erp.tryton_support import new_product, product_ids, quantity, receive_stock
from tests.integration.support import read_settled, readable

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]
TABLES = ["orders", "order_detail", "order_history", "order_carrier", "stock_available", "product",
          "product_shop", "product_attribute", "product_attribute_shop", "specific_price", "customer",
          "address", "currency", "configuration"]
SHOP_PRODUCTS = [6, 8]          # products without combinations in the demo data
START_LEVEL = 100
ORDERS = 15
# after order n is placed: once order k's sale is in Tryton, the shop cancels it
CANCELS = {5: 0, 9: 3, 13: 6}
# after order n is placed: once order k's sale is in Tryton, the shop moves it through `count` quick
# state changes ending in `last`
QUICK = {7: (1, 25, "PS_OS_CANCELED"), 11: (4, 25, "PS_OS_PREPARATION")}
CANCELLED_STATE = 6            # PS_OS_CANCELED in the demo data


class Service:
    """One `pssync` process of the flow, started and SIGKILLed by the test (its own process group)."""

    def __init__(self, name: str, config: Path, workdir: Path, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.config = config
        self.log = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PSSYNC_")}
        # this checkout's code, whatever pssync is installed; the worker's data dir in the test's dir
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "deploy"), env.get("PYTHONPATH", "")])
        # Faust (aiokafka) does not take kafka.client_config: a SIGKILLed worker's group membership
        # must expire quickly so that the restarted one gets its partitions back
        env.update(BROKER_SESSION_TIMEOUT="6", BROKER_HEARTBEAT_INTERVAL="1")
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"\n==== {time.strftime('%H:%M:%S')} start {self.starts} ====\n")
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "pssync", *self.command,
                                          "--config", str(self.config)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.log.parent,
                                         start_new_session=True)

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(15)
        with open(self.log, "a") as log:
            log.write(f"\n==== {time.strftime('%H:%M:%S')} SIGKILL ====\n")

    def crash(self) -> None:
        self.kill()
        self.kills += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, chars: int = 2500) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"---- {self.name} (starts {self.starts}, kills {self.kills}) ----\n{text[-chars:]}"


def write_config(scratch, tmp_path: Path, stack, workers: int) -> tuple[dict[str, Any], Path]:
    settings = scratch.settings(TABLES, extra_tables=["pssync_product_map"])
    data = settings.model_dump(mode="json")
    p = scratch.prefix
    data["kafka"]["client_config"] = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
    data["erp"].update(
        kind="tryton", name=f"test-{scratch.tag}", topic_prefix=p, offsets_topic=f"{p}.erp.offsets",
        poll_interval_s=1,
        tryton={"url": f"http://127.0.0.1:{stack.tryton_port}", "database": stack.tryton_database,
                "user": stack.tryton_user, "password": stack.tryton_password, "sale_state": "confirmed"})
    # deploy/order_mapping.yaml with a shop reference prefix of the test's own: the Tryton database is
    # shared (the developer's pipeline, other tests), and the ERP capture sees every sale in it; with
    # the prefix the processors ignore the sales of other shops instead of sending their states to
    # the scratch shop's orders of the same id (which the shop sink dead-letters)
    order_mapping = yaml.safe_load((REPO / "deploy" / "order_mapping.yaml").read_text())
    order_mapping["shop_reference_prefix"] = f"{p.upper()}-"
    (tmp_path / "order_mapping.yaml").write_text(yaml.safe_dump(order_mapping))
    data["streams"].update(
        order_mapping=str(tmp_path / "order_mapping.yaml"), rules=str(REPO / "deploy" / "rules.yaml"),
        commands_topic=f"{p}.commands.erp.sales_orders", shop_commands_topic=f"{p}.commands.shop",
        dead_letter_topic=f"{p}.streams.dead-letter", violations_topic=f"{p}.streams.violations",
        session_timeout_s=6,      # a SIGKILLed worker's partitions come back quickly
        partitions=workers)
    data["sinks"].update(acks_topic=f"{p}.erp.acks", dead_letter_topic=f"{p}.sinks.dead-letter",
                         state_database=None, batch_max_ms=50, retry_max_s=5)
    assert data["mysql"]["database"] == scratch.database
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(data))
    return data, config


def read_values(bootstrap: str, topic: str, timeout: float = 10) -> list[bytes]:
    """Committed record values of every partition of a topic (none when the topic does not exist)."""
    return [msg.value() or b"" for msg in read_settled(bootstrap, [topic], timeout=timeout)]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-processor-worker", "two-processor-workers"])
def test_whole_flow_survives_sigkills_of_every_service(stack, scratch, tmp_path, workers):
    """With two workers the internal topics have two partitions, each worker is killed at random
    on its own, and the other takes its partitions over meanwhile."""
    rng = random.Random()
    seed = int(os.environ.get("PSSYNC_TEST_SEED") or rng.randrange(10**6))   # set it to replay a run
    rng.seed(seed)
    erp = tryton_adapter(stack)
    skus = new_product(erp, "12.50", variants=2)
    ids = product_ids(erp, *skus)
    for sku in skus:
        receive_stock(erp, sku, START_LEVEL)
    by_product = dict(zip(SHOP_PRODUCTS, skus))

    conn = pymysql.connect(**stack.mysql_params(scratch.database))
    for (id_product, sku), erp_id in zip(by_product.items(), ids):
        set_mapping(conn, Mapping("tryton", id_product, 0, sku, str(erp_id), "manual"))
    conn.close()
    scratch.sql(f"UPDATE ps_stock_available SET quantity={START_LEVEL}, physical_quantity={START_LEVEL}, "
                f"reserved_quantity=0 WHERE id_product IN (6, 8) AND id_product_attribute=0")
    synclog.ensure_tables(scratch.db)

    data, config = write_config(scratch, tmp_path, stack, workers)
    services = {name: Service(name, config, tmp_path, SERVICES[name]) for name in SERVICES}
    processors = ["processors"]
    for n in range(2, workers + 1):
        processors.append(f"processors-{n}")
        services[processors[-1]] = Service(processors[-1], config, tmp_path, SERVICES["processors"])
    placed: list[int] = []
    kill_log: list[str] = []

    def logs() -> str:
        return (f"seed {seed}; kills {kill_log}\n"
                + "\n".join(s.tail() for s in services.values()))

    def shop_stock(id_product: int) -> int:
        return int(scratch.sql("SELECT quantity FROM ps_stock_available WHERE id_product=%s "
                               "AND id_product_attribute=0 AND id_shop=1", args=(id_product,))[0]["quantity"])

    def wait(what: str, probe, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if probe():
                return
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")

    try:
        for s in services.values():
            s.start()
        # the flow is alive end to end once the ERP price of a mapped product reached the shop
        # (ERP capture -> processors -> shop sink; the capture feeds the processors the mapping)
        wait("the ERP price of the test products in the shop",
             lambda: scratch.sql("SELECT COUNT(*) AS n FROM ps_product WHERE id_product IN (6, 8) "
                                 "AND price = 12.5")[0]["n"] == 2, 120)

        # ---- workload with random SIGKILLs ------------------------------------------------------
        workload_s = 45.0
        plan = (["capture"] * 2 + ["erp-capture"] + processors * 2 + ["sink-erp"] * 2 + ["sink-shop"] * 2)
        schedule = sorted((rng.uniform(1, workload_s - 3), name) for name in plan)
        stop_killing = threading.Event()
        killer_error: list[BaseException] = []

        def killer() -> None:
            started = time.monotonic()
            try:
                for at, name in schedule:
                    delay = at - (time.monotonic() - started)
                    if delay > 0 and stop_killing.wait(delay):
                        return
                    s = services[name]
                    s.crash()
                    down = rng.uniform(1, 3)
                    kill_log.append(f"{time.monotonic() - started:.1f}s {name} (down {down:.1f}s)")
                    time.sleep(down)
                    s.start()
            except BaseException as exc:  # reported below
                killer_error.append(exc)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        receipts = {3: 7, 6: 5, 11: 9, 12: 4}   # after order n: +quantity on SKU n % 2
        cancelled: set[int] = set()

        def erp_reference(id_order: int) -> str:
            row = scratch.sql("SELECT reference FROM ps_orders WHERE id_order=%s", args=(id_order,))[0]
            return f"{scratch.prefix.upper()}-{row['reference']}-{id_order}"

        def in_erp(id_order: int) -> None:
            ref = erp_reference(id_order)
            wait(f"the Tryton sale of order {id_order} ({ref})",
                 lambda: bool(erp.search_read("sale.sale", [("reference", "=", ref)], ["id"])), 120)

        def move(id_order: int, state_key: str) -> None:
            change_state(stack.mysql_params(), scratch.database, "ps_", id_order, state_key)
            if state_key == "PS_OS_CANCELED":
                cancelled.add(id_order)
            else:
                cancelled.discard(id_order)

        t0 = time.monotonic()
        for n in range(ORDERS):
            lines = rng.choice([[Line(6, 0, rng.randint(1, 3))], [Line(8, 0, rng.randint(1, 3))],
                                [Line(6, 0, rng.randint(1, 2)), Line(8, 0, rng.randint(1, 2))]])
            placed.append(place_order(stack.mysql_params(), scratch.database, "ps_", lines,
                                      state_key="PS_OS_PAYMENT"))
            if n in receipts:
                receive_stock(erp, skus[n % 2], receipts[n])
            if n in CANCELS:
                in_erp(placed[CANCELS[n]])
                move(placed[CANCELS[n]], "PS_OS_CANCELED")
            if n in QUICK:
                k, count, last = QUICK[n]
                in_erp(placed[k])
                for _ in range(count - 1):      # no pause: many changes within one second
                    move(placed[k], rng.choice(["PS_OS_PREPARATION", "PS_OS_PAYMENT"]))
                move(placed[k], last)
            time.sleep(max(0.0, (n + 1) * workload_s / ORDERS - (time.monotonic() - t0)))
        thread.join(60)
        assert not thread.is_alive() and not killer_error, (killer_error, logs())
        for s in services.values():   # a service that died on its own is a failure, not a crash
            assert s.alive(), f"{s.name} exited by itself\n{logs()}"

        references = {id_order: f"{scratch.prefix.upper()}-{row['reference']}-{id_order}" for id_order in placed
                      for row in scratch.sql("SELECT reference FROM ps_orders WHERE id_order=%s",
                                             args=(id_order,))}
        assert len(references) == ORDERS

        # ---- convergence --------------------------------------------------------------------------
        def sales_count(ref: str) -> int:
            return len(erp.search_read("sale.sale", [("reference", "=", ref)], ["id"]))

        wait("a Tryton sale for every order", lambda: all(sales_count(r) >= 1 for r in references.values()), 150)

        def applied_orders() -> int:
            return scratch.sql("SELECT COUNT(DISTINCT external_id) AS n FROM pssync_sync_log "
                               "WHERE resource='sales_order' AND outcome='applied'")[0]["n"]

        wait("the ERP sink's log of every order", lambda: applied_orders() >= ORDERS, 60)

        def sale_states() -> dict[int, list[tuple[str, str, str]]]:
            return {id_order: [(r["state"], r["shipment_state"], r["invoice_state"]) for r in erp.search_read(
                        "sale.sale", [("reference", "=", ref)], ["state", "shipment_state", "invoice_state"])]
                    for id_order, ref in references.items()}

        def withdrawn(sale: tuple[str, str, str]) -> bool:
            """Cancelled, or (processed already) done with nothing shipped or invoiced (erp/tryton.py)."""
            return sale[0] == "cancelled" or sale == ("done", "none", "none")

        def final_states() -> bool:
            states = sale_states()
            return all(len(states[o]) == 1 and withdrawn(states[o][0]) == (o in cancelled) for o in placed)

        assert len(cancelled) == len(CANCELS) + 1, cancelled
        wait("every order's Tryton sale in its final state (cancelled for the shop's cancellations)",
             final_states, 120)
        time.sleep(3)     # the acks reach the processors
        for sku in skus:  # a fresh ERP level, measured after every order was acknowledged
            receive_stock(erp, sku, 1)

        def stock_converged() -> bool:
            return all(shop_stock(p) == int(quantity(erp, sku)) for p, sku in by_product.items())

        wait("ps_stock_available = Tryton forecast for the mapped products", stock_converged, 90)
        time.sleep(3)     # nothing further arrives (no late, stale command overwrites the level)

        # ---- assertions ---------------------------------------------------------------------------
        for id_order, ref in references.items():
            assert sales_count(ref) == 1, f"order {id_order} ({ref}): {sales_count(ref)} sales\n{logs()}"
        expected = {p: int(quantity(erp, sku)) for p, sku in by_product.items()}
        actual = {p: shop_stock(p) for p in by_product}
        assert actual == expected, f"shop {actual} != ERP {expected}\n{logs()}"
        kept = [o for o in placed if o not in cancelled]
        ordered = {p: sum(int(r["q"]) for r in scratch.sql(
            f"SELECT product_quantity AS q FROM ps_order_detail WHERE product_id={p} AND id_order IN %s",
            args=(kept,))) for p in by_product}
        states = {int(r["id_order"]): int(r["current_state"]) for r in scratch.sql(
            "SELECT id_order, current_state FROM ps_orders WHERE id_order IN %s", args=(placed,))}
        moved_out = {o: states[o] for o in cancelled if states[o] != CANCELLED_STATE}
        assert not moved_out, f"cancelled in the shop, moved out of it: {moved_out}\n{logs()}"
        not_cancelled = [o for o in kept if states[o] == CANCELLED_STATE]
        assert not not_cancelled, f"cancelled, though the shop did not: {not_cancelled}\n{logs()}"
        assert final_states(), sale_states()
        received = {6: START_LEVEL + 1 + sum(q for n, q in receipts.items() if n % 2 == 0),
                    8: START_LEVEL + 1 + sum(q for n, q in receipts.items() if n % 2 == 1)}
        assert expected == {p: received[p] - ordered[p] for p in by_product}, (expected, received, ordered)

        log_rows = scratch.sql("SELECT sink, direction, resource, external_id, operation, source_event_id, "
                               "outcome FROM pssync_sync_log")
        effects = scratch.sql("SELECT resource, external_id, operation, source_event_id FROM pssync_sync_effect")
        # a command settles its key once: applied, or skipped (e.g. older than what the shop has);
        # both record the effect in the same transaction as the log row and the offset
        settled: dict[tuple, int] = {}
        for r in log_rows:
            if r["outcome"] in ("applied", "skipped"):
                key = (r["resource"], r["external_id"], r["operation"], r["source_event_id"])
                settled[key] = settled.get(key, 0) + 1
        twice = {k: n for k, n in settled.items() if n > 1}
        assert not twice, f"keys settled more than once: {twice}\n{logs()}"
        effect_keys = {(e["resource"], e["external_id"], e["operation"], e["source_event_id"]) for e in effects}
        assert len(effect_keys) == len(effects)
        assert effect_keys == set(settled), (f"log/effect mismatch: only logged {set(settled) - effect_keys}, "
                                             f"only effects {effect_keys - set(settled)}\n{logs()}")
        for id_order, ref in references.items():
            rows = [r for r in log_rows if r["resource"] == "sales_order" and r["external_id"] == ref
                    and r["outcome"] == "applied"]
            expected_ops = ["cancel", "create"] if id_order in cancelled else ["create"]
            assert sorted(r["operation"] for r in rows) == expected_ops, (id_order, rows, logs())
            assert all(r["direction"] == "to_erp" for r in rows), (id_order, rows)
        dead = [r for r in log_rows if r["outcome"] == "dead_letter"]
        assert not dead, f"dead-lettered: {dead}\n{logs()}"
        bootstrap = data["kafka"]["bootstrap_servers"]
        letters = read_values(bootstrap, data["sinks"]["dead_letter_topic"])
        assert not letters, f"{len(letters)} sink dead letters: {letters[:5]}\n{logs()}"
        # the scratch shop's demo orders (unmapped products) are dead-lettered by the processors;
        # none of the orders placed here may be
        ours = [readable(v) for v in read_values(bootstrap, data["streams"]["dead_letter_topic"])]
        ours = [(d.get("id_order"), d.get("reason")) for d in ours if d.get("id_order") in placed]
        assert not ours, f"{len(ours)} processor dead letters for the test's orders: {ours}\n{logs()}"
        kills = {name: s.kills for name, s in services.items()}
        assert all(kills[p] >= 2 for p in processors) and kills["sink-erp"] >= 2 and kills["sink-shop"] >= 2, kills
        print(f"seed {seed}; kills {kill_log}")
    finally:
        for s in services.values():
            s.kill()
        erp.close()
