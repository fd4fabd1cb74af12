//! The simulator's store-and-forward firmware against a real `healthsync up` (broker,
//! ingest, embedded PostgreSQL) — and the faults it exists for: a forced disconnect, the
//! database stopped for 30 s under load, and the whole platform killed with `kill -9`
//! mid-stream. After each, every reading the devices generated must be acked and stored
//! exactly once.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use common::*;
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::catalog::Metric;
use healthsync_sim::firmware::link::Backoff;
use healthsync_sim::firmware::{
    self, Command, Counters, DeviceOutcome, FirmwareSettings, Login, WireReading,
};
use healthsync_sim::provision::{provision, smartwatches};
use healthsync_sim::roster::Roster;
use indicatif::ProgressBar;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const READINGS_PER_MESSAGE: usize = 5;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Registers `count` smartwatches, one patient each, in the platform's database.
fn provision_watches(rt: &Runtime, data: &Path, count: usize) -> Roster {
    let url = stdout(&healthsync(data, &["db", "url"]));
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(url.trim()).await.unwrap();
        let hasher = KeyHasher::load(None, data).unwrap();
        let plan = smartwatches("patient", count);
        let roster = provision(&pool, &hasher, plan, "it", &ProgressBar::hidden())
            .await
            .unwrap();
        pool.close().await;
        roster
    })
}

/// Devices running the simulator's firmware, fed by a steady sensor.
struct Fleet {
    counters: Arc<Counters>,
    inputs: Vec<mpsc::Sender<Command>>,
    devices: Vec<JoinHandle<DeviceOutcome>>,
    sensor: Option<JoinHandle<()>>,
}

impl Fleet {
    fn start(rt: &Runtime, roster: &Roster, mqtt_port: u16) -> Fleet {
        let settings = FirmwareSettings {
            port: mqtt_port,
            ack_timeout: Duration::from_secs(3),
            backoff: Backoff {
                first: Duration::from_millis(100),
                max: Duration::from_secs(1),
            },
            drain_timeout: Duration::from_secs(120),
            ..FirmwareSettings::default()
        };
        let counters = Arc::new(Counters::default());
        let _guard = rt.enter();
        let (inputs, devices) = roster
            .devices()
            .map(|(_, device)| {
                let (tx, rx) = mpsc::channel(1024);
                let login = Login {
                    device: device.id,
                    api_key: device.api_key.clone(),
                };
                let task =
                    tokio::spawn(firmware::run(login, settings.clone(), rx, counters.clone()));
                (tx, task)
            })
            .unzip();
        Fleet {
            counters,
            inputs,
            devices,
            sensor: None,
        }
    }

    fn wait_connected(&self) {
        wait_until(|| {
            self.counters.connected.load(Ordering::Relaxed) as usize == self.inputs.len()
        });
    }

    /// Every device measures `READINGS_PER_MESSAGE` heart rates every `every`, in the
    /// background, until [`Fleet::finish`].
    fn stream(&mut self, rt: &Runtime, every: Duration) {
        let inputs = self.inputs.clone();
        self.sensor = Some(rt.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                for input in &inputs {
                    if input.send(measure()).await.is_err() {
                        return;
                    }
                }
            }
        }));
    }

    fn acked(&self) -> u64 {
        self.counters.acked_messages.load(Ordering::Relaxed)
    }

    /// Stops the sensors, waits for every device's final drain and returns their accounts.
    fn finish(mut self, rt: &Runtime) -> Vec<DeviceOutcome> {
        if let Some(sensor) = self.sensor.take() {
            sensor.abort();
        }
        self.inputs.clear();
        rt.block_on(async {
            let mut outcomes = Vec::new();
            for device in self.devices {
                outcomes.push(device.await.unwrap());
            }
            outcomes
        })
    }
}

/// One message's worth of readings, each at its own microsecond.
fn measure() -> Command {
    let now = Utc::now();
    let readings = (0..READINGS_PER_MESSAGE)
        .map(|i| WireReading {
            metric: Metric::HeartRate,
            t: now - chrono::Duration::microseconds((READINGS_PER_MESSAGE - i) as i64),
            v: 60.0 + i as f64,
            v2: None,
        })
        .collect();
    Command::Telemetry {
        readings,
        battery: Some(0.9),
    }
}

