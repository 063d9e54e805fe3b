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
