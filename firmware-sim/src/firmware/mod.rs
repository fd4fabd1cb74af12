//! Store-and-forward device firmware, as real wearables do it: every telemetry message
//! gets the next `seq` and stays in a bounded buffer until the platform's ack for that
//! `seq` arrives — an ack means stored. Unacked messages are sent again after every
//! reconnect and when their ack is overdue; when the buffer is full the oldest message is
//! dropped and counted. At most `window` messages are on the wire unacked, so a platform
//! that stops acking stops the device from sending, and the readings wait on the device.
//!
//! [`run`] is one device; [`link`] is its connection; [`payload`] its wire encoding.
//! Counters shared across a fleet ([`Counters`]) feed progress bars; each device returns
//! its own [`DeviceOutcome`] with the ack latencies, for reports.

pub mod link;
pub mod payload;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use healthsync_core::ids::DeviceId;
use healthsync_core::status::StatusReport;
use healthsync_core::telemetry::Ack;
use rumqttc::{MqttOptions, QoS};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::link::{Backoff, LinkControl, LinkEvent};
pub use self::payload::WireReading;

/// How the firmware behaves; the defaults are a wearable's.
#[derive(Clone, Debug)]
pub struct FirmwareSettings {
    pub host: String,
    pub port: u16,
    /// Telemetry messages kept until acked; beyond it the oldest is dropped.
    pub buffer_messages: usize,
    /// Messages sent and not yet acked, at most.
    pub window: usize,
    /// An unacked message is sent again after this long, times the sends so far (up to 8×).
    pub ack_timeout: Duration,
    pub backoff: Backoff,
    pub keep_alive: Duration,
    /// After the input ends, how long to wait for the last acks.
    pub drain_timeout: Duration,
}

impl Default for FirmwareSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 1883,
            buffer_messages: 10_000,
            window: 32,
            ack_timeout: Duration::from_secs(10),
            backoff: Backoff {
                first: Duration::from_millis(200),
                max: Duration::from_secs(30),
            },
            keep_alive: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// What drives the firmware: its sensors and its environment.
#[derive(Debug)]
pub enum Command {
    Telemetry {
        readings: Vec<WireReading>,
        battery: Option<f32>,
    },
    Status(StatusReport),
    /// Whether the device can reach the network.
    Online(bool),
    /// Lose the connection now (a network fault); the device reconnects by itself.
    DropConnection,
}

/// Fleet-wide running totals, for progress bars.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent_messages: AtomicU64,
    pub sent_readings: AtomicU64,
    pub acked_messages: AtomicU64,
    pub acked_readings: AtomicU64,
    pub rejected_readings: AtomicU64,
    pub resent_messages: AtomicU64,
    pub dropped_messages: AtomicU64,
    pub duplicate_acks: AtomicU64,
    pub reconnects: AtomicU64,
    pub errors: AtomicU64,
    /// Devices connected right now.
    pub connected: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// One device's account of its run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeviceOutcome {
    pub device: DeviceId,
    pub messages: u64,
    pub readings: u64,
    /// Messages acked (each counted once).
    pub acked_messages: u64,
    /// Readings the platform said it stored, over messages acked once each.
    pub accepted_readings: u64,
    pub rejected_readings: u64,
    /// Messages still unacked when the run ended (sent or not): lost unless stored.
    pub unacked_messages: u64,
    pub unacked_readings: u64,
    /// Dropped from a full buffer before they were acked.
    pub dropped_messages: u64,
    pub resent_messages: u64,
    pub duplicate_acks: u64,
    pub reconnects: u64,
    /// Connection errors, and the first few distinct texts among them.
    pub error_count: u64,
    pub errors: Vec<String>,
    /// First send to ack, per acked message, in microseconds.
    #[serde(skip)]
    pub ack_latencies_us: Vec<u32>,
}

/// A device's credentials.
#[derive(Clone, Debug)]
pub struct Login {
    pub device: DeviceId,
    pub api_key: String,
}

struct Pending {
    payload: Arc<[u8]>,
    readings: u32,
    first_sent: Option<Instant>,
    last_sent: Option<Instant>,
    sends: u32,
}

/// Status reports waiting for a connection; a device keeps only the latest few.
const STATUS_BUFFER: usize = 16;
/// Distinct error texts kept per device.
const ERRORS_KEPT: usize = 8;