/// Every generated reading acked once and in the database once.
fn assert_all_stored_once(data: &Path, outcomes: &[DeviceOutcome]) {
    for o in outcomes {
        assert_eq!(
            (o.unacked_messages, o.dropped_messages),
            (0, 0),
            "device {} ended with unacked messages: {o:?}",
            o.device
        );
        assert_eq!(o.accepted_readings, o.readings, "{o:?}");
        let stored: u64 = psql(
            data,
            &format!(
                "SELECT count(*) FROM readings WHERE device_id = '{}'",
                o.device
            ),
        )
        .parse()
        .unwrap();
        assert_eq!(
            stored, o.readings,
            "device {}: {} readings generated and acked, {stored} stored",
            o.device, o.readings
        );
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_small_fleet_is_stored_once_and_replays_after_a_forced_disconnect() {
    let (_guard, data) = data_dir();
    let mqtt = free_port();
    let up = Up::start_with(&data, &["--mqtt-addr", &format!("127.0.0.1:{mqtt}")]);
    let rt = runtime();
    let roster = provision_watches(&rt, &data, 5);
    let fleet = Fleet::start(&rt, &roster, mqtt);
    fleet.wait_connected();

    rt.block_on(async {
        for round in 0..40 {
            for input in &fleet.inputs {
                input.send(measure()).await.unwrap();
                // Halfway, each device loses its connection right after handing over a
                // message, before any ack can be back: that message must be replayed.
                if round == 20 {
                    input.send(Command::DropConnection).await.unwrap();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let outcomes = fleet.finish(&rt);
    assert_all_stored_once(&data, &outcomes);
    for o in &outcomes {
        assert_eq!(o.messages, 40);
        assert!(o.reconnects >= 1, "{o:?}");
        assert!(o.resent_messages >= 1, "nothing was replayed: {o:?}");
    }
    up.stop_with(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn a_database_stopped_for_30s_under_load_holds_memory_and_loses_nothing() {
    let (_guard, data) = data_dir();
    let mqtt = free_port();
    let mut up = Up::start_with(&data, &["--mqtt-addr", &format!("127.0.0.1:{mqtt}")]);
    let rt = runtime();
    let roster = provision_watches(&rt, &data, 20);
    let mut fleet = Fleet::start(&rt, &roster, mqtt);
    fleet.wait_connected();
    // 20 devices × 20 messages/s × 5 readings: 2,000 readings/s.
    fleet.stream(&rt, Duration::from_millis(50));
    std::thread::sleep(Duration::from_secs(5));
    assert!(fleet.acked() > 0, "nothing acked before the outage");

    assert!(healthsync(&data, &["db", "stop"]).status.success());
    let acked_at_outage = fleet.acked();
    std::thread::sleep(Duration::from_secs(5));
    let rss_early = rss_kib(up.child.id());
    std::thread::sleep(Duration::from_secs(25));
    let rss_late = rss_kib(up.child.id());
    let acked_during_outage = fleet.acked() - acked_at_outage;
    let started = healthsync(&data, &["db", "start"]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    // The platform kept running, and it acked nothing it could not store.
    assert!(
        up.child.try_wait().unwrap().is_none(),
        "healthsync up died with its database:\n{}",
        up.output()
    );
    assert!(
        acked_during_outage <= 40,
        "{acked_during_outage} messages acked while the database was down"
    );
    // Memory held still while devices kept measuring: the pressure stayed with them.
    assert!(
        rss_late < rss_early + 64 * 1024,
        "RSS grew from {rss_early} KiB to {rss_late} KiB during the outage"
    );

    assert!(
        up.output().contains("batch write failed"),
        "ingest never met the outage:\n{}",
        up.output()
    );
    eprintln!(
        "outage: RSS {rss_early} KiB after 5 s, {rss_late} KiB after 30 s; \
         {acked_during_outage} messages acked during it"
    );

    std::thread::sleep(Duration::from_secs(5));
    let outcomes = fleet.finish(&rt);
    assert_all_stored_once(&data, &outcomes);
    up.stop_with(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn kill_9_mid_stream_loses_no_acked_reading_and_stores_none_twice() {
    let (_guard, data) = data_dir();
    let mqtt = format!("127.0.0.1:{}", free_port());
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt]);
    let rt = runtime();
    let roster = provision_watches(&rt, &data, 10);
    let port = mqtt.rsplit(':').next().unwrap().parse().unwrap();
    let mut fleet = Fleet::start(&rt, &roster, port);
    fleet.wait_connected();
    fleet.stream(&rt, Duration::from_millis(20));
    std::thread::sleep(Duration::from_secs(4));
    let acked_before = fleet.acked();
    assert!(acked_before > 0);

    up.kill_process_group();
    std::thread::sleep(Duration::from_secs(1));
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt]);
    fleet.wait_connected();
    std::thread::sleep(Duration::from_secs(3));
    let outcomes = fleet.finish(&rt);
    assert_all_stored_once(&data, &outcomes);
    assert!(
        outcomes.iter().all(|o| o.reconnects >= 1),
        "every device lost its connection with the platform"
    );
    let replayed: u64 = outcomes.iter().map(|o| o.resent_messages).sum();
    assert!(replayed > 0, "no message was in flight at the kill");
    eprintln!("kill -9: {acked_before} messages acked before it, {replayed} replayed after it");
    up.stop_with(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn up_demo_provisions_a_fleet_once_and_streams_its_vitals() {
    let (_guard, data) = data_dir();
    let mqtt = format!("127.0.0.1:{}", free_port());
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt, "--demo"]);
    let count = |sql: &str| -> u64 { psql(&data, sql).parse().unwrap() };
    wait_until(|| count("SELECT count(DISTINCT device_id) FROM readings") >= 5);
    let patients = count("SELECT count(*) FROM patients");
    let roster = Roster::load(&data.join("demo/roster.json")).unwrap();
    assert_eq!(roster.patients.len() as u64, patients);
    // The first start plays a day of history: readings reach back about a day.
    wait_until(|| {
        count("SELECT count(*) FROM readings WHERE measured_at < now() - interval '12 hours'") > 0
    });
    wait_until(|| {
        std::fs::read_to_string(data.join("demo/ground-truth.jsonl"))
            .is_ok_and(|truth| truth.lines().count() > 0)
    });
    // The demo's two sign-ins, readable by the owner only: the clinician's care team is
    // the whole fleet, and the first patient signs in to their own data.
    let logins_path = data.join("demo/logins.txt");
    let logins = std::fs::read_to_string(&logins_path).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&logins_path).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let base = format!("http://127.0.0.1:{}", up.port);
    let sign_in = |role: &str| {
        let line = logins.lines().find(|l| l.starts_with(role)).unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (status, session) = http_post_json(
            &format!("{base}/api/auth/login"),
            None,
            serde_json::json!({"identifier": fields[1], "password": fields[2]}),
        );
        assert_eq!(status, 200, "{role}: {session}");
        session
    };
    let clinician = sign_in("clinician");
    let token = clinician["access"].as_str().unwrap();
    let listed = http_get_json(&format!("{base}/api/patients?limit=200"), token);
    assert_eq!(listed["items"].as_array().unwrap().len() as u64, patients);
    let patient = sign_in("patient");
    assert_eq!(patient["user"]["id"], roster.patients[0].id.to_string());
    up.stop_with(nix::sys::signal::Signal::SIGTERM);

    // A second start resumes the same patients instead of creating more, with the same
    // sign-ins.
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt, "--demo"]);
    assert_eq!(count("SELECT count(*) FROM patients"), patients);
    assert_eq!(std::fs::read_to_string(&logins_path).unwrap(), logins);
    up.stop_with(nix::sys::signal::Signal::SIGTERM);
}
