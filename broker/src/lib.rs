//! healthsync-broker: the embedded MQTT broker.
//!
//! rumqttd assembled from its public parts — a `Router`, one `Server` per listener, and
//! `local::LinkBuilder` for in-process clients — with:
//! - authentication of every CONNECT against stored API-key hashes ([`auth`]);
//! - a topic ACL that keeps each device inside `devices/{its id}/` ([`acl`],
//!   [`principal`]), since rumqttd has none of its own;
//! - connection tracking: online state, last seen, and an event history ([`tracker`]);
//! - revocation and key rotation that drop live sessions within seconds ([`revocation`]).
//!
//! One plain listener serves MQTT 3.1.1 and 5; an optional second one speaks TLS.

pub mod acl;
pub mod auth;
pub mod principal;
mod revocation;
pub mod tracker;

use std::net::SocketAddr;
use std::sync::Arc;

use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::BrokerSettings;
use healthsync_core::ids::DeviceId;
use rumqttd::local::{LinkBuilder, LinkRx, LinkTx};
use rumqttd::protocol::{Disconnect, DisconnectReasonCode, Packet};
use rumqttd::{
    ConnectionSettings, LinkType, Router, RouterConfig, SegmentConfig, Server, ServerSettings,
    TlsConfig,
};
use sqlx::PgPool;

use crate::acl::{AclContext, AclProtocol};
use crate::auth::Authenticator;
use crate::tracker::Tracker;

pub use rumqttd::Notification;
pub use rumqttd::local;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("MQTT listener {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS {what} file {path} does not exist")]
    TlsFile { what: &'static str, path: String },
    #[error("in-process MQTT link: {0}")]
    Link(String),
    #[error("cannot load credentials: {0}")]
    Credentials(sqlx::Error),
}

/// Builds an in-process link; rumqttd's error is large, so it travels as text.
type LinkFactory = Arc<dyn Fn(&str) -> Result<(LinkTx, LinkRx), String> + Send + Sync>;

/// Drops a device's live session, if any.
#[derive(Clone)]
pub struct Kicker {
    links: LinkFactory,
}

impl Kicker {
    /// Registering a link under the device's client id makes the router drop the device's
    /// session (MQTT's rule for a duplicate client id); the link then disconnects itself.
    pub async fn kick(&self, device: DeviceId) {
        let links = self.links.clone();
        let kicked = tokio::task::spawn_blocking(move || {
            let (mut tx, _rx) = links(&device.to_string())?;
            let disconnect = Packet::Disconnect(
                Disconnect {
                    reason_code: DisconnectReasonCode::NormalDisconnection,
                },
                None,
            );
            tokio::runtime::Handle::current()
                .block_on(tx.send(disconnect))
                .map_err(|e| e.to_string())
        })
        .await;
        match kicked {
            Ok(Ok(_)) => tracing::info!(%device, "dropped the session of a revoked or rotated key"),
            Ok(Err(e)) => tracing::warn!(%device, %e, "cannot drop session"),
            Err(e) => tracing::warn!(%device, %e, "cannot drop session"),
        }
    }
}

/// The running broker.
pub struct Broker {
    links: LinkFactory,
    listeners: Arc<Vec<tokio::task::JoinHandle<()>>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    tracker: Tracker,
    plain_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
}

impl Broker {
    /// Starts the router and the listeners on the current Tokio runtime.
    pub async fn start(
        mqtt_addr: SocketAddr,
        settings: &BrokerSettings,
        pool: PgPool,
        hasher: KeyHasher,
    ) -> Result<Broker, BrokerError> {
        let tls = tls_config(settings)?;
        // rumqttd binds inside its accept loop and only logs a failure; bind here first so
        // an address in use stops start-up with a clear error.
        let mut addrs = vec![mqtt_addr];
        addrs.extend(settings.tls_addr);
        for addr in &addrs {
            std::net::TcpListener::bind(addr).map_err(|source| BrokerError::Listen {
                addr: *addr,
                source,
            })?;
        }

        let tracker = Tracker::start(pool.clone());
        let auth = Authenticator::load(
            pool.clone(),
            hasher,
            tracker.clone(),
            settings.max_failed_auth,
        )
        .await
        .map_err(BrokerError::Credentials)?;
        let router_tx = Router::new(0, router_config(settings)).spawn();
        let context = Arc::new(AclContext {
            auth: auth.clone(),
            tracker: tracker.clone(),
            max_keep_alive_secs: settings.max_keep_alive_secs,
        });

        let mut listeners = vec![("mqtt", mqtt_addr, None)];
        if let (Some(addr), Some(tls)) = (settings.tls_addr, tls) {
            listeners.push(("mqtts", addr, Some(tls)));
        }
        let mut tasks = Vec::new();
        for (name, listen, tls) in listeners {
            let mut connections = ConnectionSettings {
                connection_timeout_ms: settings.connect_timeout_ms,
                max_payload_size: settings.max_payload_bytes,
                max_inflight_count: settings.max_inflight,
                auth: None,
                external_auth: None,
                dynamic_filters: true,
            };
            let auth = auth.clone();
            connections.set_auth_handler(move |client_id, _username, _password| {
                let auth = auth.clone();
                async move { auth.confirm(client_id).await }
            });
            let server_settings = ServerSettings {
                name: name.to_owned(),
                listen,
                tls,
                next_connection_delay_ms: 0,
                connections,
            };
            let mut server = Server::new(
                server_settings,
                router_tx.clone(),
                AclProtocol::new(context.clone()),
            );
            tasks.push(tokio::spawn(async move {
                if let Err(e) = server.start(LinkType::Remote).await {
                    tracing::error!(listener = name, %e, "MQTT listener stopped");
                }
            }));
            tracing::info!(listener = name, %listen, "MQTT listening");
        }

        let links: LinkFactory = Arc::new(move |client_id: &str| {
            LinkBuilder::new(client_id, router_tx.clone())
                .build()
                .map(|(tx, rx, _ack)| (tx, rx))
                .map_err(|e| e.to_string())
        });
        let kicker = Kicker {
            links: links.clone(),
        };
        let background = revocation::start(pool, auth, tracker.clone(), kicker).into();
        Ok(Broker {
            links,
            listeners: Arc::new(tasks),
            background,
            tracker,
            plain_addr: mqtt_addr,
            tls_addr: settings.tls_addr,
        })
    }

