//! Answers to devices, sent only after what they answer is committed: on the device's ack
//! topic for MQTT, to the waiting request for HTTP.

use std::sync::{Arc, Mutex};

use healthsync_broker::local::LinkTx;
use healthsync_core::ids::DeviceId;
use serde_json::json;

use crate::message::{Outcome, Reply};

/// Where MQTT acks go: the ingest's in-process link to the broker (absent when ingest
/// serves only HTTP).
#[derive(Clone, Default)]
pub struct Replies {
    mqtt: Option<Arc<Mutex<LinkTx>>>,
}

impl Replies {
    pub fn new(mqtt: Option<LinkTx>) -> Self {
        Self {
            mqtt: mqtt.map(|tx| Arc::new(Mutex::new(tx))),
        }
    }

    pub fn send(&self, device: DeviceId, reply: Reply, outcome: Outcome) {
        match reply {
            Reply::Http(waiting) => {
                // The requester may have gone; its message is stored all the same.
                let _ = waiting.send(outcome);
            }
            Reply::Mqtt => {
                let body = match &outcome {
                    Outcome::Stored(ack) => serde_json::to_vec(ack),
                    Outcome::Refused { code, message } => {
                        serde_json::to_vec(&json!({"error": {"code": code, "message": message}}))
                    }
                    // A device the broker let in but that is unknown here was revoked
                    // meanwhile; its session is being dropped.
                    Outcome::UnknownDevice => return,
                };
                let Some(link) = &self.mqtt else { return };
                let Ok(body) = body else { return };
                let published = link
                    .lock()
                    .expect("ack link lock")
                    .publish(format!("devices/{device}/ack"), body);
                match published {
                    Ok(_) => metrics::counter!("healthsync_ingest_acks_sent_total").increment(1),
                    Err(e) => tracing::warn!(%device, %e, "cannot publish ack"),
                }
            }
        }
    }
}
