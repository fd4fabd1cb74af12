#!/usr/bin/env bash
# deploy/bench-ingest.sh — the ingest benchmark on this machine: installs prerequisites
# (deploy/setup.sh), builds healthsync in release mode and runs `healthsync bench ingest`,
# which starts a fresh platform, runs the simulator's load test at rising rates until ack
# latency or loss breaks (sustained readings/s, ack p50/p95/p99, lost, duplicates), repeats
# it at half the maximum, measures the raw binary-COPY limit of the same table in the same
# run, and pushes the same messages through Mosquitto alone. The Markdown report goes to
# deploy/bench-results/ingest.md.
#
# Extra arguments go to `healthsync bench ingest` (e.g. `--start-rate 40000 --step 30s`).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
cargo build --release --bin healthsync
mkdir -p deploy/bench-results
exec target/release/healthsync bench ingest "$@" --report deploy/bench-results/ingest.md
