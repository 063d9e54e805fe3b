import re

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
    config.write_text("mysql:\n  password: [987654321]\n  port: 99999999\nerp:\n  webhook:\n    secret: [123456789]\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "mysql.password" in message and "erp.webhook.secret" in message
    assert "987654321" not in message and "123456789" not in message
    assert "99999999" in message            # a value that is no secret is still shown


# ---- PSSYNC_* variables that name no setting --------------------------------------------------------
@pytest.mark.parametrize("variable, nearest", [
    ("PSSYNC_MYSQL_PORT", "PSSYNC_MYSQL__PORT"),          # one underscore between the levels
    ("PSSYNC_MYSQLL__PORT", "PSSYNC_MYSQL__PORT"),        # unknown section
    ("PSSYNC_MYSQL__PROT", "PSSYNC_MYSQL__PORT"),         # unknown key
    ("PSSYNC_MYSQL__PORT__X", "PSSYNC_MYSQL__PORT"),      # below a plain value
    ("PSSYNC_ERP__TRYTN__PASSWORD", "PSSYNC_ERP__TRYTON__PASSWORD"),
    ("pssync_capture_name", "PSSYNC_CAPTURE__NAME"),      # names are matched case-insensitively
])
def test_a_variable_naming_no_setting_is_refused_with_the_nearest_name(monkeypatch, variable, nearest):
    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    monkeypatch.setenv(variable, "3307")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert variable in message and f"did you mean {nearest}?" in message
    assert "3307" not in message                          # a value may be a secret


def test_a_variable_near_nothing_lists_the_sections(monkeypatch):
    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    monkeypatch.setenv("PSSYNC_ZZZ", "1")
    with pytest.raises(ConfigError, match=r"PSSYNC_ZZZ names no setting .*sections: MYSQL, KAFKA"):
        load_settings()


def test_settings_and_the_projects_own_variables_are_accepted(monkeypatch):
    from pssync.environment import NOT_SETTINGS

    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    for name in NOT_SETTINGS - {"PSSYNC_CONFIG"}:
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("PSSYNC_STACK_MARIADB_PORT", "3307")            # the embedded stack's settings
    monkeypatch.setenv("PSSYNC_MYSQL__PORT", "3311")
    monkeypatch.setenv("PSSYNC_ERP__WEBHOOK__SECRET", "s")              # below an optional section
    monkeypatch.setenv("PSSYNC_ERP__TRYTON__PASSWORD", "p")             # below a free mapping
    monkeypatch.setenv("PSSYNC_KAFKA__CLIENT_CONFIG__CLIENT.ID", "c")
    monkeypatch.setenv("PSSYNC_STREAMS__ERP_ORDER_STATES__DONE", "PS_OS_DELIVERED")
    monkeypatch.setenv("PSSYNC_CAPTURE", '{"name": "other"}')           # a whole section as JSON
    settings = load_settings()
    assert settings.mysql.port == 3311 and settings.capture.name == "other"
    assert settings.erp.tryton == {"password": "p"}


MISTAKES = {"README.md", "environment.py", "test_settings.py", "test_config_errors.py"}   # spell names wrong on purpose


def test_every_pssync_variable_the_project_reads_is_known():
    """A variable read somewhere in the repository (not a setting) must be in the one list, or
    every command refuses to start where it is set. (The tests of configuration mistakes, which
    spell names wrong on purpose, are left out.)"""
    import re
    import subprocess
    from pathlib import Path

    from pssync.environment import NOT_SETTINGS, NOT_SETTINGS_PREFIXES, unknown_variables
    from pssync.settings import Settings

    root = Path(__file__).parents[3]
    files = subprocess.run(["git", "-C", str(root), "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    found = set()
    for name in files:
        path = root / name
        if path.name in MISTAKES or path.suffix not in {".py", ".sh", ".yml", ".yaml", ".md", ".toml"}:
            continue
        if path.is_file():
            found |= set(re.findall(r"PSSYNC_[A-Z0-9_]*[A-Z0-9]", path.read_text(errors="replace")))
    found = {n for n in found if not n.startswith(NOT_SETTINGS_PREFIXES) and n != "PSSYNC_STACK"}
    assert not unknown_variables({n: "" for n in found}, Settings), sorted(found - NOT_SETTINGS)


# ---- the config file's YAML ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, where, what", [
    ("mysql:\n\tport: 3307\n", "line 2 column 1", "never tabs"),
    ("capture:\n  tables: [orders\n", "line 3 column 1",
     "expected ',' or ']'.*in the flow sequence that starts at line 2 column 11"),
    ("mysql:\n  port: 3307\n  port: 3308\n", "line 3 column 3", "'port' is given twice"),
    ("mysql:\n  port: 1\n port: 2\n", "line 3 column 2", "expected <block end>"),
])
def test_bad_yaml_is_one_line_naming_file_line_and_column(tmp_path, monkeypatch, text, where, what):
    monkeypatch.setenv("PSSYNC_CONFIG", "")
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"config file {config}: {where}: ")
    assert re.search(what, message), message


