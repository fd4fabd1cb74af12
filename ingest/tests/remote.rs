//! Ingest workers reading from an external broker — Debian's Mosquitto 2 — through an MQTT 5
//! shared subscription: the workers split the messages, each message is stored and acked
//! exactly once, and both workers take part.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::IngestSettings;
use healthsync_core::devices::DeviceKind;
use healthsync_core::test_support::{test_db, test_device, test_patient};
use healthsync_ingest::remote::RemoteSettings;
use healthsync_ingest::{Pipeline, Source};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

const WAIT: Duration = Duration::from_secs(60);
const DEVICES: usize = 10;
const MESSAGES: usize = 20;

/// A Mosquitto 2 of this test's own, on a free loopback port, stopped on drop.
struct Mosquitto {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let child = std::process::Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mosquitto (deploy/setup.sh installs it)");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Mosquitto {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An ingest worker of the `ingest` group on the broker at `port`, fed by its shared
/// subscription.
async fn worker(pool: &sqlx::PgPool, port: u16, client_id: &str) -> Pipeline {
    let settings = RemoteSettings {
        host: "127.0.0.1".into(),
        port,
        client_id: client_id.into(),
        username: None,
        password: None,
        shared_group: "ingest".into(),
    };
    Pipeline::start(
        pool.clone(),
        &IngestSettings::default(),
        Source::Remote(settings),
    )
    .await
    .unwrap()
}

fn client(id: &str, port: u16) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    AsyncClient::new(options, 100)
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_in_a_shared_group_split_messages_without_duplicates() {
    let db = test_db().await;
    let broker = Mosquitto::start();
    let hasher = KeyHasher::new(&[5; 32]);
    let patient = test_patient(&db.pool).await;
    let mut ids = Vec::new();
    for _ in 0..DEVICES {
        let registered = test_device(&db.pool, &hasher, patient, DeviceKind::Smartwatch).await;
        ids.push(registered.device.id);
    }

    // Two workers, one group.
    let mut workers = Vec::new();
    let taken: Vec<Arc<AtomicUsize>> = (0..2).map(|_| Arc::default()).collect();
    for (n, taken) in taken.iter().enumerate() {
        let pipeline = worker(&db.pool, broker.port, &format!("ingest-{n}")).await;
        let mut committed = pipeline.handle.committed();
        let taken = taken.clone();
        tokio::spawn(async move {
            while let Ok(batch) = committed.recv().await {
                taken.fetch_add(batch.len(), Ordering::Relaxed);
            }
        });
        workers.push(pipeline);
    }

    // Every ack the devices receive.
    let acks = Arc::new(AtomicUsize::new(0));
    let (observer, mut observer_loop) = client("ack-observer", broker.port);
    observer
        .subscribe("devices/+/ack", QoS::AtLeastOnce)
        .await
        .unwrap();
    let counted = acks.clone();
    tokio::spawn(async move {
        while let Ok(event) = observer_loop.poll().await {
            if let Event::Incoming(Packet::Publish(_)) = event {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // Let both workers' and the observer's subscriptions settle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let now = chrono::Utc::now();
    for (d, id) in ids.iter().enumerate() {
        let (device, mut eventloop) = client(&format!("device-{d}"), broker.port);
        tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
        for seq in 0..MESSAGES {
            let t = (now - chrono::Duration::seconds((MESSAGES - seq) as i64)).to_rfc3339();
            let payload = format!(
                r#"{{"seq": {seq}, "readings": [{{"metric": "heart_rate", "t": "{t}", "v": {}}}]}}"#,
                60 + seq
            );
            device
                .publish(
                    format!("devices/{id}/telemetry"),
                    QoS::AtLeastOnce,
                    false,
                    payload,
                )
                .await
                .unwrap();
        }
    }

    let total = DEVICES * MESSAGES;
    let deadline = Instant::now() + WAIT;
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        if stored as usize == total && acks.load(Ordering::Relaxed) >= total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stored {stored} of {total}, {} acks",
            acks.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing arrives twice, even a little later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        acks.load(Ordering::Relaxed),
        total,
        "a message was acked twice"
    );
    let (a, b) = (
        taken[0].load(Ordering::Relaxed),
        taken[1].load(Ordering::Relaxed),
    );
    assert_eq!(a + b, total, "a reading was processed twice");
    assert!(a > 0 && b > 0, "one worker took everything: {a} / {b}");
    println!("worker 0 took {a}, worker 1 took {b}");

    for worker in workers {
        worker.shutdown().await;
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_come_through_the_shared_subscription_too() {
    let db = test_db().await;
    let broker = Mosquitto::start();
    let hasher = KeyHasher::new(&[5; 32]);
    let patient = test_patient(&db.pool).await;
    let id = test_device(&db.pool, &hasher, patient, DeviceKind::PulseOximeter)
        .await
        .device
        .id;
    let pipeline = worker(&db.pool, broker.port, "ingest-status").await;
    let mut statuses = pipeline.handle.statuses();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (device, mut eventloop) = client("device-status", broker.port);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let topic = format!("devices/{id}/status");
    let t = chrono::Utc::now().to_rfc3339();
    for payload in [
        "not a report".to_owned(),
        format!(r#"{{"t": "{t}", "kind": "low_battery", "battery": 0.08}}"#),
    ] {
        device
            .publish(&topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    let event = tokio::time::timeout(WAIT, statuses.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((event.device, event.report.battery), (id, Some(0.08)));
    let stored: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT detail FROM device_events WHERE device_id = $1 AND kind = 'status'")
            .bind(id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(stored, [(Some("low_battery".to_owned()),)]);
    let rejected: Vec<(String, String)> =
        sqlx::query_as("SELECT reason, raw FROM rejected_readings WHERE device_id = $1")
            .bind(id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        rejected,
        [("invalid_status".to_owned(), "not a report".to_owned())]
    );
    pipeline.shutdown().await;
    db.drop_database().await;
}
