//! Throughput and latency: one subscriber reading `devices/+/telemetry` at QoS 1 and N
//! devices each publishing M QoS 1 messages to their own telemetry topic, all at once, each
//! with at most [`INFLIGHT_PER_DEVICE`] messages unacknowledged.
//!
//! Every payload is a telemetry v1 message whose reading's time is its send time, to the
//! nanosecond, taken just before it is handed to the client; so latency is
//! publish-to-delivery as the subscriber's client sees it. Both clients live in this process
//! and read one clock: wall time at the start plus a monotonic clock since. Throughput is
//! unique messages delivered divided by the time from the first send to the last delivery.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::BenchError;
use super::provision::Login;
use super::wire::{self, Stamp};

/// Unacknowledged QoS 1 messages a publishing device may have at once.
pub const INFLIGHT_PER_DEVICE: u32 = 10;
/// The telemetry filter the subscriber reads, as ingest does.
pub const FILTER: &str = "devices/+/telemetry";
/// After the last PUBACK, how long deliveries may pause before the missing are lost.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long nothing at all may happen before the run is declared stuck.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Long enough that no client needs to ping during the run.
const KEEP_ALIVE: Duration = Duration::from_secs(300);
/// Clients connecting at once before the run starts.
const CONNECT_CONCURRENCY: usize = 50;

