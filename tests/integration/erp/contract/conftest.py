"""The contract suite runs every test once per ERP adapter (the ``subject`` fixture); an adapter
that cannot keep a promise is marked from the capability table (capabilities.py)."""
from __future__ import annotations

import pytest

from tests.integration.erp.contract.capabilities import mark_for
from tests.integration.erp.subjects import ADAPTERS, TRYTON, Subject, open_subject


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "promise(name): the ErpAdapter promise a contract test "
                                       "checks (see tests/integration/erp/contract/capabilities.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        promise = item.get_closest_marker("promise")
        callspec = getattr(item, "callspec", None)
        if promise is None or callspec is None or "subject" not in callspec.params:
            continue
        mark = mark_for(callspec.params["subject"], promise.args[0])
        if mark is not None:
            item.add_marker(mark)


@pytest.fixture(params=ADAPTERS)
def subject(request: pytest.FixtureRequest):
    """One adapter against its ERP, with the ERP-side driver (tests/integration/erp/subjects.py).
    Only the Tryton subject needs the local stack."""
    stack = request.getfixturevalue("stack") if request.param == TRYTON else None
    opened: Subject = open_subject(request.param, stack)
    yield opened
    opened.close()
