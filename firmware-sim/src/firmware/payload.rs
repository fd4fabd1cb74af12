//! What the firmware puts on the wire: telemetry v1 messages and status reports, written
//! as a device would write them (compact JSON, times to the precision the device measured).

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use healthsync_core::catalog::Metric;

/// One measurement, as the firmware holds it until it is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WireReading {
    pub metric: Metric,
    /// The device clock's time of the measurement.
    pub t: DateTime<Utc>,
    pub v: f64,
    /// The diastolic pressure of a blood-pressure reading.
    pub v2: Option<f64>,
}

/// A telemetry v1 message: `{"seq":N,"readings":[...],"battery":B}`.
pub fn telemetry(seq: u64, readings: &[WireReading], battery: Option<f32>) -> Vec<u8> {
    let mut json = String::with_capacity(32 + readings.len() * 64);
    // Writing to a String cannot fail.
    let _ = write!(json, r#"{{"seq":{seq},"readings":["#);
    for (i, reading) in readings.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let t = reading.t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let metric = reading.metric.as_str();
        let _ = match reading.v2 {
            Some(v2) => write!(
                json,
                r#"{{"metric":"{metric}","t":"{t}","systolic":{},"diastolic":{v2}}}"#,
                reading.v
            ),
            None => write!(
                json,
                r#"{{"metric":"{metric}","t":"{t}","v":{}}}"#,
                reading.v
            ),
        };
    }
    json.push(']');
    if let Some(battery) = battery {
        let _ = write!(json, r#","battery":{}"#, (battery * 100.0).round() / 100.0);
    }
    json.push('}');
    json.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsync_core::devices::DeviceKind;
    use healthsync_core::telemetry::{Context, decode, validate};

    #[test]
    fn messages_decode_and_validate_on_the_platform_side() {
        let t: DateTime<Utc> = "2026-11-21T09:59:58.250Z".parse().unwrap();
        let readings = [
            WireReading {
                metric: Metric::HeartRate,
                t,
                v: 72.0,
                v2: None,
            },
            WireReading {
                metric: Metric::BloodPressure,
                t: t + chrono::Duration::microseconds(17),
                v: 121.0,
                v2: Some(79.0),
            },
        ];
        let bytes = telemetry(7, &readings, Some(0.876));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains(r#""t":"2026-11-21T09:59:58.250Z""#), "{text}");
        assert!(
            text.contains(r#""t":"2026-11-21T09:59:58.250017Z""#),
            "{text}"
        );
        let message = decode(&bytes).unwrap();
        assert_eq!((message.seq, message.battery), (7, Some(0.88)));
        let context = Context {
            device_kind: DeviceKind::BpMonitor,
            now: t,
            oldest: t - chrono::Duration::days(1),
        };
        let (accepted, rejected) = validate(&message.readings, &context);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(accepted[1].value2, Some(79.0));
        assert_eq!(accepted[1].measured_at, readings[1].t);
    }
}
