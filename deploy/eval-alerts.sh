#!/usr/bin/env bash
# deploy/eval-alerts.sh — the alert evaluation on this machine: installs prerequisites
# (deploy/setup.sh), builds healthsync in release mode and runs `healthsync analytics eval`
# on deploy/eval/alerts.toml (21 simulated patients, 14 days, about six minutes), which
# replays the days through the real pipeline and prints per event kind: sensitivity, false
# alerts per patient-day, detection latency. The report goes to
# deploy/bench-results/alerts-eval.md.
#
# Extra arguments go to `healthsync analytics eval` (e.g. `--seed 2`).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh
cargo build --release --bin healthsync
mkdir -p deploy/bench-results
exec target/release/healthsync analytics eval --scenario deploy/eval/alerts.toml "$@" \
  --report deploy/bench-results/alerts-eval.md
