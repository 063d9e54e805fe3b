import pytest

from pssync.settings import ConfigError, load_settings


def test_env_overrides_file(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mysql:\n  port: 3310\ncapture:\n  tables: [orders]\n")
    monkeypatch.setenv("PSSYNC_MYSQL__PORT", "3311")
    s = load_settings(cfg)
    assert s.mysql.port == 3311
    assert s.capture.tables == ["orders"]


def test_bad_values_are_named_with_their_key_and_env_var(monkeypatch):
    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    monkeypatch.setenv("PSSYNC_CAPTURE__DATETIME_ZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "capture.datetime_zone" in str(err.value)
    assert "PSSYNC_CAPTURE__DATETIME_ZONE" in str(err.value)
    assert "Mars/Olympus" in str(err.value)


def test_unknown_key_is_refused(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mysql:\n  hots: x\n")
    with pytest.raises(ConfigError, match="mysql.hots"):
        load_settings(cfg)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_the_example_config_is_valid_and_builds_its_erp_settings(monkeypatch):
    from pathlib import Path

    from pssync.erp.registry import adapter_settings

    example = Path(__file__).parents[3] / "deploy" / "config.example.yaml"
    settings = load_settings(example)
    assert settings.capture.tables[0] == "orders"
    tryton = adapter_settings(settings.erp.kind, settings.erp.options())
    assert tryton.sale_state == "confirmed"
    assert "password=SecretStr('**********')" in repr(tryton)   # the password stays hidden


def test_bad_erp_options_name_the_key():
    from pssync.erp.registry import adapter_settings

    with pytest.raises(ConfigError, match="erp.tryton.sale_state"):
        adapter_settings("tryton", {"sale_state": "shipped"})
    with pytest.raises(ConfigError, match="unknown ERP 'sap'"):
        adapter_settings("sap", {})


def test_sink_settings_refuse_what_cannot_work():
    import pytest

    from pssync.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="sinks.echo_table"):
        load_settings(sinks={"echo_table": "pssync_echo; DROP TABLE x"})
    with pytest.raises(ConfigError, match="webservice"):
        load_settings(sinks={"prestashop_mode": "webservice"})


def test_empty_config_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PSSYNC_CONFIG", "")       # restored afterwards: load_settings sets it
    cfg = tmp_path / "empty.yaml"
    for text in ("", "# only a comment\n\n"):
        cfg.write_text(text)
        with pytest.raises(ConfigError, match="is empty"):
            load_settings(cfg)


def test_no_secret_given_in_a_wrong_shape_appears_in_the_message(tmp_path, monkeypatch):
    from pssync.settings import ConfigError, load_settings

    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    config = tmp_path / "pssync.yaml"
    config.write_text("mysql:\n  password: 987654321\n  port: 99999999\nerp:\n  webhook:\n    secret: 123456789\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "mysql.password" in message and "erp.webhook.secret" in message
    assert "987654321" not in message and "123456789" not in message
    assert "99999999" in message            # a value that is no secret is still shown
