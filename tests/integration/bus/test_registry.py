"""The schema registry client against the real Apicurio of the local stack."""
from __future__ import annotations

import threading
import uuid

import pytest

from pssync.bus.registry import Registry
from pssync.settings import RegistrySettings

pytestmark = pytest.mark.integration


def test_concurrent_first_registrations_of_a_subject_all_succeed(stack):
    # Apicurio answers all but one of simultaneous "set compatibility" calls on a new subject
    # with 409 "rule already exists": two capture instances starting together hit exactly that
    settings = RegistrySettings(url=stack.ccompat_url)
    for _ in range(3):
        subject = f"race-{uuid.uuid4().hex[:8]}-value"
        errors: list[Exception] = []

        def register() -> None:
            try:
                Registry(settings).ensure_compatibility(subject)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=register) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert Registry(settings).client.get_compatibility(subject) == "BACKWARD"
