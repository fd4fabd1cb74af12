//! The ingest pipeline: telemetry from the broker link, a remote MQTT broker or HTTP is
//! decoded, validated against the metric catalog, written to the `readings` hypertable in
//! idempotent batches, and acknowledged to the device only after commit.
//!
//! Not built yet: see the "Ingest pipeline" issue.