pub struct LoadSettings {
    pub devices: usize,
    pub messages_per_device: u32,
    pub payload_bytes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoadResult {
    pub messages: u64,
    pub delivered: u64,
    /// Sent (and acknowledged by the broker) but never delivered within the drain timeout.
    pub lost: u64,
    /// Deliveries of a message already delivered (QoS 1 allows them; they are not counted
    /// in throughput or latency).
    pub duplicates: u64,
    /// First send to last delivery.
    pub seconds: f64,
    pub messages_per_sec: f64,
    pub latency_us: Latency,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Wall-clock nanoseconds that never jump: the wall time at the start of the run plus a
/// monotonic clock since.
#[derive(Clone, Copy)]
struct Clock {
    wall_ns: i64,
    mono: Instant,
}

impl Clock {
    fn start() -> Self {
        Self {
            wall_ns: chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
            mono: Instant::now(),
        }
    }

    fn now_ns(&self) -> i64 {
        self.wall_ns + self.mono.elapsed().as_nanos() as i64
    }
}

fn options(login: &Login, addr: SocketAddr, max_packet: usize) -> MqttOptions {
    let mut options = MqttOptions::new(&login.client_id, addr.ip().to_string(), addr.port());
    options
        .set_credentials(&login.username, &login.password)
        .set_keep_alive(KEEP_ALIVE)
        .set_max_packet_size(max_packet, max_packet)
        .set_inflight(2 * INFLIGHT_PER_DEVICE as u16);
    options
}

/// Connects and waits for the CONNACK.
async fn connect(options: MqttOptions) -> Result<(AsyncClient, EventLoop), String> {
    let id = options.client_id();
    let (client, mut eventloop) = AsyncClient::new(options, 2 * INFLIGHT_PER_DEVICE as usize + 4);
    let acked = tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await;
    match acked {
        Ok(Ok(())) => Ok((client, eventloop)),
        Ok(Err(e)) => Err(format!("{id}: connect: {e}")),
        Err(_) => Err(format!(
            "{id}: no CONNACK within {}s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Sends DISCONNECT and gives it a moment to leave.
async fn disconnect(client: AsyncClient, mut eventloop: EventLoop) {
    if client.try_disconnect().is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

struct Received {
    latencies_ns: Vec<u64>,
    duplicates: u64,
    foreign: u64,
    last_delivery_ns: i64,
    error: Option<String>,
}

/// Runs the load against the broker at `addr`; `devices` are the publishers.
pub async fn run(
    addr: SocketAddr,
    subscriber: &Login,
    devices: &[Login],
    settings: &LoadSettings,
    progress: &ProgressBar,
) -> Result<LoadResult, BenchError> {
    let failed = |e: String| BenchError::Failed(format!("load: {e}"));
    let n = settings.devices.min(devices.len());
    let m = settings.messages_per_device;
    let total = n as u64 * u64::from(m);
    let max_packet = (settings.payload_bytes + 1024).max(10 * 1024);
    let clock = Clock::start();

    // The subscriber, subscribed before anyone publishes.
    let (sub_client, mut sub_loop) = connect(options(subscriber, addr, max_packet))
        .await
        .map_err(failed)?;
    sub_client
        .subscribe(FILTER, QoS::AtLeastOnce)
        .await
        .map_err(|e| failed(format!("subscribe: {e}")))?;
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            match sub_loop.poll().await {
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    return match ack.return_codes.first() {
                        Some(rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce)) => Ok(()),
                        other => Err(format!("subscription to {FILTER} refused: {other:?}")),
                    };
                }
                Ok(_) => {}
                Err(e) => return Err(format!("subscriber: {e}")),
            }
        }
    })
    .await
    .map_err(|_| failed("no SUBACK".into()))?
    .map_err(failed)?;

    // The publishers, all connected before the clock starts.
    let mut connecting = JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(CONNECT_CONCURRENCY));
    for login in &devices[..n] {
        let options = options(login, addr, max_packet);
        let topic = format!("devices/{}/telemetry", login.client_id);
        let limit = limit.clone();
        connecting.spawn(async move {
            let _permit = limit.acquire_owned().await;
            connect(options).await.map(|c| (topic, c))
        });
    }
    let mut publishers = Vec::with_capacity(n);
    while let Some(joined) = connecting.join_next().await {
        publishers.push(joined.map_err(|e| failed(e.to_string()))?.map_err(failed)?);
    }

    let delivered = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let (go_tx, go_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(false);

    let subscriber_task = {
        let delivered = delivered.clone();
        let progress = progress.clone();
        let mut stop = stop_rx.clone();
        let payload_bytes = settings.payload_bytes;
        let index_of: HashMap<String, usize> = devices[..n]
            .iter()
            .enumerate()
            .map(|(index, d)| (format!("devices/{}/telemetry", d.client_id), index))
            .collect();
        tokio::spawn(async move {
            let mut seen = vec![false; total as usize];
            let mut received = Received {
                latencies_ns: Vec::with_capacity(total as usize),
                duplicates: 0,
                foreign: 0,
                last_delivery_ns: 0,
                error: None,
            };
            while (received.latencies_ns.len() as u64) < total {
                let event = tokio::select! {
                    biased;
                    event = sub_loop.poll() => event,
                    _ = stop.wait_for(|stop| *stop) => break,
                };
                let publish = match event {
                    Ok(Event::Incoming(Packet::Publish(publish))) => publish,
                    Ok(_) => continue,
                    Err(e) => {
                        received.error = Some(format!("subscriber: {e}"));
                        break;
                    }
                };
                let now_ns = clock.now_ns();
                let slot = index_of
                    .get(&publish.topic)
                    .filter(|_| publish.payload.len() == payload_bytes)
                    .and_then(|&device| {
                        let stamp = wire::decode_payload(&publish.payload)?;
                        (1..=u64::from(m))
                            .contains(&stamp.seq)
                            .then(|| (stamp, device * m as usize + (stamp.seq - 1) as usize))
                    });
                let Some((stamp, slot)) = slot else {
                    received.foreign += 1;
                    continue;
                };
                if std::mem::replace(&mut seen[slot], true) {
                    received.duplicates += 1;
                    continue;
                }
                received
                    .latencies_ns
                    .push(now_ns.saturating_sub(stamp.sent_ns).max(0) as u64);
                received.last_delivery_ns = now_ns;
                delivered.fetch_add(1, Ordering::Relaxed);
                progress.inc(1);
            }
            disconnect(sub_client, sub_loop).await;
            received
        })
    };

    let mut publishing = JoinSet::new();
    for (topic, (client, mut eventloop)) in publishers {
        let acked = acked.clone();
        let mut go = go_rx.clone();
        let mut stop = stop_rx.clone();
        let payload_bytes = settings.payload_bytes;
        publishing.spawn(async move {
            let _ = go.wait_for(|go| *go).await;
            let (mut sent, mut done) = (0u32, 0u32);
            let mut last_us = i64::MIN;
            while done < m {
                while sent < m && sent - done < INFLIGHT_PER_DEVICE {
                    // The platform keys a reading by device, metric and time to the
                    // microsecond: wait (at most 1 µs) for a microsecond of our own.
                    let sent_ns = loop {
                        let now = clock.now_ns();
                        if now / 1000 > last_us {
                            last_us = now / 1000;
                            break now;
                        }
                        std::hint::spin_loop();
                    };
                    let stamp = Stamp {
                        seq: u64::from(sent) + 1,
                        sent_ns,
                    };
                    let payload = wire::encode_payload(stamp, payload_bytes);
                    client
                        .try_publish(topic.as_str(), QoS::AtLeastOnce, false, payload)
                        .map_err(|e| format!("{topic}: publish: {e}"))?;
                    sent += 1;
                }
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        done += 1;
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(format!("{topic}: connection lost after {done} acks: {e}"));
                    }
                }
            }
            // Stay connected (and quiet) until the measurement is over.
            let _ = stop.wait_for(|stop| *stop).await;
            disconnect(client, eventloop).await;
            Ok::<(), String>(())
        });
    }

