"""Tryton adapter rules that need no server: price digits (a real shop order was refused with
'exceeds the limit of (None, 4)' before), error classification."""
from decimal import Decimal

from pssync.erp.tryton import _price


def test_prestashop_prices_are_rounded_half_up_to_tryton_digits():
    assert _price(Decimal("11.900000")) == Decimal("11.9000")
    assert _price(Decimal("19.123450")) == Decimal("19.1235")
    assert _price(Decimal("19.123449")) == Decimal("19.1234")
    assert str(_price(Decimal("7"))) == "7.0000"


def test_a_vanished_session_is_transient_and_forces_a_new_login():
    import httpx

    from pssync.erp.errors import TransientErpError
    from pssync.erp.tryton import TrytonAdapter

    adapter = TrytonAdapter(TrytonAdapter.Settings(url="http://tryton.invalid", database="db", user="u",
                                                   password="p"),
                            transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    adapter._auth = "Session abc"
    error = adapter._error("model.sale.sale.search_read", [
        "UserError", ['You are trying to read records "251" of "Session" that don\'t exist.', ""]])
    assert isinstance(error, TransientErpError) and adapter._auth is None
