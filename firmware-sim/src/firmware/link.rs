//! The device's network side: one task owns rumqttc's event loop, reconnects with
//! exponential backoff and full jitter, and tells the firmware what happened. The firmware
//! decides what to send; the link only moves packets.
//!
//! The event loop lives in its own task because `EventLoop::poll` must be polled
//! continuously and must not be cancelled mid-packet: here it is cancelled only when the
//! connection is being dropped anyway (a forced disconnect, going offline, stopping).

use std::time::Duration;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, Packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the link reports to the firmware.
#[derive(Debug)]
pub enum LinkEvent {
    Connected,
    /// The connection ended; `error` says why when it was not asked for.
    Disconnected {
        error: Option<String>,
    },
    /// A message on a subscribed topic (the device's ack topic).
    Message(Bytes),
}

/// What the firmware asks of the link.
#[derive(Debug)]
pub enum LinkControl {
    /// Drop the connection now, as a network failure would, and reconnect.
    Drop,
    /// Drop the connection and stay away until `Online`.
    Offline,
    Online,
    /// Say DISCONNECT and end the task.
    Stop,
}

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Full jitter (a uniform delay up to the current ceiling) keeps a fleet that lost the
    /// broker together from reconnecting in lockstep.
    fn delay(&self, attempt: u32, rng: &mut ChaCha8Rng) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(1 << attempt.min(16))
            .min(self.max);
        let ceiling_us = ceiling.as_micros().max(1) as u64;
        Duration::from_micros(rng.gen_range(ceiling_us / 2..=ceiling_us))
    }
}

pub struct Link {
    pub client: AsyncClient,
    pub control: mpsc::UnboundedSender<LinkControl>,
    pub task: JoinHandle<()>,
}

/// Starts the link; it connects at once. `jitter_seed` makes each device's jitter its own.
pub fn start(
    options: MqttOptions,
    requests: usize,
    backoff: Backoff,
    jitter_seed: u64,
    events: mpsc::Sender<LinkEvent>,
) -> Link {
    let (client, eventloop) = AsyncClient::new(options, requests);
    let (control, control_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(drive(
        eventloop,
        client.clone(),
        control_rx,
        events,
        backoff,
        ChaCha8Rng::seed_from_u64(jitter_seed),
    ));
    Link {
        client,
        control,
        task,
    }
}

async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    mut control: mpsc::UnboundedReceiver<LinkControl>,
    events: mpsc::Sender<LinkEvent>,
    backoff: Backoff,
    mut rng: ChaCha8Rng,
) {
    let mut offline = false;
    let mut failures: u32 = 0;
    let mut retry_at: Option<Instant> = None;
    loop {
        let connected = eventloop.network.is_some();
        if offline || retry_at.is_some() {
            let wake = retry_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                order = control.recv() => match order {
                    None | Some(LinkControl::Stop) => return,
                    Some(LinkControl::Online) => offline = false,
                    Some(LinkControl::Offline) => offline = true,
                    Some(LinkControl::Drop) => {}
                },
                _ = tokio::time::sleep_until(wake), if retry_at.is_some() => retry_at = None,
            }
            continue;
        }
        tokio::select! {
            biased;
            order = control.recv() => match order {
                None | Some(LinkControl::Stop) => {
                    if connected {
                        say_goodbye(&mut eventloop, &client).await;
                    }
                    return;
                }
                Some(LinkControl::Drop) | Some(LinkControl::Offline) if connected => {
                    offline = matches!(order, Some(LinkControl::Offline));
                    eventloop.clean();
                    if events.send(LinkEvent::Disconnected { error: None }).await.is_err() {
                        return;
                    }
                }
                Some(LinkControl::Offline) => offline = true,
                Some(_) => {}
            },
            event = eventloop.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    failures = 0;
                    if events.send(LinkEvent::Connected).await.is_err() {
                        return;
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if events.send(LinkEvent::Message(publish.payload)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    retry_at = Some(Instant::now() + backoff.delay(failures, &mut rng));
                    failures = failures.saturating_add(1);
                    let error = Some(describe(&e));
                    if events.send(LinkEvent::Disconnected { error }).await.is_err() {
                        return;
                    }
                }
            },
        }
    }
}

/// Sends DISCONNECT and waits (briefly) until it is written.
async fn say_goodbye(eventloop: &mut EventLoop, client: &AsyncClient) {
    if client.try_disconnect().is_err() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => format!("connection refused: {code:?}"),
        other => other.to_string(),
    }
}
