//! Answers to devices, sent only after what they answer is committed: on the device's ack
//! topic for MQTT, to the waiting request for HTTP.

use std::sync::{Arc, Mutex};

use healthsync_broker::local::LinkTx;
use healthsync_core::ids::DeviceId;
use rumqttc::v5::AsyncClient;
use rumqttc::v5::mqttbytes::QoS;
use serde_json::json;

use crate::message::{Outcome, Reply};

/// Where MQTT acks go: the ingest's in-process link to the embedded broker, or its client
/// of a remote broker (neither when ingest serves only HTTP).
#[derive(Clone, Default)]
pub struct Replies {
    local: Option<Arc<Mutex<LinkTx>>>,
    remote: Option<AsyncClient>,
}

impl Replies {
    pub fn local(link: LinkTx) -> Self {
        Self {
            local: Some(Arc::new(Mutex::new(link))),
            remote: None,
        }
    }

    pub fn remote(client: AsyncClient) -> Self {
        Self {
            local: None,
            remote: Some(client),
        }
    }

    pub fn send(&self, device: DeviceId, reply: Reply, outcome: Outcome) {
        match reply {
            Reply::Http(waiting) => {
                // The requester may have gone; its message is stored all the same.
                let _ = waiting.send(outcome);
            }
            Reply::Mqtt => {
                let (Some(link), Some(body)) = (&self.local, ack_body(&outcome)) else {
                    return;
                };
                let published = link
                    .lock()
                    .expect("ack link lock")
                    .publish(format!("devices/{device}/ack"), body);
                match published {
                    Ok(_) => metrics::counter!("healthsync_ingest_acks_sent_total").increment(1),
                    Err(e) => tracing::warn!(%device, %e, "cannot publish ack"),
                }
            }
            Reply::Remote(publish) => {
                let Some(client) = &self.remote else { return };
                if let Some(body) = ack_body(&outcome) {
                    let topic = format!("devices/{device}/ack");
                    match client.try_publish(topic, QoS::AtLeastOnce, false, body) {
                        Ok(()) => {
                            metrics::counter!("healthsync_ingest_acks_sent_total").increment(1)
                        }
                        // The device replays the message later; it is stored already.
                        Err(e) => tracing::warn!(%device, %e, "cannot publish ack"),
                    }
                }
                if let Err(e) = client.try_ack(&publish) {
                    tracing::warn!(%device, %e, "cannot acknowledge to the remote broker");
                }
            }
        }
    }

    /// Closes a message that gets no answer on the ack topic (a status report): only the
    /// remote broker's PUBACK, once the message is committed.
    pub fn settle(&self, device: DeviceId, reply: Reply) {
        match reply {
            Reply::Remote(publish) => {
                if let Some(client) = &self.remote
                    && let Err(e) = client.try_ack(&publish)
                {
                    tracing::warn!(%device, %e, "cannot acknowledge to the remote broker");
                }
            }
            // Dropping the sender tells a waiting requester there is no answer.
            Reply::Mqtt | Reply::Http(_) => {}
        }
    }
}

/// The ack topic's payload for an outcome; `None` when the device gets no answer (it was
/// revoked meanwhile and its session is being dropped).
fn ack_body(outcome: &Outcome) -> Option<Vec<u8>> {
    match outcome {
        Outcome::Stored(ack) => serde_json::to_vec(ack).ok(),
        Outcome::Refused { code, message } => {
            serde_json::to_vec(&json!({"error": {"code": code, "message": message}})).ok()
        }
        Outcome::UnknownDevice => None,
    }
}
