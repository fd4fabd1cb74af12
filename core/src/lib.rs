//! healthsync-core: what every other healthsync crate stands on.
//!
//! - [`config`]: the layered configuration (defaults, TOML file, `HEALTHSYNC_*` variables,
//!   command-line flags).
//! - [`db`]: the database — the embedded PostgreSQL cluster, TimescaleDB, migrations and
//!   readiness.
//! - `test_support` (feature `test-support`): the integration-test harness, one fresh
//!   database per test on a shared embedded cluster.

pub mod config;
pub mod db;
#[cfg(feature = "test-support")]
pub mod test_support;
