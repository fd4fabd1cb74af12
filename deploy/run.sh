#!/usr/bin/env bash
# deploy/run.sh — run the platform on this machine: installs prerequisites
# (deploy/setup.sh), builds healthsync in release mode and starts `healthsync up --demo`,
# which brings up the embedded PostgreSQL + TimescaleDB, the MQTT broker, ingest, the API
# and a small simulated fleet, and prints the URLs.
#
# Extra arguments go to `healthsync up` (e.g. `deploy/run.sh --http-addr 0.0.0.0:8080`).
# The data directory defaults to ./data (override with --data-dir or HEALTHSYNC_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
cargo build --release --bin healthsync
exec target/release/healthsync up --demo "$@"