/// Runs one device until `commands` closes, then waits for the outstanding acks (up to the
/// drain timeout), disconnects and reports.
pub async fn run(
    login: Login,
    settings: FirmwareSettings,
    mut commands: mpsc::Receiver<Command>,
    counters: Arc<Counters>,
) -> DeviceOutcome {
    let id = login.device.to_string();
    let mut options = MqttOptions::new(id.clone(), settings.host.clone(), settings.port);
    options
        .set_credentials(id.clone(), login.api_key.clone())
        .set_keep_alive(settings.keep_alive)
        .set_clean_session(true)
        .set_inflight(settings.window.clamp(1, u16::MAX as usize) as u16)
        .set_max_packet_size(1 << 20, 1 << 20);
    let (events_tx, mut events) = mpsc::channel(64);
    let link = link::start(
        options,
        settings.window + STATUS_BUFFER + 8,
        settings.backoff,
        login.device.0.as_u64_pair().1,
        events_tx,
    );
    let mut device = Device {
        topics: Topics::of(&id),
        settings,
        link: link.client,
        control: link.control,
        counters,
        buffer: BTreeMap::new(),
        unsent: BTreeSet::new(),
        in_flight: BTreeSet::new(),
        statuses: VecDeque::new(),
        connected: false,
        next_seq: 1,
        outcome: DeviceOutcome {
            device: login.device,
            ..DeviceOutcome::default()
        },
    };

    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut drain_until: Option<Instant> = None;
    loop {
        tokio::select! {
            command = commands.recv(), if drain_until.is_none() => match command {
                Some(command) => device.obey(command),
                None => drain_until = Some(Instant::now() + device.settings.drain_timeout),
            },
            event = events.recv() => match event {
                Some(event) => device.on_link(event),
                None => break,
            },
            _ = tick.tick() => device.expire_overdue(),
        }
        if let Some(until) = drain_until
            && (device.buffer.is_empty() || Instant::now() >= until)
        {
            break;
        }
        device.pump();
    }
    let _ = device.control.send(LinkControl::Stop);
    let _ = link.task.await;
    if device.connected {
        device.counters.connected.fetch_sub(1, Ordering::Relaxed);
    }
    device.finish()
}

struct Topics {
    telemetry: String,
    status: String,
    ack: String,
}

impl Topics {
    fn of(id: &str) -> Self {
        Self {
            telemetry: format!("devices/{id}/telemetry"),
            status: format!("devices/{id}/status"),
            ack: format!("devices/{id}/ack"),
        }
    }
}

struct Device {
    topics: Topics,
    settings: FirmwareSettings,
    link: rumqttc::AsyncClient,
    control: mpsc::UnboundedSender<LinkControl>,
    counters: Arc<Counters>,
    buffer: BTreeMap<u64, Pending>,
    /// Buffered messages waiting to be (re)sent, lowest seq first.
    unsent: BTreeSet<u64>,
    /// Sent and not yet acked in this connection.
    in_flight: BTreeSet<u64>,
    statuses: VecDeque<StatusReport>,
    connected: bool,
    next_seq: u64,
    outcome: DeviceOutcome,
}

impl Device {
    fn obey(&mut self, command: Command) {
        match command {
            Command::Telemetry { readings, battery } => self.store(&readings, battery),
            Command::Status(report) => {
                if self.statuses.len() == STATUS_BUFFER {
                    self.statuses.pop_front();
                }
                self.statuses.push_back(report);
            }
            Command::Online(online) => {
                let order = if online {
                    LinkControl::Online
                } else {
                    LinkControl::Offline
                };
                let _ = self.control.send(order);
            }
            Command::DropConnection => {
                let _ = self.control.send(LinkControl::Drop);
            }
        }
    }

