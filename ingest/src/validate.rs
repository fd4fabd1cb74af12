//! The validate stage: decodes each message's envelope and checks its readings against
//! the metric catalog, for the device that sent it; decodes status reports.

use std::sync::Arc;

use chrono::Duration;
use healthsync_core::status::{self, StatusReport};
use healthsync_core::telemetry::{self, Context};
use tokio::sync::mpsc;

use crate::directory::{DeviceInfo, Directory};
use crate::message::{
    Checked, CheckedStatus, Incoming, InvalidStatus, Outcome, Refused, Topic, Validated,
};
use crate::replies::Replies;

/// Rejected payloads are kept up to this many bytes.
const MAX_RAW_KEPT: usize = 8 * 1024;

pub async fn run(
    mut incoming: mpsc::Receiver<Incoming>,
    checked: mpsc::Sender<Checked>,
    directory: Arc<Directory>,
    replies: Replies,
    retention: Duration,
) {
    while let Some(message) = incoming.recv().await {
        metrics::gauge!("healthsync_ingest_queue_incoming").set(incoming.len() as f64);
        let info = loop {
            match directory.get(message.device).await {
                Ok(info) => break info,
                Err(e) => {
                    // The database is down: hold this message (and, through the full
                    // queue, the source) until it is back.
                    tracing::warn!(%e, "cannot look up device; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
        };
        let Some(info) = info else {
            tracing::warn!(device = %message.device, topic = ?message.topic, "message from an unknown or revoked device");
            metrics::counter!("healthsync_ingest_messages_refused_total", "code" => "unknown_device")
                .increment(1);
            replies.send(message.device, message.reply, Outcome::UnknownDevice);
            continue;
        };
        let next = match message.topic {
            Topic::Telemetry => check_telemetry(message, info, retention),
            Topic::Status => check_status(message, info),
        };
        if checked.send(next).await.is_err() {
            return;
        }
    }
}

fn check_telemetry(message: Incoming, info: DeviceInfo, retention: Duration) -> Checked {
    match telemetry::decode(&message.payload) {
        Ok(decoded) => {
            let context = Context::now(info.kind, retention);
            let (readings, rejections) = telemetry::validate(&decoded.readings, &context);
            Checked::Valid(Validated {
                device: message.device,
                patient: info.patient,
                seq: decoded.seq,
                battery: decoded.battery,
                readings,
                rejections,
                received_at: message.received_at,
                reply: message.reply,
            })
        }
        Err(e) => Checked::Refused(Refused {
            device: message.device,
            code: e.code(),
            message: e.to_string(),
            raw: truncated(&message.payload),
            received_at: message.received_at,
            reply: message.reply,
        }),
    }
}

fn check_status(message: Incoming, info: DeviceInfo) -> Checked {
    let report = status::decode(&message.payload)
        .map(storable)
        .map_err(|e| InvalidStatus {
            message: e.to_string(),
            raw: truncated(&message.payload),
        });
    Checked::Status(CheckedStatus {
        device: message.device,
        patient: info.patient,
        report,
        received_at: message.received_at,
        reply: message.reply,
    })
}

/// PostgreSQL refuses NUL in `jsonb` strings, and one refused row would fail its whole batch
/// again at every retry.
fn storable(mut report: StatusReport) -> StatusReport {
    if let Some(message) = &mut report.message
        && message.contains('\0')
    {
        *message = message.replace('\0', "\u{fffd}");
    }
    report
}

/// The payload as kept in the rejection log: lossy UTF-8, at most [`MAX_RAW_KEPT`] bytes,
/// and NUL replaced, which PostgreSQL's `text` refuses (and a refused row would fail its
/// whole batch again at every retry).
fn truncated(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(&payload[..payload.len().min(MAX_RAW_KEPT)]);
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text.into_owned()
    }
}
