//! healthsync-ingest: every reading a device sends ends up in the database exactly once,
//! or is rejected with a reason the device and its owner can see; a device is told its
//! message is stored only once it is.
//!
//! Stages, connected by bounded channels (in the spirit of Vector):
//! sources (the in-process broker link, an external broker's shared subscription
//! ([`remote`]), HTTP) → [`validate`] (envelope, catalog) →
//! [`writer`] (batch by size or time, one transaction, retried until committed) →
//! replies (ack on `devices/{id}/ack`, or the HTTP response) and the committed-readings
//! stream that analytics and live views consume. Ingest knows nothing of them: it only
//! publishes. [`retention`] drops readings past the retention window.
//!
//! Device status reports (`devices/{id}/status`, [`healthsync_core::status`]) take the same
//! path: they are rare, so they ride along in the telemetry batches (one more small statement
//! in the batch's transaction when a batch holds any) and come out as device events and on
//! the [`Ingest::statuses`] stream; invalid ones are kept as rejections.
//!
//! [`copy_limit`] measures how fast the `readings` table takes rows by raw binary COPY on
//! this machine, the bar the writer is measured against.

mod binary_copy;
pub mod copy_limit;
mod directory;
pub mod message;
pub mod remote;
mod replies;
pub mod retention;
pub mod rollup;
mod validate;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use healthsync_broker::Broker;
use healthsync_core::config::IngestSettings;
use healthsync_core::devices::DeviceKind;
use healthsync_core::ids::DeviceId;
use healthsync_core::telemetry::Context;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::directory::Directory;
pub use crate::message::{CommittedReading, DeviceStatusEvent, Outcome};
use crate::message::{Incoming, Reply, Topic};
use crate::replies::Replies;
use crate::writer::BatchLimits;

/// Batches of committed readings kept for subscribers that fall behind.
const COMMITTED_BUFFER: usize = 1024;
/// Committed status reports kept for subscribers that fall behind.
const STATUS_BUFFER: usize = 1024;
/// What ingest takes from the embedded broker.
const TELEMETRY_FILTER: &str = "devices/+/telemetry";
const STATUS_FILTER: &str = "devices/+/status";
/// How long an HTTP submission may wait for room in a full pipeline before 503.
const SUBMIT_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot subscribe to the broker: {0}")]
    Broker(#[from] healthsync_broker::BrokerError),
    #[error("ingest is overloaded; retry later")]
    Overloaded,
    #[error("ingest is shutting down")]
    Closed,
}

/// The running pipeline. Cloning gives another handle for HTTP submissions.
#[derive(Clone)]
pub struct Ingest {
    incoming: mpsc::Sender<Incoming>,
    committed: broadcast::Sender<Arc<[CommittedReading]>>,
    statuses: broadcast::Sender<Arc<DeviceStatusEvent>>,
    retention: chrono::Duration,
}

/// Where the pipeline takes device messages from, besides HTTP submissions.
pub enum Source<'a> {
    /// The embedded broker, through an in-process link.
    Broker(&'a Broker),
    /// An external broker, through an MQTT 5 shared subscription.
    Remote(remote::RemoteSettings),
    /// HTTP only.
    None,
}

