//! Telemetry wire format v1 (JSON), shared by devices, ingest and the simulator.
//!
//! ```json
//! {"seq": 1042,
//!  "readings": [
//!    {"metric": "heart_rate", "t": "2026-11-21T09:59:58Z", "v": 72},
//!    {"metric": "blood_pressure", "t": "2026-11-21T09:59:58Z", "systolic": 121, "diastolic": 79}
//!  ],
//!  "battery": 0.87}
//! ```
//!
//! `seq` rises by one per message per device; `t` is the measurement time (RFC 3339);
//! `battery` (0–1) is optional; an optional `"v": 1` names the format version. Decoding
//! happens in two steps so that one bad reading does not cost the good ones: [`decode`]
//! checks the envelope (an error there rejects the whole message), [`validate`] checks
//! each reading against the metric catalog and answers which are accepted and why the
//! others are not. Neither panics, whatever the bytes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::catalog::{Metric, Quantity};
use crate::devices::DeviceKind;

pub const FORMAT_VERSION: u64 = 1;
/// More readings than this in one message reject it (payloads are also size-limited).
pub const MAX_READINGS: usize = 1000;
/// How far ahead of the platform's clock a measurement may be (device clock skew).
pub const MAX_FUTURE: Duration = Duration::minutes(5);

/// Why a whole message was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("unsupported format version {0}; this platform speaks version 1")]
    Version(u64),
    #[error("{0} readings in one message; at most 1000")]
    TooManyReadings(usize),
}

impl DecodeError {
    /// A stable code for acks, metrics and the rejected-input log.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Json(_) => "malformed_json",
            DecodeError::Missing(_) => "missing_field",
            DecodeError::Invalid { .. } => "invalid_field",
            DecodeError::Version(_) => "unsupported_version",
            DecodeError::TooManyReadings(_) => "too_many_readings",
        }
    }
}

/// A message whose envelope is valid; its readings are still unchecked.
#[derive(Debug)]
pub struct Message<'a> {
    pub seq: u64,
    pub battery: Option<f32>,
    pub readings: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    v: Option<serde_json::Value>,
    seq: Option<serde_json::Value>,
    #[serde(borrow)]
    readings: Option<Vec<&'a RawValue>>,
    battery: Option<serde_json::Value>,
}

/// Checks a message's envelope.
pub fn decode(payload: &[u8]) -> Result<Message<'_>, DecodeError> {
    let envelope: Envelope =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?;
    if let Some(v) = envelope.v {
        match v.as_u64() {
            Some(FORMAT_VERSION) => {}
            Some(other) => return Err(DecodeError::Version(other)),
            None => {
                return Err(DecodeError::Invalid {
                    field: "v",
                    message: "must be a whole number".into(),
                });
            }
        }
    }
    let seq = envelope
        .seq
        .ok_or(DecodeError::Missing("seq"))?
        .as_u64()
        .filter(|&seq| seq <= i64::MAX as u64)
        .ok_or_else(|| DecodeError::Invalid {
            field: "seq",
            message: "must be a whole number from 0 to 2^63-1".into(),
        })?;
    let readings = envelope.readings.ok_or(DecodeError::Missing("readings"))?;
    if readings.len() > MAX_READINGS {
        return Err(DecodeError::TooManyReadings(readings.len()));
    }
    let battery = match envelope.battery {
        None | Some(serde_json::Value::Null) => None,
        Some(b) => Some(
            b.as_f64()
                .filter(|b| (0.0..=1.0).contains(b))
                .ok_or_else(|| DecodeError::Invalid {
                    field: "battery",
                    message: "must be a number from 0 to 1".into(),
                })? as f32,
        ),
    };
    Ok(Message {
        seq,
        battery,
        readings,
    })
}

/// Why one reading was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Not an object of the reading shape (wrong types, unknown fields).
    Malformed,
    UnknownMetric,
    /// The device's kind does not measure this metric.
    WrongDeviceKind,
    MissingValue,
    /// Outside what is physiologically possible, or systolic not above diastolic.
    OutOfRange,
    InvalidTime,
    /// More than 5 minutes ahead of the platform's clock.
    InFuture,
    /// Older than the retention window.
    TooOld,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Malformed => "malformed",
            RejectReason::UnknownMetric => "unknown_metric",
            RejectReason::WrongDeviceKind => "wrong_device_kind",
            RejectReason::MissingValue => "missing_value",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::InvalidTime => "invalid_time",
            RejectReason::InFuture => "in_future",
            RejectReason::TooOld => "too_old",
        }
    }
}

