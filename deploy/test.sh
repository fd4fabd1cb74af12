#!/usr/bin/env bash
# deploy/test.sh — the whole test suite on a fresh machine: installs prerequisites
# (deploy/setup.sh), then runs every test of the workspace against a real embedded
# PostgreSQL + TimescaleDB cluster, and stops that cluster afterwards.
#
# Extra arguments go to `cargo test` (e.g. `deploy/test.sh -p healthsync-api`).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/setup.sh

# One shared cluster for the run, in a place the unprivileged `postgres` user can reach
# even when the checkout lives under a private home directory.
export HEALTHSYNC_TEST_DATA_DIR="${HEALTHSYNC_TEST_DATA_DIR:-/tmp/healthsync-test-$(id -u)-$(printf %s "$PWD" | cksum | cut -d' ' -f1)}"
mkdir -p "$HEALTHSYNC_TEST_DATA_DIR"
chmod 755 "$HEALTHSYNC_TEST_DATA_DIR"

stop_test_cluster() {
  if [ -x target/debug/healthsync ]; then
    target/debug/healthsync db stop --data-dir "$HEALTHSYNC_TEST_DATA_DIR" >/dev/null 2>&1 || true
  fi
}
trap stop_test_cluster EXIT

log="$(mktemp)"
set +e
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line with the totals of every test binary.
awk '/^test result:/ {
       for (i = 1; i < NF; i++) {
         if ($(i + 1) ~ /^passed/) passed += $i
         if ($(i + 1) ~ /^failed/) failed += $i
         if ($(i + 1) ~ /^ignored/) skipped += $i
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
rm -f "$log"
exit "$status"