    /// An in-process client of the broker (it bypasses authentication and the ACL:
    /// in-process code is trusted).
    pub async fn link(&self, client_id: &str) -> Result<(LinkTx, LinkRx), BrokerError> {
        let links = self.links.clone();
        let client_id = client_id.to_owned();
        tokio::task::spawn_blocking(move || links(&client_id))
            .await
            .map_err(|e| BrokerError::Link(e.to_string()))?
            .map_err(BrokerError::Link)
    }

    /// Stops accepting connections and the background tasks, and records the end of every
    /// session; call before closing the database.
    pub async fn shutdown(self) {
        for task in self.listeners.iter().chain(&self.background) {
            task.abort();
        }
        self.tracker.shutdown().await;
    }

    /// A readiness probe: true while every listener is still accepting.
    pub fn probe(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let listeners = self.listeners.clone();
        move || listeners.iter().all(|task| !task.is_finished())
    }

    /// An in-process subscriber to `filter` (e.g. `devices/+/telemetry`), with the link
    /// to publish through (e.g. acks).
    pub async fn subscribe(
        &self,
        client_id: &str,
        filter: &str,
    ) -> Result<(LinkTx, InProcessSubscriber), BrokerError> {
        let (mut tx, rx) = self.link(client_id).await?;
        tx.subscribe(filter)
            .map_err(|e| BrokerError::Link(e.to_string()))?;
        Ok((tx, InProcessSubscriber { rx }))
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn mqtt_addr(&self) -> SocketAddr {
        self.plain_addr
    }

    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }
}

/// A message delivered to an in-process subscriber.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub topic: bytes::Bytes,
    pub payload: bytes::Bytes,
}

/// Receives the messages of an in-process subscription, hiding rumqttd's flow control (a
/// link that has drained its batch is unscheduled until it says it is ready again).
pub struct InProcessSubscriber {
    rx: LinkRx,
}

impl InProcessSubscriber {
    /// The next message; an error means the broker is gone.
    pub async fn next(&mut self) -> Result<Delivery, BrokerError> {
        loop {
            match self.rx.next().await {
                Ok(Some(Notification::Forward(forward))) => {
                    return Ok(Delivery {
                        topic: forward.publish.topic,
                        payload: forward.publish.payload,
                    });
                }
                Ok(Some(Notification::Unschedule)) => self
                    .rx
                    .wake()
                    .await
                    .map_err(|e| BrokerError::Link(e.to_string()))?,
                Ok(_) => {}
                Err(e) => return Err(BrokerError::Link(e.to_string())),
            }
        }
    }
}

fn tls_config(settings: &BrokerSettings) -> Result<Option<TlsConfig>, BrokerError> {
    let (Some(_), Some(cert), Some(key)) =
        (settings.tls_addr, &settings.tls_cert, &settings.tls_key)
    else {
        return Ok(None);
    };
    for (what, path) in [("certificate", cert), ("key", key)] {
        if !path.is_file() {
            return Err(BrokerError::TlsFile {
                what,
                path: path.display().to_string(),
            });
        }
    }
    Ok(Some(TlsConfig::Rustls {
        capath: None,
        certpath: cert.display().to_string(),
        keypath: key.display().to_string(),
    }))
}

/// Each topic filter keeps its messages in an in-memory log of `max_segment_count`
/// segments. Device topics (acks, status) get small logs — there can be tens of thousands —
/// while the shared telemetry filters that ingest reads get room for bursts.
fn router_config(settings: &BrokerSettings) -> RouterConfig {
    let wide = SegmentConfig {
        max_segment_size: 32 * 1024 * 1024,
        max_segment_count: 4,
    };
    let custom_segment = ["devices/+/telemetry", "devices/+/status"]
        .into_iter()
        .map(|filter| (filter.to_owned(), wide.clone()))
        .collect();
    RouterConfig {
        max_connections: settings.max_connections,
        max_outgoing_packet_count: 200,
        max_segment_size: 16 * 1024,
        max_segment_count: 2,
        custom_segment: Some(custom_segment),
        initialized_filters: None,
        shared_subscriptions_strategy: Default::default(),
    }
}
