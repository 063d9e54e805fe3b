"""librdkafka refusing kafka.client_config: the message names the key, never a secret's value."""
from __future__ import annotations

import pytest

from pssync.bus.kafka import admin, describe_refused_config, idempotent_producer, read_committed_consumer
from pssync.settings import ConfigError, KafkaSettings


@pytest.mark.parametrize("build", [lambda s: idempotent_producer(s), lambda s: read_committed_consumer(s, "g"),
                                   lambda s: admin(s)])
def test_a_misspelt_property_is_a_config_error_naming_the_key(build):
    # refused when the client is created: nothing is connected to
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1", client_config={"securty.protocol": "SSL",
                                                                             "sasl.password": "hunter2"})
    with pytest.raises(ConfigError) as raised:
        build(settings)
    message = str(raised.value)
    assert message.startswith('kafka.client_config.securty.protocol: librdkafka refused it: No such '
                              'configuration property: "securty.protocol"')
    assert "hunter2" not in message


def test_an_invalid_value_is_named_with_librdkafkas_reason():
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1", client_config={"security.protocol": "SSLX"})
    with pytest.raises(ConfigError, match=r'^kafka.client_config.security.protocol: librdkafka refused it: '
                                          r'Invalid value "SSLX" for configuration property "security.protocol"$'):
        admin(settings)


def test_a_secret_value_quoted_back_is_hidden():
    message = describe_refused_config('Invalid value "hunter2" for configuration property "sasl.password"',
                                      {"sasl.password": "hunter2", "client.id": "x"})
    assert message == ('kafka.client_config.sasl.password: librdkafka refused it: Invalid value "<hidden>" '
                       'for configuration property "sasl.password"')


def test_a_property_named_by_its_alias_lists_the_keys():
    message = describe_refused_config('Invalid value for configuration property "queue.buffering.max.ms"',
                                      {"linger.ms": "abc", "client.id": "x"})
    assert message.startswith("kafka.client_config (one of linger.ms, client.id): librdkafka refused it: ")
