//! The remote source: telemetry and status reports from an external MQTT broker (EMQX,
//! VerneMQ, Mosquitto) through MQTT 5 shared subscriptions `$share/{group}/devices/+/telemetry`
//! and `$share/{group}/devices/+/status`, so several ingest workers split the devices'
//! messages between them, each message to one worker.
//!
//! Messages are acknowledged to the broker (PUBACK) only after they are committed, like the
//! device's own ack: a worker that dies leaves its unacknowledged messages with the broker,
//! and the devices replay what was never acked.

use std::time::Duration;

use chrono::Utc;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use tokio::sync::mpsc;

use crate::message::{Incoming, Reply, Topic};

/// Where and as whom the worker connects.
#[derive(Clone, Debug)]
pub struct RemoteSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub shared_group: String,
}

impl RemoteSettings {
    /// Host and port from `mqtt://host[:port]` (port 1883 by default).
    pub fn parse_url(url: &str) -> Result<(String, u16), String> {
        let rest = url
            .strip_prefix("mqtt://")
            .ok_or_else(|| format!("{url:?}: only mqtt:// URLs are supported"))?;
        let rest = rest.trim_end_matches('/');
        match rest.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse()
                    .map_err(|_| format!("{url:?}: bad port {port:?}"))?;
                Ok((host.to_owned(), port))
            }
            None if !rest.is_empty() => Ok((rest.to_owned(), 1883)),
            None => Err(format!("{url:?}: no host")),
        }
    }
}

/// Connects, subscribes, and hands messages to the pipeline; returns the client acks are
/// published through and the task that reads the broker.
pub async fn start(
    settings: &RemoteSettings,
    incoming: mpsc::Sender<Incoming>,
) -> (AsyncClient, tokio::task::JoinHandle<()>) {
    let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_manual_acks(true);
    if let Some(username) = &settings.username {
        options.set_credentials(username, settings.password.clone().unwrap_or_default());
    }
    let (client, eventloop) = AsyncClient::new(options, 1000);
    let filters = [crate::TELEMETRY_FILTER, crate::STATUS_FILTER]
        .map(|filter| format!("$share/{}/{filter}", settings.shared_group));
    let task = tokio::spawn(read(client.clone(), eventloop, filters, incoming));
    (client, task)
}

async fn read(
    client: AsyncClient,
    mut eventloop: EventLoop,
    filters: [String; 2],
    incoming: mpsc::Sender<Incoming>,
) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                // (Re)subscribe on every connection: the session may be new.
                for filter in &filters {
                    if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                        tracing::error!(%e, "cannot subscribe to {filter}");
                    }
                    tracing::info!(%filter, "ingest subscribed to the remote broker");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let Some((device, topic)) = Topic::parse(&publish.topic) else {
                    // Not ours to judge; acknowledge so the broker does not resend it.
                    let _ = client.try_ack(&publish);
                    continue;
                };
                let message = Incoming {
                    device,
                    topic,
                    payload: publish.payload.clone(),
                    received_at: Utc::now(),
                    reply: Reply::Remote(Box::new(publish)),
                };
                // Waiting here (the pipeline is full) stops reading from the broker.
                if incoming.send(message).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(%e, "remote broker connection lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_host_and_port() {
        assert_eq!(
            RemoteSettings::parse_url("mqtt://broker.local:1884").unwrap(),
            ("broker.local".into(), 1884)
        );
        assert_eq!(
            RemoteSettings::parse_url("mqtt://10.0.0.5").unwrap(),
            ("10.0.0.5".into(), 1883)
        );
        for bad in ["http://x", "mqtt://", "mqtt://x:port"] {
            assert!(RemoteSettings::parse_url(bad).is_err(), "{bad}");
        }
    }
}
