"""Schema registry access through its Confluent-compatible API (Apicurio's /apis/ccompat/v7)."""
from __future__ import annotations

import http
import json
import logging
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from pssync.retry import RetryPolicy, with_retries
from pssync.settings import RegistrySettings
from pssync.errors import ConfigError, PermanentError, PssyncError, TransientError

log = logging.getLogger(__name__)


class RegistryError(PssyncError):
    pass


class RegistryUnavailable(RegistryError, TransientError):
    pass


class IncompatibleSchema(RegistryError, PermanentError):
    pass


class RegistryMisconfigured(RegistryError, ConfigError, PermanentError):
    """registry.url (or its credentials) do not lead to a Confluent-compatible registry API."""


API_HINT = "registry.url must point at the Confluent-compatible API (for Apicurio .../apis/ccompat/v7)"


def misconfigured(url: str, what: str, exc: BaseException) -> RegistryMisconfigured | None:
    """The one-line error for an answer that says ``url`` is not a Confluent-compatible registry
    API (a 404 without the API's own error code, a redirect, an HTML page) or refuses the
    credentials; None for any other failure. The answer's body is never quoted (an HTML page)."""
    if isinstance(exc, json.JSONDecodeError):
        return RegistryMisconfigured(f"schema registry at {url} answered something that is not JSON (a web "
                                     f"page?) while trying to {what}: {API_HINT}")
    if not isinstance(exc, SchemaRegistryError):
        return None
    status = exc.http_status_code
    try:
        answered = f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        answered = str(status)
    if status in (401, 403):
        return RegistryMisconfigured(f"schema registry at {url} answered {answered} while trying to {what}: "
                                     "check registry.basic_auth_user_info (user:password)")
    # the API's own errors carry a code that extends the status: 40401 subject not found, ...
    own_code = isinstance(exc.error_code, int) and exc.error_code // 100 == status
    if (300 <= status < 400 or status in (404, 405, 406, 415)) and not own_code:
        return RegistryMisconfigured(f"schema registry at {url} answered {answered} while trying to {what}: "
                                     f"{API_HINT}")
    return None


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, SchemaRegistryError):
        return exc.http_status_code >= 500 or exc.http_status_code in (408, 429)
    return isinstance(exc, (OSError, ConnectionError)) or type(exc).__module__.startswith(("httpx", "httpcore"))


def registry_client(url: str, basic_auth_user_info: str | None = None,
                    timeout: float = 10.0) -> SchemaRegistryClient:
    """confluent-kafka's client has no HTTP timeout by default: a request lost on a kept-alive
    connection would block forever. With one, its own retries take over."""
    conf: dict[str, Any] = {"url": url, "timeout": timeout, "max.retries": 3}
    if basic_auth_user_info:
        conf["basic.auth.user.info"] = basic_auth_user_info
    return SchemaRegistryClient(conf)


class Registry:
    def __init__(self, settings: RegistrySettings, attempts: int = 5) -> None:
        self.url = settings.url
        self.compatibility = settings.compatibility
        self.client = registry_client(settings.url, settings.basic_auth_user_info)
        self._ids: dict[tuple[str, str], int] = {}
        self._compat_set: set[str] = set()
        self._policy = RetryPolicy(attempts=attempts, base_delay=0.2, max_delay=5)

    def _run(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return with_retries(lambda: fn(*args, **kwargs), self._policy, what=f"registry: {what}",
                                retry_if=_transient)
        except Exception as exc:
            wrong = misconfigured(self.url, what, exc)
            if wrong is not None:
                raise wrong from None
            if not _transient(exc):
                raise
            raise RegistryUnavailable(
                f"schema registry at {self.url} unreachable while trying to {what}: {exc}") from exc

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """Register (or find) ``schema`` under ``subject`` with the compatibility rule enforced."""
        # Apicurio 3.3 cannot tell the type of a schema holding the string "{}" (e.g. the default of
        # a JSON column: "Failed to discover artifact type from content", HTTP 422); the same string
        # with its braces escaped is the same JSON, and is accepted
        text = json.dumps(schema, separators=(",", ":"), sort_keys=True).replace('"{}"', '"\\u007b\\u007d"')
        cached = self._ids.get((subject, text))
        if cached is not None:
            return cached
        if subject not in self._compat_set:
            self.ensure_compatibility(subject)
            self._compat_set.add(subject)
        try:
            schema_id = self._run(f"register {subject}", self.client.register_schema,
                                  subject, Schema(text, "AVRO"))
        except SchemaRegistryError as exc:
            if exc.http_status_code == 409:
                raise IncompatibleSchema(
                    f"schema change for {subject} is not {self.compatibility} compatible and was "
                    f"refused by the registry: {exc.error_message}") from exc
            raise RegistryError(f"registry refused schema for {subject}: {exc}") from exc
        self._ids[(subject, text)] = schema_id
        log.info("schema for %s registered as id %s", subject, schema_id)
        return schema_id

    def ensure_compatibility(self, subject: str) -> None:
        try:
            self._run(f"set {self.compatibility} compatibility on {subject}",
                      self.client.set_compatibility, subject_name=subject, level=self.compatibility)
        except SchemaRegistryError as exc:
            # two clients setting it at once: Apicurio answers the second with 409 "rule exists"
            if exc.http_status_code != 409:
                raise RegistryError(f"registry refused the compatibility rule for {subject}: {exc}") from exc
            level = self._run(f"read compatibility of {subject}", self.client.get_compatibility, subject)
            if str(level).upper() != self.compatibility:
                raise RegistryError(f"{subject} has compatibility {level}, expected "
                                    f"{self.compatibility}") from exc

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered under ``schema_id`` (retried while the registry is unreachable;
        an unknown id raises the client's SchemaRegistryError with status 404)."""
        found = self._run(f"read schema id {schema_id}", self.client.get_schema, schema_id)
        return json.loads(found.schema_str)

    def check(self) -> None:
        """Reach the registry once; a URL that is not its Confluent-compatible API is a
        RegistryMisconfigured naming registry.url."""
        self._run("list subjects", self.client.get_subjects)
