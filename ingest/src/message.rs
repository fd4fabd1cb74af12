//! What flows between the stages: a device's raw message with the way to answer it, and
//! the same message once validated.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use healthsync_core::ids::{DeviceId, UserId};
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

/// A message as a source received it.
#[derive(Debug)]
pub struct Incoming {
    pub device: DeviceId,
    pub payload: Bytes,
    pub received_at: DateTime<Utc>,
    pub reply: Reply,
}

/// A message after the validate stage, on its way to the writer.
#[derive(Debug)]
pub enum Checked {
    Valid(Validated),
    Refused(Refused),
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
