//! Device status wire format v1 (JSON), on `devices/{id}/status`: what a device says about
//! itself rather than about its wearer — a low battery, a sensor fault and its recovery, a
//! firmware error. Ingest records these as device events; analytics raises device-health
//! alerts from them.
//!
//! ```json
//! {"t": "2026-11-21T09:59:58Z", "kind": "sensor_fault", "message": "PPG sensor off wrist", "battery": 0.41}
//! ```
//!
//! `t` (RFC 3339) and `kind` are required; `message` (at most 500 characters) and `battery`
//! (0–1) are optional. Unknown fields are refused, so typos do not pass silently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest `message`, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// The battery fell below the device's warning level.
    LowBattery,
    /// A sensor stopped giving usable signal (off the skin, cuff not fitted, strip error).
    SensorFault,
    /// The sensor gives usable signal again.
    SensorOk,
    /// Any other firmware error worth an operator's attention.
    Error,
}

impl StatusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::LowBattery => "low_battery",
            StatusKind::SensorFault => "sensor_fault",
            StatusKind::SensorOk => "sensor_ok",
            StatusKind::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// The device's time of the report.
    pub t: DateTime<Utc>,
    pub kind: StatusKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<f32>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("not a valid status report: {0}")]
    Json(String),
    #[error("field `battery`: must be a number from 0 to 1")]
    Battery,
    #[error("field `message`: at most {MAX_MESSAGE_CHARS} characters")]
    MessageTooLong,
}

/// Checks a status payload. Never panics, whatever the bytes.
pub fn decode(payload: &[u8]) -> Result<StatusReport, StatusError> {
    let report: StatusReport =
        serde_json::from_slice(payload).map_err(|e| StatusError::Json(e.to_string()))?;
    if report
        .battery
        .is_some_and(|b| !(0.0..=1.0).contains(&b) || b.is_nan())
    {
        return Err(StatusError::Battery);
    }
    if report
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS)
    {
        return Err(StatusError::MessageTooLong);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips() {
        let report = StatusReport {
            t: "2026-11-21T09:59:58Z".parse().unwrap(),
            kind: StatusKind::SensorFault,
            message: Some("PPG sensor off wrist".into()),
            battery: Some(0.41),
        };
        let bytes = serde_json::to_vec(&report).unwrap();
        assert_eq!(decode(&bytes).unwrap(), report);
        let minimal = br#"{"t":"2026-11-21T09:59:58Z","kind":"low_battery"}"#;
        assert_eq!(decode(minimal).unwrap().kind, StatusKind::LowBattery);
    }

    #[test]
    fn bad_reports_are_refused_with_the_reason() {
        for bad in [
            &b"{"[..],
            br#"{"kind":"low_battery"}"#,
            br#"{"t":"yesterday","kind":"low_battery"}"#,
            br#"{"t":"2026-11-21T09:59:58Z","kind":"on_fire"}"#,
            br#"{"t":"2026-11-21T09:59:58Z","kind":"error","colour":"red"}"#,
        ] {
            assert!(matches!(decode(bad), Err(StatusError::Json(_))), "{bad:?}");
        }
        let battery = br#"{"t":"2026-11-21T09:59:58Z","kind":"low_battery","battery":1.5}"#;
        assert_eq!(decode(battery), Err(StatusError::Battery));
        let long = format!(
            r#"{{"t":"2026-11-21T09:59:58Z","kind":"error","message":"{}"}}"#,
            "x".repeat(MAX_MESSAGE_CHARS + 1)
        );
        assert_eq!(decode(long.as_bytes()), Err(StatusError::MessageTooLong));
    }
}