/// A reading that passed validation, in the catalog's units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Reading {
    pub metric: Metric,
    pub measured_at: DateTime<Utc>,
    pub value: f64,
    /// The second component (diastolic pressure) where the metric has one.
    pub value2: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// Position of the reading in the message.
    pub index: usize,
    pub reason: RejectReason,
    /// The reading as the device sent it.
    pub raw: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReading<'a> {
    metric: &'a str,
    t: &'a str,
    v: Option<f64>,
    systolic: Option<f64>,
    diastolic: Option<f64>,
}

/// What validation needs to know besides the reading.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub device_kind: DeviceKind,
    pub now: DateTime<Utc>,
    /// Readings measured before this are rejected as too old.
    pub oldest: DateTime<Utc>,
}

impl Context {
    /// Validation as of now, for a platform that keeps readings for `retention`.
    pub fn now(device_kind: DeviceKind, retention: Duration) -> Context {
        let now = Utc::now();
        Context {
            device_kind,
            now,
            oldest: now - retention,
        }
    }
}

/// Checks every reading; returns the accepted ones and the rejections, in message order.
pub fn validate(readings: &[&RawValue], context: &Context) -> (Vec<Reading>, Vec<Rejection>) {
    let mut accepted = Vec::with_capacity(readings.len());
    let mut rejected = Vec::new();
    for (index, raw) in readings.iter().enumerate() {
        match validate_one(raw.get(), context) {
            Ok(reading) => accepted.push(reading),
            Err(reason) => rejected.push(Rejection {
                index,
                reason,
                raw: raw.get().to_owned(),
            }),
        }
    }
    (accepted, rejected)
}

/// Checks one reading (given as JSON text).
pub fn validate_one(raw: &str, context: &Context) -> Result<Reading, RejectReason> {
    let reading: RawReading = serde_json::from_str(raw).map_err(|_| RejectReason::Malformed)?;
    let metric: Metric = reading
        .metric
        .parse()
        .map_err(|_| RejectReason::UnknownMetric)?;
    if !metric.may_come_from(context.device_kind) {
        return Err(RejectReason::WrongDeviceKind);
    }
    let measured_at = DateTime::parse_from_rfc3339(reading.t)
        .map_err(|_| RejectReason::InvalidTime)?
        .with_timezone(&Utc);
    if measured_at > context.now + MAX_FUTURE {
        return Err(RejectReason::InFuture);
    }
    if measured_at < context.oldest {
        return Err(RejectReason::TooOld);
    }
    let spec = metric.spec();
    let (value, value2) = match spec.value2 {
        None => {
            if reading.systolic.is_some() || reading.diastolic.is_some() {
                return Err(RejectReason::Malformed);
            }
            (reading.v.ok_or(RejectReason::MissingValue)?, None)
        }
        Some(second) => {
            if reading.v.is_some() {
                return Err(RejectReason::Malformed);
            }
            let systolic = reading.systolic.ok_or(RejectReason::MissingValue)?;
            let diastolic = reading.diastolic.ok_or(RejectReason::MissingValue)?;
            within(diastolic, &second)?;
            if systolic <= diastolic {
                return Err(RejectReason::OutOfRange);
            }
            (systolic, Some(diastolic))
        }
    };
    within(value, &spec.value)?;
    Ok(Reading {
        metric,
        measured_at,
        value,
        value2,
    })
}

fn within(value: f64, quantity: &Quantity) -> Result<(), RejectReason> {
    if value.is_finite() && (quantity.min..=quantity.max).contains(&value) {
        Ok(())
    } else {
        Err(RejectReason::OutOfRange)
    }
}

/// The device's acknowledgement: sent on `devices/{id}/ack` (or as the HTTP answer) after
/// the accepted readings are committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ack {
    pub seq: u64,
    pub accepted: usize,
    pub rejected: Vec<AckRejection>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckRejection {
    pub index: usize,
    pub reason: String,
}

