//! What flows between the stages: a device's raw message with the way to answer it, and
//! the same message once validated; and what the pipeline publishes once committed.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::status::StatusReport;
use healthsync_core::telemetry::{Ack, Reading, Rejection};
use serde::Serialize;
use tokio::sync::oneshot;

/// Where the device expects its answer.
#[derive(Debug)]
pub enum Reply {
    /// Published on `devices/{id}/ack`.
    Mqtt,
    /// The HTTP request waiting for its response.
    Http(oneshot::Sender<Outcome>),
    /// Published on `devices/{id}/ack` through the remote broker, which also gets this
    /// message's PUBACK only then.
    Remote(Box<rumqttc::v5::mqttbytes::v5::Publish>),
}

/// The answer to one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Stored: the accepted readings are committed.
    Stored(Ack),
    /// The envelope did not decode; nothing was stored but the rejection record.
    Refused { code: &'static str, message: String },
    /// The device is unknown or revoked.
    UnknownDevice,
}

/// A reading that is committed to the database, as analytics and live views receive it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CommittedReading {
    pub device: DeviceId,
    pub patient: UserId,
    #[serde(flatten)]
    pub reading: Reading,
}

/// A device status report that is committed (as a device event), as analytics receives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceStatusEvent {
    pub device: DeviceId,
    pub patient: UserId,
    /// When ingest received the report; the report's own `t` is the device's clock.
    pub received_at: DateTime<Utc>,
    pub report: StatusReport,
}

/// Which of a device's topics a message came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// `devices/{id}/telemetry`: readings, acked on `devices/{id}/ack`.
    Telemetry,
    /// `devices/{id}/status`: a status report; never acked (it has no `seq` to ack, and
    /// devices do not replay it).
    Status,
}

impl Topic {
    /// The device and the topic of `devices/{id}/telemetry` or `devices/{id}/status`.
    pub fn parse(topic: &[u8]) -> Option<(DeviceId, Topic)> {
        let rest = std::str::from_utf8(topic).ok()?.strip_prefix("devices/")?;
        let (device, leaf) = rest.split_once('/')?;
        let topic = match leaf {
            "telemetry" => Topic::Telemetry,
            "status" => Topic::Status,
            _ => return None,
        };
        Some((device.parse().ok()?, topic))
    }
}

/// A message as a source received it.
#[derive(Debug)]
pub struct Incoming {
    pub device: DeviceId,
    pub topic: Topic,
    pub payload: Bytes,
    pub received_at: DateTime<Utc>,
    pub reply: Reply,
}

/// A message after the validate stage, on its way to the writer.
#[derive(Debug)]
pub enum Checked {
    Valid(Validated),
    Refused(Refused),
    Status(CheckedStatus),
}

/// A message whose envelope did not decode: only its rejection record is written.
#[derive(Debug)]
pub struct Refused {
    pub device: DeviceId,
    pub code: &'static str,
    pub message: String,
    /// The payload as sent (lossy UTF-8, truncated).
    pub raw: String,
    pub received_at: DateTime<Utc>,
    pub reply: Reply,
}

/// A message whose envelope decoded, split into accepted readings and rejections.
#[derive(Debug)]
pub struct Validated {
    pub device: DeviceId,
    pub patient: UserId,
    pub seq: u64,
    pub battery: Option<f32>,
    pub readings: Vec<Reading>,
    pub rejections: Vec<Rejection>,
    pub received_at: DateTime<Utc>,
    pub reply: Reply,
}

/// A status report after the validate stage: a device event to write, or a rejection
/// record (reason `invalid_status`).
#[derive(Debug)]
pub struct CheckedStatus {
    pub device: DeviceId,
    pub patient: UserId,
    pub report: Result<StatusReport, InvalidStatus>,
    pub received_at: DateTime<Utc>,
    pub reply: Reply,
}

#[derive(Debug)]
pub struct InvalidStatus {
    pub message: String,
    /// The payload as sent (lossy UTF-8, truncated).
    pub raw: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_topics_come_from_telemetry_and_status_topics_only() {
        let id = DeviceId::new();
        assert_eq!(
            Topic::parse(format!("devices/{id}/telemetry").as_bytes()),
            Some((id, Topic::Telemetry))
        );
        assert_eq!(
            Topic::parse(format!("devices/{id}/status").as_bytes()),
            Some((id, Topic::Status))
        );
        for other in [
            format!("devices/{id}/ack"),
            format!("devices/{id}/status/x"),
            format!("devices/{id}"),
            "devices/x/telemetry".to_owned(),
            "devices//status".to_owned(),
        ] {
            assert_eq!(Topic::parse(other.as_bytes()), None, "{other}");
        }
        assert_eq!(Topic::parse(b"\xff"), None);
    }
}
