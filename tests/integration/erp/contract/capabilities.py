"""The capability table: what an adapter genuinely cannot do of what the contract promises.

Every contract test names the promise it checks (``@pytest.mark.promise("...")``). A (adapter,
promise) pair listed here is marked on collection, with its reason, instead of failing or being
left out silently:

- ``raises`` given: xfail, strict. The test runs and must fail in exactly that way; the day the
  adapter keeps the promise the test XPASSes, which fails the run, and the entry must go.
- ``skip``: the case cannot be set up against that ERP at all.

Adapters and promises not listed here must pass every contract test."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.integration.erp.subjects import INFOR, TRYTON


@dataclass(frozen=True)
class Cannot:
    reason: str
    raises: type[BaseException] | None = None     # xfail(strict): the failure it must show
    skip: bool = False

    def mark(self) -> pytest.MarkDecorator:
        if self.skip:
            return pytest.mark.skip(reason=self.reason)
        return pytest.mark.xfail(raises=self.raises, strict=True, reason=self.reason)


CAPABILITIES: dict[tuple[str, str], Cannot] = {
    (TRYTON, "permanent_read_refusal"): Cannot(
        "Real Tryton refuses none of the adapter's reads, and the gateway in front of it only "
        "simulates transport failures, never Tryton's own answers; Tryton's permanent "
        "refusals are covered by test_refused_order_is_permanent_with_the_erps_message.",
        skip=True),
    (INFOR, "feed_filtered_by_erp"): Cannot(
        "M3 MI list transactions (MMS060MI/LstBalID, MMS200MI/LstByNumber, "
        "OIS017MI/LstBasePrice, MWS410MI/LstDeliveries, OIS100MI/SearchHead) take no "
        "changed-since input: every poll reads the whole list and the adapter keeps what is "
        "after the cursor itself.", raises=AssertionError),
}


def mark_for(adapter: str, promise: str) -> pytest.MarkDecorator | None:
    cannot = CAPABILITIES.get((adapter, promise))
    return cannot.mark() if cannot else None
