//! The firmware simulator: realistic device models and patient physiology, scenarios with
//! ground truth, store-and-forward firmware behaviour, and the load tests with their reports.

pub mod broker_bench;
pub mod evaluation;
pub mod firmware;
pub mod fleet;
pub mod ingest_bench;
pub mod load;
pub mod models;
pub mod physiology;
pub mod profiles;
pub mod provision;
pub mod roster;
pub mod scenario;
pub mod timeline;