impl Ack {
    pub fn new(seq: u64, accepted: usize, rejections: &[Rejection]) -> Self {
        Self {
            seq,
            accepted,
            rejected: rejections
                .iter()
                .map(|r| AckRejection {
                    index: r.index,
                    reason: r.reason.as_str().to_owned(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(kind: DeviceKind) -> Context {
        let now = "2026-11-21T10:00:00Z".parse().unwrap();
        Context {
            device_kind: kind,
            now,
            oldest: now - Duration::days(365),
        }
    }

    #[test]
    fn the_design_example_decodes() {
        let payload = br#"{"seq": 1042,
 "readings": [
   {"metric": "heart_rate", "t": "2026-11-21T09:59:58Z", "v": 72},
   {"metric": "blood_pressure", "t": "2026-11-21T09:59:58Z", "systolic": 121, "diastolic": 79}
 ],
 "battery": 0.87}"#;
        let message = decode(payload).unwrap();
        assert_eq!(message.seq, 1042);
        assert_eq!(message.battery, Some(0.87));
        let (accepted, rejected) = validate(&message.readings, &context(DeviceKind::BpMonitor));
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(accepted[0].metric, Metric::HeartRate);
        assert_eq!(accepted[0].value, 72.0);
        assert_eq!(
            (accepted[1].metric, accepted[1].value, accepted[1].value2),
            (Metric::BloodPressure, 121.0, Some(79.0))
        );
    }

    #[test]
    fn envelope_errors_are_precise() {
        let cases: [(&[u8], &str); 10] = [
            (b"", "malformed_json"),
            (b"\xff\xfe", "malformed_json"),
            (b"[]", "malformed_json"),
            (br#"{"readings": []}"#, "missing_field"),
            (br#"{"seq": 1}"#, "missing_field"),
            (br#"{"seq": -1, "readings": []}"#, "invalid_field"),
            (br#"{"seq": 1.5, "readings": []}"#, "invalid_field"),
            (
                br#"{"seq": 1, "readings": [], "battery": 1.2}"#,
                "invalid_field",
            ),
            (
                br#"{"v": 2, "seq": 1, "readings": []}"#,
                "unsupported_version",
            ),
            (
                br#"{"seq": 1, "readings": [], "extra": true}"#,
                "malformed_json",
            ),
        ];
        for (payload, code) in cases {
            let err = decode(payload).unwrap_err();
            assert_eq!(
                err.code(),
                code,
                "{:?}: {err}",
                String::from_utf8_lossy(payload)
            );
        }
        let many = format!(
            r#"{{"seq": 1, "readings": [{}]}}"#,
            vec!["{}"; MAX_READINGS + 1].join(",")
        );
        assert_eq!(
            decode(many.as_bytes()).unwrap_err().code(),
            "too_many_readings"
        );
    }

    #[test]
    fn each_reading_is_judged_on_its_own() {
        let ctx = context(DeviceKind::Smartwatch);
        let case = |raw: &str| validate_one(raw, &ctx);
        assert!(case(r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z","v":35}"#).is_ok());
        let rejected = [
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z","v":400}"#,
                RejectReason::OutOfRange,
            ),
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z","v":-1}"#,
                RejectReason::OutOfRange,
            ),
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z"}"#,
                RejectReason::MissingValue,
            ),
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z","v":"72"}"#,
                RejectReason::Malformed,
            ),
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T09:00:00Z","v":72,"x":1}"#,
                RejectReason::Malformed,
            ),
            (
                r#"{"metric":"heartrate","t":"2026-11-21T09:00:00Z","v":72}"#,
                RejectReason::UnknownMetric,
            ),
            (
                r#"{"metric":"blood_glucose","t":"2026-11-21T09:00:00Z","v":90}"#,
                RejectReason::WrongDeviceKind,
            ),
            (
                r#"{"metric":"heart_rate","t":"yesterday","v":72}"#,
                RejectReason::InvalidTime,
            ),
            (
                r#"{"metric":"heart_rate","t":"2026-11-21T10:06:00Z","v":72}"#,
                RejectReason::InFuture,
            ),
            (
                r#"{"metric":"heart_rate","t":"2024-01-01T00:00:00Z","v":72}"#,
                RejectReason::TooOld,
            ),
            (r#"42"#, RejectReason::Malformed),
        ];
        for (raw, reason) in rejected {
            assert_eq!(case(raw), Err(reason), "{raw}");
        }
        // 4 minutes ahead is clock skew, not an error.
        assert!(case(r#"{"metric":"heart_rate","t":"2026-11-21T10:04:00Z","v":72}"#).is_ok());
    }

    #[test]
    fn blood_pressure_needs_both_components_in_order() {
        let ctx = context(DeviceKind::BpMonitor);
        let case = |raw: &str| validate_one(raw, &ctx);
        let t = r#""t":"2026-11-21T09:00:00Z""#;
        assert!(
            case(&format!(
                r#"{{"metric":"blood_pressure",{t},"systolic":190,"diastolic":125}}"#
            ))
            .is_ok()
        );
        assert_eq!(
            case(&format!(
                r#"{{"metric":"blood_pressure",{t},"systolic":120}}"#
            )),
            Err(RejectReason::MissingValue)
        );
        assert_eq!(
            case(&format!(
                r#"{{"metric":"blood_pressure",{t},"systolic":80,"diastolic":90}}"#
            )),
            Err(RejectReason::OutOfRange)
        );
        assert_eq!(
            case(&format!(r#"{{"metric":"blood_pressure",{t},"v":120}}"#)),
            Err(RejectReason::Malformed)
        );
    }

    #[test]
    fn valid_readings_survive_invalid_neighbours() {
        let payload = br#"{"seq": 7, "readings": [
            {"metric": "spo2", "t": "2026-11-21T09:59:00Z", "v": 97},
            {"metric": "spo2", "t": "2026-11-21T09:59:01Z", "v": 140},
            "garbage",
            {"metric": "heart_rate", "t": "2026-11-21T09:59:02Z", "v": 64}]}"#;
        let message = decode(payload).unwrap();
        let (accepted, rejected) = validate(&message.readings, &context(DeviceKind::PulseOximeter));
        assert_eq!(accepted.len(), 2);
        let ack = Ack::new(message.seq, accepted.len(), &rejected);
        assert_eq!(
            serde_json::to_string(&ack).unwrap(),
            r#"{"seq":7,"accepted":2,"rejected":[{"index":1,"reason":"out_of_range"},{"index":2,"reason":"malformed"}]}"#
        );
        assert_eq!(rejected[1].raw, r#""garbage""#);
    }
}

/// Arbitrary and mutated input: decoding and validation answer, they never panic. (The
/// `fuzz/` targets explore the same property without bounds, where a nightly toolchain
/// exists.)
#[cfg(test)]
mod robustness {
    use super::*;

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const SEED_MESSAGE: &str = r#"{"v": 1, "seq": 1042, "readings": [{"metric": "heart_rate", "t": "2026-11-21T09:59:58Z", "v": 72}, {"metric": "blood_pressure", "t": "2026-11-21T09:59:58+01:00", "systolic": 121, "diastolic": 79}, {"metric": "spo2", "t": "2026-11-21T09:59:58.123Z", "v": 1e308}], "battery": 0.87}"#;
    const INTERESTING: [&[u8]; 12] = [
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"-",
        b"1e999",
        b"null",
        b"\\u0000",
        b"\xf0\x9f",
    ];

    fn exercise(payload: &[u8]) {
        let now = "2026-11-21T10:00:00Z".parse().unwrap();
        if let Ok(message) = decode(payload) {
            for kind in DeviceKind::ALL {
                let context = Context {
                    device_kind: kind,
                    now,
                    oldest: now - Duration::days(730),
                };
                let (accepted, rejected) = validate(&message.readings, &context);
                assert_eq!(accepted.len() + rejected.len(), message.readings.len());
                for reading in accepted {
                    let spec = reading.metric.spec();
                    assert!((spec.value.min..=spec.value.max).contains(&reading.value));
                }
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = rng.below(256);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            exercise(&bytes);
        }
    }

    #[test]
    fn mutated_messages_never_panic() {
        let mut rng = Rng(42);
        for _ in 0..20_000 {
            let mut bytes = SEED_MESSAGE.as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(3) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => {
                        let piece = INTERESTING[rng.below(INTERESTING.len())];
                        bytes.splice(at..at, piece.iter().copied());
                    }
                    _ if at < bytes.len() => bytes[at] = rng.next() as u8,
                    _ => {}
                }
            }
            exercise(&bytes);
        }
    }
}
