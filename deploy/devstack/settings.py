from pathlib import Path
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent
PRESTASHOP_FIXTURES_DIR = REPO_ROOT / "deploy" / "prestashop"


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSSYNC_STACK_", extra="ignore")

    dir: Path = REPO_ROOT / ".stack"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    registry_port: int = 8081
    registry_management_port: int = 9001
    # Kafka Connect worker (Debezium's connectors, on demand: deploy/devstack/connect.py).
    connect_port: int = 8083
    mariadb_port: int = 3307
    mysql_user: str = "pssync"
    mysql_password: str = "pssync"
    database: str = "prestashop"
    table_prefix: str = "ps_"
    kafka_version: str = "3.9.2"
    apicurio_version: str = "3.3.3"
    registry_storage: Literal["kafkasql", "sql"] = "kafkasql"
    fixtures_dir: Path = PRESTASHOP_FIXTURES_DIR
    java_home: Path | None = None
    tryton_port: int = 8000
    tryton_database: str = "tryton"
    tryton_user: str = "admin"
    tryton_password: str = "admin"
    # Minor line of trytond (pyproject `tryton` extra) and of the tryton/tryton image in docker-compose.yml.
    tryton_version: str = "8.2"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    @property
    def ccompat_url(self) -> str:
        return f"{self.registry_url}/apis/ccompat/v7"

    @property
    def tryton_url(self) -> str:
        return f"http://127.0.0.1:{self.tryton_port}"

    @property
    def tryton_rpc_url(self) -> str:
        """JSON-RPC endpoint of the database (trytond 8.x: POST /<db>/rpc/)."""
        return f"{self.tryton_url}/{self.tryton_database}/rpc/"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.dir / "run"

    @property
    def downloads_dir(self) -> Path:
        return self.dir / "downloads"

    def mysql_params(self, database: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.mariadb_port,
            "user": self.mysql_user,
            "password": self.mysql_password,
            "charset": "utf8mb4",
        }
        if database:
            params["database"] = database
        return params
