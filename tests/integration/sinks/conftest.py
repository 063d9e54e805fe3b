"""Fixtures shared by the sink tests."""
from __future__ import annotations

import uuid

import pytest

from tests.integration.sinks.support import empty_database


@pytest.fixture()
def tag() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture()
def state_db(stack, tag):
    """An empty scratch database for the sink's sync log, effects and offsets."""
    with empty_database(stack, f"pssync_erpsink_{tag}") as name:
        yield name
