//! The firmware simulator: realistic device models and patient physiology, scenarios with
//! ground truth, store-and-forward firmware behaviour, and the load tests with their reports.
//!
//! Built so far: [`broker_bench`], the broker benchmark (`healthsync bench broker`).
//! Device models, physiology, scenarios and the fleet are not built yet: see the
//! "Firmware simulator" issue.

pub mod broker_bench;
