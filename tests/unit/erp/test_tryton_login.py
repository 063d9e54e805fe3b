"""How the Tryton adapter reads a refused login (Tryton's answers replayed by an httpx transport):
one ErpLoginRefused naming erp.tryton.password, never the server's page, never the password."""
from __future__ import annotations

import httpx
import pytest

from pssync.erp.errors import ErpLoginRefused, PermanentErpError
from pssync.erp.tryton import TrytonAdapter

PAGE = "<!doctype html>\n<html lang=en>\n<title>401 Unauthorized</title>\n<h1>Unauthorized</h1>\n"


def tryton(answer: httpx.Response) -> TrytonAdapter:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer

    erp = TrytonAdapter(TrytonAdapter.Settings(url="http://tryton.example", password="s3cret-pw", attempts=3),
                        transport=httpx.MockTransport(handler))
    erp.calls = calls  # type: ignore[attr-defined]
    return erp


def test_a_wrong_password_is_one_line_naming_the_setting():
    erp = tryton(httpx.Response(401, text=PAGE, headers={"Content-Type": "text/html"}))
    with pytest.raises(ErpLoginRefused) as raised:
        erp.check()
    message = str(raised.value)
    assert message == ("erp.tryton.password: Tryton at http://tryton.example (database 'tryton') refused the "
                       "login of user 'admin': check erp.tryton.user and erp.tryton.password "
                       "(env PSSYNC_ERP__TRYTON__PASSWORD)")
    assert isinstance(raised.value, PermanentErpError) and raised.value.code == "auth"
    assert len(erp.calls) == 1                         # a refused login is not tried again


def test_a_login_asking_for_more_than_a_password_is_refused_not_retried():
    erp = tryton(httpx.Response(200, json={"id": 1, "error": ["LoginException", ["sms_code", "SMS Code", "char"]]}))
    with pytest.raises(ErpLoginRefused, match=r"^erp.tryton.password: .* asks for more than a password .*sms_code"):
        erp.search_read("product.product", [], ["id"])
    assert len(erp.calls) == 1


def test_a_failed_call_after_login_is_not_a_refused_login():
    erp = tryton(httpx.Response(200, json={"id": 1, "result": False}))
    with pytest.raises(ErpLoginRefused):               # Tryton 7 answered a wrong password with false
        erp.check()
