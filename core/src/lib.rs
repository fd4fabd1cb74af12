//! healthsync-core: what every other healthsync crate stands on.
//!
//! - [`config`]: the layered configuration (defaults, TOML file, `HEALTHSYNC_*` variables,
//!   command-line flags).
//! - [`db`]: the database — the embedded PostgreSQL cluster, TimescaleDB, migrations and
//!   readiness.
//! - [`ids`], [`users`], [`devices`], [`services`]: identities and the registries of people,
//!   devices and internal service principals.
//! - [`api_keys`]: issuing and verifying API keys (keyed hashes, constant-time checks);
//!   [`secrets`]: the server secrets behind them and behind access tokens.
//! - [`audit`]: the hash-chained audit log of access to patient data.
//! - [`catalog`]: the metric catalog (LOINC, UCUM, possible bounds, device kinds).
//! - [`telemetry`]: the device wire format v1 — decoding, per-reading validation, acks.
//! - [`status`]: the device status reports on `devices/{id}/status`.
//! - `test_support` (feature `test-support`): the integration-test harness, one fresh
//!   database per test on a shared embedded cluster.

pub mod api_keys;
pub mod audit;
pub mod catalog;
pub mod config;
pub mod db;
pub mod devices;
pub mod ids;
pub mod secrets;
pub mod services;
pub mod status;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod users;
