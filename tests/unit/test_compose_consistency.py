"""docker-compose.yml must describe the same stack as the Docker-less one in deploy/devstack."""
import configparser
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
try:
    from pssync import devstack  # noqa: F401
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(REPO / "deploy"))

from pssync.devstack.kafka import parse_properties, render_server_properties  # noqa: E402
from pssync.devstack.mariadb import DATABASE_PRIVILEGES, GLOBAL_PRIVILEGES, parse_cnf, render_my_cnf  # noqa: E402
from pssync.devstack.registry import CONTAINER_HTTP_PORT, render_registry_properties  # noqa: E402
from pssync.devstack.settings import StackSettings  # noqa: E402
from pssync.devstack.tryton import CONTAINER_DATABASE_PATH, TRYTON_MODULES, render_trytond_conf  # noqa: E402
from pssync.devstack.tryton import CONTAINER_PORT as TRYTON_CONTAINER_PORT  # noqa: E402

# Paths and addresses differ between a container and the host by design.
KAFKA_HOST_SPECIFIC = {"listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs",
                       "listener.security.protocol.map"}
MARIADB_HOST_SPECIFIC = {"port", "bind_address", "socket", "datadir", "pid_file", "log_error", "log_bin"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> StackSettings:
    # Defaults only: environment overrides (PSSYNC_STACK_*) must not leak into the comparison.
    return StackSettings.model_construct(dir=tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


def env(svc: dict[str, Any]) -> dict[str, str]:
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def port_map(svc: dict[str, Any]) -> dict[int, int]:
    mapping = {}
    for entry in svc.get("ports", []):
        host, container = str(entry).rsplit(":", 2)[-2:]
        mapping[int(host)] = int(container.split("/")[0])
    return mapping


def listeners(value: str) -> dict[str, tuple[str, int]]:
    result = {}
    for item in value.split(","):
        name, address = item.split("://", 1)
        host, port = address.rsplit(":", 1)
        result[name] = (host, int(port))
    return result


def kafka_env_key(prop: str) -> str:
    return "KAFKA_" + prop.replace("_", "__").replace(".", "_").upper()


def test_services_present(compose: dict[str, Any]) -> None:
    assert {"kafka", "registry", "mariadb", "tryton", "tryton-init"} <= set(compose["services"])


def test_images_follow_pinned_versions(compose: dict[str, Any], settings: StackSettings) -> None:
    assert service(compose, "kafka")["image"] == f"apache/kafka:{settings.kafka_version}"
    assert service(compose, "registry")["image"] == f"apicurio/apicurio-registry:{settings.apicurio_version}"
    assert service(compose, "mariadb")["image"].split(":")[1].startswith("10.11")
    assert service(compose, "tryton")["image"] == f"tryton/tryton:{settings.tryton_version}"
    assert service(compose, "tryton-init")["image"] == service(compose, "tryton")["image"]


def test_kafka_listeners_and_ports(compose: dict[str, Any], settings: StackSettings) -> None:
    kafka = service(compose, "kafka")
    kenv = env(kafka)
    native = parse_properties(render_server_properties(settings))
    native_adv = listeners(native["advertised.listeners"])["PLAINTEXT"]
    native_ctrl = listeners(native["listeners"])["CONTROLLER"]

    assert port_map(kafka).get(settings.kafka_port) == settings.kafka_port
    assert listeners(kenv["KAFKA_ADVERTISED_LISTENERS"])["PLAINTEXT"] == native_adv
    assert listeners(kenv["KAFKA_LISTENERS"])["PLAINTEXT"][1] == settings.kafka_port
    assert listeners(kenv["KAFKA_LISTENERS"])["CONTROLLER"][1] == native_ctrl[1] == settings.kafka_controller_port
    assert kenv["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith(f":{settings.kafka_controller_port}")
    assert kenv["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")[0] == native["node.id"]
    compose_map = dict(item.split(":") for item in kenv["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    native_map = dict(item.split(":") for item in native["listener.security.protocol.map"].split(","))
    assert native_map.items() <= compose_map.items()


def test_kafka_broker_settings_match(compose: dict[str, Any], settings: StackSettings) -> None:
    kenv = env(service(compose, "kafka"))
    native = parse_properties(render_server_properties(settings))
    for prop, value in native.items():
        if prop in KAFKA_HOST_SPECIFIC:
            continue
        assert kenv.get(kafka_env_key(prop)) == value, prop
    for prop in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                 "transaction.state.log.min.isr"):
        assert native[prop] == "1", prop


def test_kafka_data_persists(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    log_dir = env(kafka)["KAFKA_LOG_DIRS"]
    assert any(str(volume).endswith(f":{log_dir}") for volume in kafka.get("volumes", []))


def test_registry_matches(compose: dict[str, Any], settings: StackSettings) -> None:
    registry = service(compose, "registry")
    renv = env(registry)
    native = render_registry_properties(settings)
    ports = port_map(registry)
    assert ports.get(settings.registry_port) == CONTAINER_HTTP_PORT
    assert settings.registry_management_port in ports
    assert renv["APICURIO_STORAGE_KIND"] == native["apicurio.storage.kind"]
    if native["apicurio.storage.kind"] == "kafkasql":
        host, port = renv["APICURIO_KAFKASQL_BOOTSTRAP_SERVERS"].rsplit(":", 1)
        advertised = listeners(env(service(compose, "kafka"))["KAFKA_ADVERTISED_LISTENERS"])
        assert (host, int(port)) in advertised.values()
        assert "kafka" in registry.get("depends_on", {})


def test_mariadb_server_options_match(compose: dict[str, Any], settings: StackSettings) -> None:
    mariadb = service(compose, "mariadb")
    command = mariadb["command"]
    args = shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]
    compose_opts = {}
    for arg in args:
        key, _, value = arg.removeprefix("--").partition("=")
        compose_opts[key.replace("-", "_")] = value or "ON"
    native = parse_cnf(render_my_cnf(settings))
    assert "log_bin" in native and "log_bin" in compose_opts
    for key, value in native.items():
        if key in MARIADB_HOST_SPECIFIC:
            continue
        assert compose_opts.get(key, "").upper() == value.upper(), key
    assert port_map(mariadb).get(settings.mariadb_port) == 3306
    assert native["port"] == str(settings.mariadb_port)


def test_mariadb_account_and_fixtures(compose: dict[str, Any], settings: StackSettings) -> None:
    mariadb = service(compose, "mariadb")
    menv = env(mariadb)
    assert menv["MARIADB_DATABASE"] == settings.database
    assert menv["MARIADB_USER"] == settings.mysql_user
    assert menv["MARIADB_PASSWORD"] == settings.mysql_password
    assert menv["PSSYNC_TABLE_PREFIX"] == settings.table_prefix

    volumes = [str(volume) for volume in mariadb["volumes"]]
    init = [v for v in volumes if ":/docker-entrypoint-initdb.d/" in v]
    assert len(init) == 1
    script = REPO / init[0].split(":")[0]
    assert script.is_file()
    fixtures_mount = [v for v in volumes if v.split(":")[0].rstrip("/") in ("./deploy/prestashop", "deploy/prestashop")]
    assert len(fixtures_mount) == 1
    assert fixtures_mount[0].split(":")[1] == menv["PSSYNC_FIXTURES_DIR"]

    text = script.read_text()
    assert "PREFIX_" in text and "PSSYNC_TABLE_PREFIX" in text
    for privilege in [*DATABASE_PRIVILEGES, *GLOBAL_PRIVILEGES]:
        assert privilege in text, privilege


def trytond_conf(settings: StackSettings) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(render_trytond_conf(settings))
    return parser


def test_tryton_server_matches(compose: dict[str, Any], settings: StackSettings) -> None:
    tryton = service(compose, "tryton")
    tenv = env(tryton)
    native = trytond_conf(settings)
    assert native["web"]["listen"] == f"127.0.0.1:{settings.tryton_port}"
    assert port_map(tryton).get(settings.tryton_port) == TRYTON_CONTAINER_PORT
    assert tenv["TRYTOND_DATABASE__URI"] == native["database"]["uri"] == "sqlite://"
    assert tenv["TRYTOND_DATABASE__LANGUAGE"] == native["database"]["language"]
    # The devstack starts `trytond -d <db>`; the image reads the same from TRYTOND_DATABASE_NAMES.
    assert tenv["TRYTOND_DATABASE_NAMES"] == settings.tryton_database
    assert tenv["TRYTOND_DATABASE__PATH"] == CONTAINER_DATABASE_PATH
    assert any(str(v).endswith(f":{CONTAINER_DATABASE_PATH}") for v in tryton.get("volumes", []))
    assert tryton["depends_on"]["tryton-init"]["condition"] == "service_completed_successfully"


def test_tryton_init_activates_the_same_modules(compose: dict[str, Any], settings: StackSettings) -> None:
    init = service(compose, "tryton-init")
    assert env(init) == env(service(compose, "tryton"))
    assert init.get("volumes") == service(compose, "tryton").get("volumes")
    command = " ".join(str(part) for part in init["command"])
    admin = re.search(r"trytond-admin (.*?)(?:&&|;|$)", command)
    assert admin, command
    args = shlex.split(admin.group(1))
    assert args[args.index("-d") + 1] == settings.tryton_database
    assert "--all" in args and "--activate-dependencies" in args
    modules = args[args.index("-u") + 1:]
    assert set(TRYTON_MODULES) <= {m for m in modules if not m.startswith("-")}
    assert f"echo {settings.tryton_password} > " in command


def test_tryton_extra_pins_the_image_minor(settings: StackSettings) -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = {re.split(r"[<>=!~ \[]", req, maxsplit=1)[0]: req for req in extras["tryton"]}
    assert {"trytond", "trytond-sale", "trytond-stock", "proteus"} <= set(pins)
    major, minor = (int(part) for part in settings.tryton_version.split("."))
    for name, requirement in pins.items():
        assert f">={major}.{minor}" in requirement and f"<{major}.{minor + 1}" in requirement, requirement