/// Owns the pipeline's tasks; [`Pipeline::shutdown`] drains them.
pub struct Pipeline {
    pub handle: Ingest,
    source: Option<JoinHandle<()>>,
    stages: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the stages and the source.
    pub async fn start(
        pool: PgPool,
        settings: &IngestSettings,
        source: Source<'_>,
    ) -> Result<Pipeline, IngestError> {
        let (incoming_tx, incoming_rx) = mpsc::channel(settings.queue_messages);
        let (checked_tx, checked_rx) = mpsc::channel(settings.queue_messages);
        let (committed, _) = broadcast::channel(COMMITTED_BUFFER);
        let (statuses, _) = broadcast::channel(STATUS_BUFFER);

        let (replies, source) = match source {
            Source::Broker(broker) => {
                let (mut ack_link, subscriber) =
                    broker.subscribe("ingest", TELEMETRY_FILTER).await?;
                // One link for both filters: one source task, one queue, one back-pressure.
                ack_link
                    .subscribe(STATUS_FILTER)
                    .map_err(|e| healthsync_broker::BrokerError::Link(e.to_string()))?;
                let source = tokio::spawn(broker_source(subscriber, incoming_tx.clone()));
                (Replies::local(ack_link), Some(source))
            }
            Source::Remote(settings) => {
                let (client, source) = remote::start(&settings, incoming_tx.clone()).await;
                (Replies::remote(client), Some(source))
            }
            Source::None => (Replies::default(), None),
        };
        let directory = Arc::new(Directory::new(pool.clone()));
        let retention = chrono::Duration::days(i64::from(settings.retention_days));
        let stages = vec![
            tokio::spawn(validate::run(
                incoming_rx,
                checked_tx,
                directory,
                replies.clone(),
                retention,
            )),
            tokio::spawn(writer::run(
                checked_rx,
                pool,
                BatchLimits {
                    max_readings: settings.batch_max_readings,
                    max_delay: Duration::from_millis(settings.batch_max_delay_ms),
                },
                replies,
                committed.clone(),
                statuses.clone(),
            )),
        ];
        Ok(Pipeline {
            handle: Ingest {
                incoming: incoming_tx,
                committed,
                statuses,
                retention,
            },
            source,
            stages,
        })
    }

    /// Stops taking messages and waits until everything taken is written and answered.
    pub async fn shutdown(self) {
        if let Some(source) = self.source {
            // Whatever the source holds but has not handed over was not acked: the device
            // sends it again after reconnecting.
            source.abort();
            let _ = source.await;
        }
        drop(self.handle);
        for stage in self.stages {
            let _ = stage.await;
        }
    }
}

impl Ingest {
    /// Committed readings as they are written.
    pub fn committed(&self) -> broadcast::Receiver<Arc<[CommittedReading]>> {
        self.committed.subscribe()
    }

    /// Device status reports as they are committed (as device events), one per report.
    pub fn statuses(&self) -> broadcast::Receiver<Arc<DeviceStatusEvent>> {
        self.statuses.subscribe()
    }

    /// What validation needs besides the reading, for a device of `kind`, now: callers
    /// that check readings before submitting them (manual entry) check the same way.
    pub fn context(&self, device_kind: DeviceKind) -> Context {
        Context::now(device_kind, self.retention)
    }

    /// Runs one message (HTTP ingestion) through the pipeline and answers after commit.
    pub async fn submit(&self, device: DeviceId, payload: Bytes) -> Result<Outcome, IngestError> {
        let (reply, answer) = oneshot::channel();
        let message = Incoming {
            device,
            topic: Topic::Telemetry,
            payload,
            received_at: Utc::now(),
            reply: Reply::Http(reply),
        };
        match self.incoming.send_timeout(message, SUBMIT_WAIT).await {
            Ok(()) => answer.await.map_err(|_| IngestError::Closed),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => Err(IngestError::Overloaded),
            Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(IngestError::Closed),
        }
    }
}

/// Hands every telemetry and status message from the broker to the pipeline; waits while
/// it is full.
async fn broker_source(
    mut subscriber: healthsync_broker::InProcessSubscriber,
    incoming: mpsc::Sender<Incoming>,
) {
    loop {
        let delivery = match subscriber.next().await {
            Ok(delivery) => delivery,
            Err(e) => {
                tracing::error!(%e, "ingest lost its broker link");
                return;
            }
        };
        // The ACL guarantees the topic names the device that published.
        let Some((device, topic)) = Topic::parse(&delivery.topic) else {
            continue;
        };
        let message = Incoming {
            device,
            topic,
            payload: delivery.payload,
            received_at: Utc::now(),
            reply: Reply::Mqtt,
        };
        if incoming.send(message).await.is_err() {
            return;
        }
    }
}
