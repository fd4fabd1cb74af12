//! The firmware simulator: realistic device models and patient physiology, scenarios with
//! ground truth, store-and-forward firmware behaviour, and the load test with its report.
//!
//! Not built yet: see the "Firmware simulator" issue.
