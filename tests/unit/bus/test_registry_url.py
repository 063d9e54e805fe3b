"""Answers that say registry.url is not a Confluent-compatible registry API, told apart from the
API's own errors (an unknown subject is a 404 too, with code 40401)."""
from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry.error import SchemaRegistryError

from pssync.bus.registry import API_HINT, misconfigured
from pssync.settings import ConfigError

URL = "http://registry.example/apis/ccompat/v9"


@pytest.mark.parametrize("status, code, answered", [
    (404, -1, "404 Not Found"),            # no body (Apicurio on an unknown API version)
    (404, None, "404 Not Found"),          # a JSON body of another API
    (404, 404, "404 Not Found"),
    (405, -1, "405 Method Not Allowed"),   # another web server: its HTML page
    (302, -1, "302 Found"),                # the server's root redirects to its UI
])
def test_an_answer_from_no_registry_api_names_the_url_and_the_fix(status, code, answered):
    exc = SchemaRegistryError(status, code, "<!doctype html><title>whatever</title>")
    wrong = misconfigured(URL, "list subjects", exc)
    assert isinstance(wrong, ConfigError)
    assert str(wrong) == f"schema registry at {URL} answered {answered} while trying to list subjects: {API_HINT}"
    assert "doctype" not in str(wrong)


def test_a_web_page_instead_of_json_is_named():
    wrong = misconfigured(URL, "list subjects", json.JSONDecodeError("Expecting value", "<html>", 0))
    assert "answered something that is not JSON" in str(wrong) and API_HINT in str(wrong)


def test_refused_credentials_name_their_setting():
    assert "registry.basic_auth_user_info" in str(misconfigured(URL, "list subjects",
                                                                SchemaRegistryError(401, 40101, "unauthorized")))


@pytest.mark.parametrize("status, code", [(404, 40401), (404, 40403), (409, 409), (422, 42201), (500, 50001)])
def test_the_apis_own_errors_are_left_to_their_callers(status, code):
    assert misconfigured(URL, "read schema id 7", SchemaRegistryError(status, code, "not found")) is None
    assert misconfigured(URL, "list subjects", OSError("connection refused")) is None
