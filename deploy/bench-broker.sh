#!/usr/bin/env bash
# deploy/bench-broker.sh — the broker benchmark on this machine: installs prerequisites
# (deploy/setup.sh, which includes Mosquitto 2), builds healthsync in release mode and runs
# `healthsync bench broker`, which measures healthsync's broker and Mosquitto with the topic
# ACL on under the same load (QoS 1 msgs/s, p50/p99 latency) and their memory per idle
# connection, and writes the Markdown report to deploy/bench-results/broker.md.
#
# Extra arguments go to `healthsync bench broker` (e.g. `deploy/bench-broker.sh --devices 50
# --idle-connections 5000`). Safe to rerun: each run starts from a fresh temporary data
# directory and overwrites the report.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
cargo build --release --bin healthsync
mkdir -p deploy/bench-results
exec target/release/healthsync bench broker "$@" --report deploy/bench-results/broker.md