def test_a_config_file_that_is_no_mapping_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PSSYNC_CONFIG", "")
    config = tmp_path / "list.yaml"
    config.write_text("- mysql\n")
    with pytest.raises(ConfigError, match="the top level must map sections"):
        load_settings(config)


def test_pssync_config_naming_a_missing_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PSSYNC_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="PSSYNC_CONFIG names .*nope.yaml, which is not a file"):
        load_settings()


def test_one_bad_value_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PSSYNC_CONFIG", "")
    config = tmp_path / "c.yaml"
    config.write_text("mysql:\n  port: 99999999\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == ("invalid configuration: mysql.port: Input should be less than or equal to "
                                 "65535 (got 99999999) [file key 'mysql.port' or env PSSYNC_MYSQL__PORT]")


# ---- secrets written as numbers ---------------------------------------------------------------------
def test_a_secret_written_as_a_number_is_the_text_as_written(tmp_path, monkeypatch):
    from pssync.erp.registry import adapter_settings

    monkeypatch.setenv("PSSYNC_CONFIG", "")
    config = tmp_path / "c.yaml"
    config.write_text("mysql:\n  password: 987654321\n  port: 3310\n"
                      "registry:\n  basic_auth_user_info: 12345\n"
                      "kafka:\n  client_config: {sasl.password: 1.50, linger.ms: 5}\n"
                      "erp:\n  webhook: {secret: 0123}\n  tryton: {password: 0x1F, timeout: 5}\n"
                      "sinks:\n  webservice: {url: 'https://shop.example/api', key: 1e5}\n")
    settings = load_settings(config)
    assert settings.mysql.password == "987654321" and settings.mysql.port == 3310
    assert settings.registry.basic_auth_user_info == "12345"
    assert settings.kafka.client_config == {"sasl.password": "1.50", "linger.ms": 5}   # not 1.5
    assert settings.erp.webhook.secret.get_secret_value() == "0123"                   # not 83 (octal)
    tryton = adapter_settings("tryton", settings.erp.options())
    assert tryton.password.get_secret_value() == "0x1F" and tryton.timeout == 5       # not 31
    assert settings.sinks.webservice.key.get_secret_value() == "1e5"


def test_a_whole_number_given_for_a_secret_in_code_is_its_text(monkeypatch):
    from pssync.erp.registry import adapter_settings

    monkeypatch.delenv("PSSYNC_CONFIG", raising=False)
    assert load_settings(mysql={"password": 987654321}).mysql.password == "987654321"
    assert adapter_settings("tryton", {"password": 987654321}).password.get_secret_value() == "987654321"
    assert adapter_settings("oracle_fusion", {
        "base_url": "https://erp.example", "token_url": "https://erp.example/token", "client_id": "c",
        "client_secret": 42, "organization_code": "M1", "source_transaction_system": "PS",
        "business_unit": "BU"}).client_secret.get_secret_value() == "42"


def test_numbers_in_the_rules_and_mapping_files_stay_numbers(tmp_path):
    from pssync.config_file import read_yaml_file

    path = tmp_path / "mapping.yaml"
    path.write_text("key: 5\n")
    assert read_yaml_file(path, "streams.order_mapping:") == {"key": 5}
