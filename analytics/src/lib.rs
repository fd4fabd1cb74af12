//! Streaming analytics over committed readings: threshold, NEWS2, baseline and device-health
//! detectors with alarm-fatigue controls, the alert lifecycle, and the symptom assistant.
//!
//! Not built yet: see the "Analytics and clinical alerts" and "AI symptom assistant" issues.
