#!/usr/bin/env bash
# deploy/bench-alerts.sh — the alert latency benchmark on this machine: installs
# prerequisites (deploy/setup.sh), builds healthsync in release mode and runs
# `healthsync bench alerts`, which starts a fresh platform in its own process, carries a
# background load of smartwatches, and measures for 300 alerts the time from the committed
# reading to the alert event (p50/p95/p99). The report goes to deploy/bench-results/alerts.md.
#
# Extra arguments go to `healthsync bench alerts` (e.g. `--background-rate 40000`).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
cargo build --release --bin healthsync
mkdir -p deploy/bench-results
exec target/release/healthsync bench alerts "$@" --report deploy/bench-results/alerts.md
