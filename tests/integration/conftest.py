"""Integration tests run against the real local stack (MariaDB, Kafka, Apicurio) that the project
starts itself (`pssync stack up`); nothing here is mocked."""
from __future__ import annotations

import os
import uuid

import pymysql
import pytest

from pssync import devstack
from tests.integration.support import Scratch


@pytest.fixture(scope="session")
def stack() -> devstack.StackSettings:
    return devstack.ensure_up()


@pytest.fixture()
def scratch(stack: devstack.StackSettings, request: pytest.FixtureRequest):
    """A private PrestaShop database (real DDL + demo data) and private topics for one test."""
    tag = uuid.uuid4().hex[:10]
    database = f"pssync_test_{tag}"
    devstack.load_prestashop_fixtures(stack.mysql_params(), database, stack.table_prefix)
    scratch = Scratch(stack, database, tag,
                      registry_url=os.environ.get("PSSYNC_TEST_REGISTRY_URL", stack.ccompat_url))
    yield scratch
    scratch.close()
    conn = pymysql.connect(**stack.mysql_params())
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        conn.close()
