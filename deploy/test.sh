#!/usr/bin/env bash
# The test command: installs what is missing, starts the embedded stack the integration tests
# run against (real MariaDB, Kafka, Apicurio Registry), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
pssync stack up
python3 -m pytest -p no:cacheprovider -W ignore::DeprecationWarning "$@"