    let first_send_ns = clock.now_ns();
    let _ = go_tx.send(true);
    let outcome = watch_progress(total, &delivered, &acked, &mut publishing).await;
    let _ = stop_tx.send(true);
    if outcome.is_err() {
        // Publishers still waiting for acks that will not come.
        publishing.abort_all();
    }
    let received = subscriber_task
        .await
        .map_err(|e| failed(format!("subscriber task: {e}")))?;
    while let Some(joined) = publishing.join_next().await {
        if let Ok(Err(e)) = joined {
            tracing::warn!(%e, "publisher");
        }
    }
    outcome?;
    if let Some(e) = received.error {
        return Err(failed(e));
    }
    if received.foreign > 0 {
        tracing::warn!(
            count = received.foreign,
            "the subscriber received messages that are not this run's"
        );
    }

    let mut latencies = received.latencies_ns;
    latencies.sort_unstable();
    let us = |ns: Option<u64>| ns.map_or(0.0, |ns| ns as f64 / 1000.0);
    let delivered = latencies.len() as u64;
    let seconds = received
        .last_delivery_ns
        .saturating_sub(first_send_ns)
        .max(0) as f64
        / 1e9;
    Ok(LoadResult {
        messages: total,
        delivered,
        lost: total - delivered,
        duplicates: received.duplicates,
        seconds,
        messages_per_sec: if seconds > 0.0 {
            delivered as f64 / seconds
        } else {
            0.0
        },
        latency_us: Latency {
            p50: us(wire::percentile(&latencies, 50.0)),
            p99: us(wire::percentile(&latencies, 99.0)),
            max: us(latencies.last().copied()),
        },
    })
}

/// Waits until every message is delivered, or deliveries stop after the last PUBACK (the
/// rest count as lost); fails when a publisher fails or nothing moves at all.
async fn watch_progress(
    total: u64,
    delivered: &AtomicU64,
    acked: &AtomicU64,
    publishing: &mut JoinSet<Result<(), String>>,
) -> Result<(), BenchError> {
    let mut last = (0, 0);
    let mut last_change = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Some(joined) = publishing.try_join_next() {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(BenchError::Failed(format!("load: {e}"))),
                Err(e) => return Err(BenchError::Failed(format!("load: publisher: {e}"))),
            }
        }
        let now = (
            acked.load(Ordering::Relaxed),
            delivered.load(Ordering::Relaxed),
        );
        if now.1 >= total {
            return Ok(());
        }
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if now.0 >= total && last_change.elapsed() > DRAIN_TIMEOUT {
            return Ok(());
        } else if last_change.elapsed() > STALL_TIMEOUT {
            return Err(BenchError::Failed(format!(
                "load: nothing moved for {}s ({} of {total} acknowledged, {} delivered)",
                STALL_TIMEOUT.as_secs(),
                now.0,
                now.1
            )));
        }
    }
}