    fn store(&mut self, readings: &[WireReading], battery: Option<f32>) {
        if readings.is_empty() {
            return;
        }
        if self.buffer.len() >= self.settings.buffer_messages.max(1)
            && let Some((seq, _)) = self.buffer.pop_first()
        {
            self.forget(seq);
            self.outcome.dropped_messages += 1;
            Counters::add(&self.counters.dropped_messages, 1);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.buffer.insert(
            seq,
            Pending {
                payload: payload::telemetry(seq, readings, battery).into(),
                readings: readings.len() as u32,
                first_sent: None,
                last_sent: None,
                sends: 0,
            },
        );
        self.unsent.insert(seq);
        self.outcome.messages += 1;
        self.outcome.readings += readings.len() as u64;
    }

    /// Takes a message out of the bookkeeping of what is on the wire.
    fn forget(&mut self, seq: u64) {
        self.unsent.remove(&seq);
        self.in_flight.remove(&seq);
    }

    fn on_link(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Connected => {
                self.connected = true;
                Counters::add(&self.counters.connected, 1);
                // A clean session: the ack subscription is gone with the last connection.
                // It goes out before any publish, and the broker handles them in order.
                let _ = self.link.try_subscribe(&self.topics.ack, QoS::AtMostOnce);
            }
            LinkEvent::Disconnected { error } => {
                if self.connected {
                    self.outcome.reconnects += 1;
                    Counters::add(&self.counters.reconnects, 1);
                    self.counters.connected.fetch_sub(1, Ordering::Relaxed);
                }
                self.connected = false;
                if let Some(error) = error {
                    Counters::add(&self.counters.errors, 1);
                    self.outcome.error_count += 1;
                    if self.outcome.errors.len() < ERRORS_KEPT
                        && !self.outcome.errors.contains(&error)
                    {
                        self.outcome.errors.push(error);
                    }
                }
                // Whatever was on the wire may or may not have arrived: send it all again.
                let on_the_wire = std::mem::take(&mut self.in_flight);
                self.unsent.extend(on_the_wire);
            }
            LinkEvent::Message(body) => self.on_ack(&body),
        }
    }

    fn on_ack(&mut self, body: &[u8]) {
        // Refusals (`{"error": ...}`) answer messages this firmware never sends malformed.
        let Ok(ack) = serde_json::from_slice::<Ack>(body) else {
            return;
        };
        let Some(pending) = self.buffer.remove(&ack.seq) else {
            self.outcome.duplicate_acks += 1;
            Counters::add(&self.counters.duplicate_acks, 1);
            return;
        };
        self.forget(ack.seq);
        if let Some(first) = pending.first_sent {
            let us = first.elapsed().as_micros().min(u32::MAX as u128) as u32;
            self.outcome.ack_latencies_us.push(us);
        }
        let rejected = ack.rejected.len() as u64;
        self.outcome.acked_messages += 1;
        self.outcome.accepted_readings += ack.accepted as u64;
        self.outcome.rejected_readings += rejected;
        Counters::add(&self.counters.acked_messages, 1);
        Counters::add(&self.counters.acked_readings, u64::from(pending.readings));
        Counters::add(&self.counters.rejected_readings, rejected);
    }

    /// Messages whose ack is overdue go back in line. Only those on the wire are looked
    /// at: a device cut off from the platform may hold thousands waiting to go.
    fn expire_overdue(&mut self) {
        let now = Instant::now();
        let (timeout, buffer) = (self.settings.ack_timeout, &self.buffer);
        self.in_flight.retain(|seq| {
            let Some(pending) = buffer.get(seq) else {
                return false;
            };
            let overdue = pending
                .last_sent
                .is_none_or(|sent| now.duration_since(sent) >= timeout * pending.sends.clamp(1, 8));
            if overdue {
                self.unsent.insert(*seq);
            }
            !overdue
        });
    }

    /// Puts what may go on the wire.
    fn pump(&mut self) {
        if !self.connected {
            return;
        }
        while let Some(report) = self.statuses.front() {
            let body = serde_json::to_vec(report).unwrap_or_default();
            if self
                .link
                .try_publish(&self.topics.status, QoS::AtLeastOnce, false, body)
                .is_err()
            {
                return;
            }
            self.statuses.pop_front();
        }
        while self.in_flight.len() < self.settings.window {
            let Some(&seq) = self.unsent.first() else {
                return;
            };
            let Some(pending) = self.buffer.get_mut(&seq) else {
                self.unsent.remove(&seq);
                continue;
            };
            let sent = self.link.try_publish(
                &self.topics.telemetry,
                QoS::AtLeastOnce,
                false,
                pending.payload.to_vec(),
            );
            if sent.is_err() {
                // The link's queue is full: it is mid-reconnect. Try at the next event.
                return;
            }
            let now = Instant::now();
            pending.first_sent.get_or_insert(now);
            pending.last_sent = Some(now);
            pending.sends += 1;
            if pending.sends == 1 {
                Counters::add(&self.counters.sent_messages, 1);
                Counters::add(&self.counters.sent_readings, u64::from(pending.readings));
            } else {
                self.outcome.resent_messages += 1;
                Counters::add(&self.counters.resent_messages, 1);
            }
            self.unsent.remove(&seq);
            self.in_flight.insert(seq);
        }
    }

