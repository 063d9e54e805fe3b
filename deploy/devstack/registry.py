import logging
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import httpx

from .errors import StackError
from .kafka import broker_reachable
from .service import Service
from .settings import StackSettings
from .tools import require, require_java, run_logged

log = logging.getLogger("devstack")

GROUP_ID = "io.apicurio"
ARTIFACT_ID = "apicurio-registry-app"
# C1-only JIT and serial GC: ~30% faster start on 2 cores; the registry serves little traffic.
JVM_OPTS = ["-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]
CONTAINER_HTTP_PORT = 8080


def archive_name(version: str) -> str:
    return f"{ARTIFACT_ID}-{version}-all.tar.gz"


def archive_path(settings: StackSettings) -> Path:
    return settings.downloads_dir / archive_name(settings.apicurio_version)


def install_dir(settings: StackSettings) -> Path:
    return settings.dir / "apicurio" / settings.apicurio_version


def work_dir(settings: StackSettings) -> Path:
    return settings.dir / "apicurio" / "data"


def render_registry_properties(settings: StackSettings) -> dict[str, str]:
    """Apicurio storage configuration (the docker-compose service uses the same kind)."""
    props = {"apicurio.storage.kind": settings.registry_storage}
    if settings.registry_storage == "kafkasql":
        props["apicurio.kafkasql.bootstrap.servers"] = settings.kafka_bootstrap
    else:
        props["apicurio.storage.sql.kind"] = "h2"
        props["apicurio.datasource.url"] = f"jdbc:h2:file:{work_dir(settings) / 'registry'};DB_CLOSE_ON_EXIT=FALSE"
    return props


def required_java(root: Path, fallback: int = 21) -> int:
    """Java release the registry classes were compiled for (class-file major version - 44)."""
    app_jar = next(iter(sorted((root / "app").glob("*.jar"))), None)
    if app_jar is None:
        return fallback
    with zipfile.ZipFile(app_jar) as jar:
        for name in jar.namelist():
            if name.startswith("io/apicurio/") and name.endswith(".class"):
                with jar.open(name) as handle:
                    header = handle.read(8)
                return int.from_bytes(header[6:8], "big") - 44
    return fallback


def find_runner(root: Path) -> Path | None:
    direct = root / "quarkus-run.jar"
    if direct.is_file():
        return direct
    return next(iter(sorted(root.rglob("quarkus-run.jar"))), None)


class Registry(Service):
    name = "registry"
    start_timeout = 180.0
    stop_timeout = 30.0

    def marker(self) -> str:
        return str(install_dir(self.settings))

    def ports(self) -> list[tuple[int, str]]:
        return [
            (self.settings.registry_port, "registry_port"),
            (self.settings.registry_management_port, "registry_management_port"),
        ]

    def address(self) -> str:
        return self.settings.registry_url

    def data_dirs(self) -> list[Path]:
        return [work_dir(self.settings)]

    def cwd(self) -> Path:
        return work_dir(self.settings)

    def _java(self) -> str:
        runner = find_runner(install_dir(self.settings))
        minimum = required_java(runner.parent) if runner else 17
        return require_java(f"Apicurio Registry {self.settings.apicurio_version}", minimum, self.settings.java_home)

    def prerequisites(self) -> None:
        self._java()
        if self.settings.registry_storage == "kafkasql" and not broker_reachable(self.settings.kafka_bootstrap):
            raise StackError(
                f"the registry keeps its data in Kafka (kafkasql) but no broker answers on "
                f"{self.settings.kafka_bootstrap}: start Kafka first (`up` starts both in order)"
            )

    def prepare(self) -> None:
        self._download()
        self._unpack()
        for sub in ("snapshots", "import", "tmp"):
            (work_dir(self.settings) / sub).mkdir(parents=True, exist_ok=True)

    def _download(self) -> None:
        archive = archive_path(self.settings)
        if archive.is_file() or find_runner(install_dir(self.settings)):
            return
        version = self.settings.apicurio_version
        mvn = require("mvn", f"downloading Apicurio Registry {version}")
        log.info("registry: fetching %s:%s:%s (about 160 MB, cached in ~/.m2)", GROUP_ID, ARTIFACT_ID, version)
        self.settings.downloads_dir.mkdir(parents=True, exist_ok=True)
        run_logged(
            [mvn, "-B", "-q", "-Dstyle.color=never", "dependency:copy",
             f"-Dartifact={GROUP_ID}:{ARTIFACT_ID}:{version}:tar.gz:all",
             f"-DoutputDirectory={self.settings.downloads_dir}"],
            what=f"downloading Apicurio Registry {version} with Maven",
            log=self.settings.logs_dir / "registry-download.log",
            cwd=self.settings.downloads_dir,
        )
        if not archive.is_file():
            raise StackError(f"Maven finished but {archive} is missing; see {self.settings.logs_dir / 'registry-download.log'}")

    def _unpack(self) -> None:
        target = install_dir(self.settings)
        if find_runner(target):
            return
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        log.info("registry: unpacking %s into %s", archive_path(self.settings).name, target)
        with tarfile.open(archive_path(self.settings)) as tar:
            tar.extractall(staging, filter="data")
        if find_runner(staging) is None:
            shutil.rmtree(staging, ignore_errors=True)
            raise StackError(f"no quarkus-run.jar inside {archive_path(self.settings)}: is the archive complete?")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)

    def command(self) -> list[str]:
        runner = find_runner(install_dir(self.settings))
        if runner is None:
            raise StackError(f"quarkus-run.jar not found under {install_dir(self.settings)}")
        work = work_dir(self.settings)
        system_props = {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": str(self.settings.registry_port),
            "quarkus.management.host": "127.0.0.1",
            "quarkus.management.port": str(self.settings.registry_management_port),
            "apicurio.storage.snapshot.location": str(work / "snapshots"),
            "apicurio.import.work-dir": str(work / "import"),
            "java.io.tmpdir": str(work / "tmp"),
            # Startup polls the snapshots topic twice with this timeout (default 5 s each).
            "apicurio.kafkasql.consumer.poll.timeout": "1000",
            **render_registry_properties(self.settings),
        }
        return [
            self._java(), *JVM_OPTS,
            *(f"-D{key}={value}" for key, value in system_props.items()),
            "-jar", str(runner),
        ]

    def ready(self) -> bool:
        response = httpx.get(f"{self.settings.ccompat_url}/subjects", timeout=3.0)
        return response.status_code == 200
