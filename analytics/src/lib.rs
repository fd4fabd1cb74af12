//! Streaming analytics over committed readings: threshold, NEWS2, baseline and device-health
//! detectors with alarm-fatigue controls, and the alert lifecycle.
//!
//! - [`engine`]: per-patient streaming state and every detector, pure and synchronous;
//!   [`condition`] (persistence, hysteresis), [`window`] (bounded windows and their
//!   statistics), [`news2`] (the score), [`baseline`] (resting heart rate against the
//!   patient's own days) and [`rules`] (defaults and per-patient overrides) serve it.
//! - [`alert`]: what an alert is; [`store`]: alerts, notifications, escalation and the
//!   engine's saved state in the database.
//! - [`service`]: the running task that feeds the engine from ingest, stores what it
//!   decides and publishes every alert change.
//! - [`assistant`]: the symptom assistant: knowledge base, sentence embeddings, evidence
//!   extraction, reasoning and triage, conversation turns, evaluation. Its API is not
//!   built yet: see the "AI symptom assistant" issue.

pub mod alert;
pub mod assistant;
pub mod baseline;
pub mod condition;
pub mod engine;
pub mod news2;
pub mod rules;
pub mod service;
pub mod store;
pub mod window;