    fn finish(mut self) -> DeviceOutcome {
        self.outcome.unacked_messages = self.buffer.len() as u64;
        self.outcome.unacked_readings = self.buffer.values().map(|p| u64::from(p.readings)).sum();
        self.outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use healthsync_core::catalog::Metric;

    /// A device and its event loop, which must live for the client's queue to stay open.
    fn device(buffer_messages: usize, window: usize) -> (Device, rumqttc::EventLoop) {
        let settings = FirmwareSettings {
            buffer_messages,
            window,
            ..FirmwareSettings::default()
        };
        // A client that never connects: its requests queue up unsent, which is all the
        // bookkeeping below needs.
        let (link, eventloop) = rumqttc::AsyncClient::new(
            MqttOptions::new("test", "127.0.0.1", 1),
            settings.window + STATUS_BUFFER + 8,
        );
        let (control, _) = mpsc::unbounded_channel();
        let device = Device {
            topics: Topics::of("test"),
            settings,
            link,
            control,
            counters: Arc::new(Counters::default()),
            buffer: BTreeMap::new(),
            unsent: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            statuses: VecDeque::new(),
            connected: false,
            next_seq: 1,
            outcome: DeviceOutcome::default(),
        };
        (device, eventloop)
    }

    fn measure(device: &mut Device) {
        let reading = WireReading {
            metric: Metric::HeartRate,
            t: chrono::Utc::now(),
            v: 60.0,
            v2: None,
        };
        device.store(&[reading, reading], None);
    }

    fn ack(device: &mut Device, seq: u64) {
        device.on_ack(format!(r#"{{"seq":{seq},"accepted":2,"rejected":[]}}"#).as_bytes());
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_message_and_counts_it() {
        let (mut d, _eventloop) = device(3, 32);
        for _ in 0..5 {
            measure(&mut d);
        }
        assert_eq!(d.buffer.keys().copied().collect::<Vec<_>>(), [3, 4, 5]);
        let o = d.finish();
        assert_eq!((o.messages, o.dropped_messages), (5, 2));
        assert_eq!((o.unacked_messages, o.unacked_readings), (3, 6));
    }

    #[test]
    fn only_a_window_goes_out_and_only_the_ack_releases_a_message() {
        let (mut d, _eventloop) = device(100, 2);
        for _ in 0..4 {
            measure(&mut d);
        }
        d.pump();
        assert_eq!(
            d.in_flight.len(),
            0,
            "nothing goes out before the connection is up"
        );
        d.on_link(LinkEvent::Connected);
        d.pump();
        assert_eq!((d.in_flight.len(), d.unsent.len()), (2, 2));
        ack(&mut d, 1);
        assert_eq!(d.buffer.len(), 3);
        d.pump();
        assert_eq!(
            (d.in_flight.len(), d.unsent.len()),
            (2, 1),
            "seq 3 took 1's place"
        );
        // The same ack again, and an ack for a message this device never sent.
        ack(&mut d, 1);
        ack(&mut d, 99);
        assert_eq!(d.outcome.duplicate_acks, 2);
        assert_eq!(
            (d.outcome.acked_messages, d.outcome.accepted_readings),
            (1, 2)
        );
    }

    #[test]
    fn after_a_lost_connection_everything_unacked_is_sent_again() {
        let (mut d, _eventloop) = device(100, 32);
        d.on_link(LinkEvent::Connected);
        for _ in 0..3 {
            measure(&mut d);
        }
        d.pump();
        assert_eq!(d.in_flight.len(), 3);
        d.on_link(LinkEvent::Disconnected {
            error: Some("connection reset".into()),
        });
        assert_eq!((d.in_flight.len(), d.unsent.len()), (0, 3));
        assert_eq!(d.outcome.reconnects, 1);
        assert_eq!(d.outcome.errors, ["connection reset"]);
        assert_eq!(d.outcome.error_count, 1);
        d.on_link(LinkEvent::Connected);
        d.pump();
        assert_eq!(d.in_flight.len(), 3);
        assert_eq!(d.outcome.resent_messages, 3);
        ack(&mut d, 2);
        let o = d.finish();
        assert_eq!((o.acked_messages, o.unacked_messages), (1, 2));
        assert_eq!(o.ack_latencies_us.len(), 1);
    }

    #[test]
    fn an_overdue_ack_puts_the_message_back_in_line() {
        let (mut d, _eventloop) = device(100, 32);
        d.settings.ack_timeout = Duration::ZERO;
        d.on_link(LinkEvent::Connected);
        measure(&mut d);
        d.pump();
        assert_eq!(d.in_flight.len(), 1);
        d.expire_overdue();
        assert_eq!((d.in_flight.len(), d.unsent.len()), (0, 1));
    }
}
