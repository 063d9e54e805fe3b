"""The product mapping loaded from Tryton's catalogue into the shop database, by command."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.integration.support import run_cli

pytestmark = pytest.mark.integration


def test_mapping_loads_from_the_erp_catalogue_and_reports_what_it_cannot_match(scratch, stack, tmp_path):
    settings = scratch.settings()
    settings.erp.name = "tryton"
    settings.erp.tryton = {"url": f"http://127.0.0.1:{stack.tryton_port}", "database": stack.tryton_database,
                           "user": stack.tryton_user, "password": stack.tryton_password}
    config = tmp_path / "c.yaml"
    data = settings.model_dump(mode="json")
    data["erp"]["tryton"]["password"] = stack.tryton_password
    config.write_text(yaml.safe_dump(data))
    # the shop lost product 19 (demo_14), and product 7 now shares product 6's reference
    scratch.sql("DELETE FROM ps_product WHERE id_product=19",
                "UPDATE ps_product SET reference='demo_11' WHERE id_product=7")

    done = run_cli("erp", "mapping", "load", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "unknown SKU (no shop product or combination): demo_14" in done.stdout
    assert "unknown SKU (no shop product or combination): demo_12" in done.stdout
    assert "ambiguous SKU, not mapped: demo_11 matches [(6, 0), (7, 0)]" in done.stdout

    rows = json.loads(run_cli("erp", "mapping", "show", "--json", "--config", str(config)).stdout)
    by_sku = {r["sku"]: r for r in rows}
    assert (by_sku["demo_1-1"]["id_product"], by_sku["demo_1-1"]["id_product_attribute"]) == (1, 1)
    assert (by_sku["demo_13"]["id_product"], by_sku["demo_13"]["id_product_attribute"]) == (8, 0)
    assert "demo_11" not in by_sku and "demo_14" not in by_sku
    assert len(rows) == 47 - 3

    # a person resolves the ambiguity; the next catalogue load keeps it
    done = run_cli("erp", "mapping", "set", "--id-product", "6", "--sku", "demo_11",
                   "--erp-product-id", "22", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert run_cli("erp", "mapping", "load", "--config", str(config)).returncode == 0
    rows = json.loads(run_cli("erp", "mapping", "show", "--json", "--config", str(config)).stdout)
    manual = [r for r in rows if r["sku"] == "demo_11"]
    assert manual == [{"erp": "tryton", "id_product": 6, "id_product_attribute": 0, "sku": "demo_11",
                       "erp_product_id": "22", "source": "manual"}]


def test_mapping_set_refuses_to_move_a_sku_unless_told_to_reassign(scratch, tmp_path):
    settings = scratch.settings()
    settings.erp.name = "tryton"
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")))

    def set_(product: str, sku: str, *flags: str):
        return run_cli("erp", "mapping", "set", "--id-product", product, "--sku", sku, "--erp-product-id", "22",
                       *flags, "--config", str(config))

    def rows():
        shown = json.loads(run_cli("erp", "mapping", "show", "--json", "--config", str(config)).stdout)
        return [(r["id_product"], r["id_product_attribute"], r["sku"]) for r in shown]

    assert set_("7", "demo_12").returncode == 0 and set_("8", "demo_13").returncode == 0
    taken = set_("8", "demo_12")          # demo_12 is product 7's, and product 8 has demo_13
    assert taken.returncode == 1, taken.stdout
    (line,) = taken.stderr.strip().splitlines()
    assert line.startswith("error: SKU demo_12 is mapped to product 7 and product 8 is mapped to SKU demo_13")
    assert "--reassign" in line
    replaced = set_("8", "demo_99")
    assert replaced.returncode == 1 and "product 8 is mapped to SKU demo_13" in replaced.stderr
    assert "--reassign" in replaced.stderr
    assert rows() == [(7, 0, "demo_12"), (8, 0, "demo_13")]        # nothing changed

    moved = set_("8", "demo_12", "--reassign")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == ("mapped product 8 to demo_12 (moved from product 7, now unmapped); "
                                    "its SKU demo_13 is no longer mapped")
    assert rows() == [(8, 0, "demo_12")]
    assert set_("8", "demo_12").returncode == 0                     # the same mapping again: nothing moves
