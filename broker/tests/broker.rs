//! The embedded broker with real clients — Debian's `mosquitto_pub`/`mosquitto_sub` and
//! rumqttc — against a real database: authentication, the topic ACL, limits, revocation
//! and rotation of live sessions, connection tracking, TLS, and a thousand devices at once.

use std::net::{SocketAddr, TcpListener};
use std::process::Output;
use std::time::{Duration, Instant};

use healthsync_broker::{Broker, InProcessSubscriber};
use healthsync_core::api_keys::KeyHasher;
use healthsync_core::config::BrokerSettings;
use healthsync_core::devices::{self, DeviceKind};
use healthsync_core::ids::{DeviceId, UserId};
use healthsync_core::test_support::{TestDb, test_db, test_device, test_patient};
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, QoS};
use tokio::process::Command;
use tokio::time::timeout;

/// Upper bound for anything a test waits on; a hang guard, not a performance goal.
const WAIT: Duration = Duration::from_secs(30);

struct Platform {
    db: TestDb,
    broker: Broker,
    hasher: KeyHasher,
    port: u16,
    patient: UserId,
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn platform_with(settings: BrokerSettings) -> Platform {
    let db = test_db().await;
    let hasher = KeyHasher::new(&[42; 32]);
    let addr = free_addr();
    let broker = Broker::start(addr, &settings, db.pool.clone(), hasher.clone())
        .await
        .unwrap();
    let patient = test_patient(&db.pool).await;
    Platform {
        db,
        broker,
        hasher,
        port: addr.port(),
        patient,
    }
}

async fn platform() -> Platform {
    platform_with(BrokerSettings::default()).await
}

impl Platform {
    async fn device(&self) -> (DeviceId, String) {
        let registered = test_device(
            &self.db.pool,
            &self.hasher,
            self.patient,
            DeviceKind::Smartwatch,
        )
        .await;
        (registered.device.id, registered.api_key)
    }

    /// An in-process subscriber, as ingest is.
    async fn observer(&self, filter: &str) -> InProcessSubscriber {
        let (_tx, rx) = self
            .broker
            .subscribe(&format!("observer-{}", uuid::Uuid::new_v4()), filter)
            .await
            .unwrap();
        rx
    }

    async fn mosquitto(&self, program: &str, id: &str, key: &str, args: &[&str]) -> Output {
        let port = self.port.to_string();
        timeout(
            WAIT,
            Command::new(program)
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-i",
                    id,
                    "-u",
                    id,
                    "-P",
                    key,
                ])
                .args(args)
                .output(),
        )
        .await
        .expect("mosquitto client hung")
        .unwrap()
    }

    async fn pub_(&self, id: &str, key: &str, topic: &str, payload: &str) -> Output {
        self.mosquitto(
            "mosquitto_pub",
            id,
            key,
            &["-q", "1", "-t", topic, "-m", payload],
        )
        .await
    }

    fn rumqttc(&self, id: &str, key: &str) -> (AsyncClient, rumqttc::EventLoop) {
        let mut options = MqttOptions::new(id, "127.0.0.1", self.port);
        options.set_credentials(id, key);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        eventloop
            .network_options
            .set_connection_timeout(WAIT.as_secs());
        (client, eventloop)
    }

    async fn events(&self, device: DeviceId) -> Vec<(String, Option<String>)> {
        sqlx::query_as(
            "SELECT kind::text, detail FROM device_events WHERE device_id = $1 ORDER BY id",
        )
        .bind(device)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    /// Waits until the tracker's batch writer has stored an event of `kind`.
    async fn wait_event(&self, device: DeviceId, kind: &str) -> Vec<(String, Option<String>)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let events = self.events(device).await;
            if events.iter().any(|(k, _)| k == kind) {
                return events;
            }
            assert!(Instant::now() < deadline, "no {kind} event: {events:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The next publish an in-process subscriber receives: (topic, payload).
async fn next_publish(rx: &mut InProcessSubscriber) -> (String, String) {
    let delivery = timeout(WAIT, rx.next())
        .await
        .expect("no publish arrived")
        .unwrap();
    (
        String::from_utf8_lossy(&delivery.topic).into_owned(),
        String::from_utf8_lossy(&delivery.payload).into_owned(),
    )
}

/// Polls until the connection is accepted, or returns the connection error.
async fn connect(eventloop: &mut rumqttc::EventLoop) -> Result<(), ConnectionError> {
    timeout(WAIT, async {
        loop {
            match eventloop.poll().await? {
                Event::Incoming(Packet::ConnAck(_)) => return Ok(()),
                _ => continue,
            }
        }
    })
    .await
    .expect("connect hung")
}

/// Polls until the broker closes the connection; returns how long that took.
async fn until_disconnected(eventloop: &mut rumqttc::EventLoop) -> Duration {
    let started = Instant::now();
    timeout(WAIT, async {
        loop {
            if eventloop.poll().await.is_err() {
                return started.elapsed();
            }
        }
    })
    .await
    .expect("the broker kept the connection open")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_with_a_valid_key_publishes_to_the_platform() {
    let p = platform().await;
    let (id, key) = p.device().await;
    let mut observer = p.observer("devices/+/telemetry").await;
    let topic = format!("devices/{id}/telemetry");
    let out = p.pub_(&id.to_string(), &key, &topic, r#"{"seq":1}"#).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        next_publish(&mut observer).await,
        (topic.clone(), r#"{"seq":1}"#.into())
    );
    // The next client reuses the client id; rumqttd takes over a session it still
    // holds by closing it, and a takeover racing the first session's own close can drop
    // the new connection too (the client would reconnect; a test must not race it).
    p.wait_event(id, "disconnected").await;

    // MQTT 5 on the same port.
    let out = p
        .mosquitto(
            "mosquitto_pub",
            &id.to_string(),
            &key,
            &["-V", "5", "-q", "1", "-t", &topic, "-m", "v5"],
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(next_publish(&mut observer).await, (topic, "v5".into()));

    let events = p.wait_event(id, "disconnected").await;
    assert_eq!(events[0], ("connected".into(), None));
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_unknown_key_is_refused_at_connack() {
    let p = platform().await;
    let (id, key) = p.device().await;
    let (_other, other_key) = p.device().await;
    let id = id.to_string();
    let (_client, mut live) = p.rumqttc(&id, &key);
    connect(&mut live).await.unwrap();

    for bad in [other_key.as_str(), "not-a-key"] {
        let (_client, mut eventloop) = p.rumqttc(&id, bad);
        match connect(&mut eventloop).await {
            Err(ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword)) => {}
            other => panic!("key {bad:?} was not refused with a CONNACK: {other:?}"),
        }
    }
    // mosquitto_pub reports the CONNACK's return code.
    let refused = |out: Output, reason: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{out:?}");
        assert!(
            stderr.contains("Connection Refused") && stderr.contains(reason),
            "{stderr}"
        );
    };
    // The username must be the device id.
    let out = p
        .mosquitto(
            "mosquitto_pub",
            &id,
            &key,
            &["-u", "someone-else", "-t", "x", "-m", "x"],
        )
        .await;
    refused(out, "identifier rejected");
    // An unknown device id.
    let stranger = DeviceId::new().to_string();
    let topic = format!("devices/{stranger}/telemetry");
    refused(
        p.pub_(&stranger, &key, &topic, "x").await,
        "bad user name or password",
    );

    // None of this displaced the real device's live session.
    assert!(p.broker.tracker().is_online(id.parse().unwrap()));
    let deadline = Instant::now() + WAIT;
    let mut events = p.events(id.parse().unwrap()).await;
    while events.len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        events = p.events(id.parse().unwrap()).await;
    }
    assert_eq!(
        events,
        [
            ("connected".to_string(), None),
            ("refused".to_string(), Some("bad_key".to_string())),
            ("refused".to_string(), Some("bad_key".to_string())),
            ("refused".to_string(), Some("bad_client_id".to_string())),
        ]
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_rate_limit_the_device_id() {
    let p = platform().await;
    let (id, key) = p.device().await;
    let id = id.to_string();
    for _ in 0..BrokerSettings::default().max_failed_auth {
        let (_c, mut eventloop) = p.rumqttc(&id, "wrong");
        assert!(connect(&mut eventloop).await.is_err());
    }
    // Now even the right key is refused for a while.
    let (_c, mut eventloop) = p.rumqttc(&id, &key);
    assert!(connect(&mut eventloop).await.is_err());
    let events = p.wait_event(id.parse().unwrap(), "refused").await;
    let deadline = Instant::now() + WAIT;
    let mut events = events;
    while !events
        .iter()
        .any(|(_, d)| d.as_deref() == Some("rate_limited"))
    {
        assert!(Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        events = p.events(id.parse().unwrap()).await;
    }
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_to_another_devices_topic_disconnects_and_reaches_nobody() {
    let p = platform().await;
    let (attacker, attacker_key) = p.device().await;
    let (victim, victim_key) = p.device().await;
    let mut observer = p.observer("#").await;

    let (client, mut eventloop) = p.rumqttc(&attacker.to_string(), &attacker_key);
    connect(&mut eventloop).await.unwrap();
    client
        .publish(
            format!("devices/{victim}/telemetry"),
            QoS::AtLeastOnce,
            false,
            "forged",
        )
        .await
        .unwrap();
    until_disconnected(&mut eventloop).await;

    // The next message anyone sees is the victim's own, not the forged one.
    let topic = format!("devices/{victim}/telemetry");
    assert!(
        p.pub_(&victim.to_string(), &victim_key, &topic, "genuine")
            .await
            .status
            .success()
    );
    assert_eq!(next_publish(&mut observer).await, (topic, "genuine".into()));

    let events = p.wait_event(attacker, "acl_violation").await;
    assert!(
        events.contains(&(
            "acl_violation".into(),
            Some(format!("publish: devices/{victim}/telemetry"))
        )),
        "{events:?}"
    );
    // Also a device may not publish to its own ack topic, nor to an unrelated topic.
    for topic in [format!("devices/{attacker}/ack"), "alerts".into()] {
        let out = p
            .pub_(&attacker.to_string(), &attacker_key, &topic, "x")
            .await;
        assert!(!out.status.success(), "{topic}: {out:?}");
    }
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribing_beyond_its_own_topics_is_refused() {
    let p = platform().await;
    let (id, key) = p.device().await;
    let (other, _) = p.device().await;
    let id_s = id.to_string();
    for filter in [
        "#",
        "devices/+/ack",
        "devices/#",
        &format!("devices/{other}/ack"),
    ] {
        let out = p
            .mosquitto(
                "mosquitto_sub",
                &id_s,
                &key,
                &["-t", filter, "-W", "3", "--quiet"],
            )
            .await;
        assert!(!out.status.success(), "subscribing to {filter} was allowed");
    }
    // Its own ack topic works: an ack published in-process reaches it.
    let (client, mut eventloop) = p.rumqttc(&id_s, &key);
    connect(&mut eventloop).await.unwrap();
    client
        .subscribe(format!("devices/{id}/ack"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (mut ingest, _rx) = p.broker.link("ingest-test").await.unwrap();
    let received = timeout(WAIT, async {
        loop {
            match eventloop.poll().await.unwrap() {
                Event::Incoming(Packet::SubAck(_)) => {
                    ingest
                        .publish(format!("devices/{id}/ack"), r#"{"seq":1}"#)
                        .unwrap();
                }
                Event::Incoming(Packet::Publish(publish)) => return publish.payload,
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(&received[..], br#"{"seq":1}"#);
    let events = p.wait_event(id, "acl_violation").await;
    assert!(
        events.contains(&("acl_violation".into(), Some("subscribe: #".into()))),
        "{events:?}"
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_payload_is_refused() {
    let settings = BrokerSettings::default();
    let p = platform_with(settings.clone()).await;
    let (id, key) = p.device().await;
    let mut observer = p.observer("devices/+/telemetry").await;
    let (client, mut eventloop) = p.rumqttc(&id.to_string(), &key);
    connect(&mut eventloop).await.unwrap();
    let topic = format!("devices/{id}/telemetry");
    client
        .publish(
            &topic,
            QoS::AtLeastOnce,
            false,
            vec![b'x'; settings.max_payload_bytes + 1],
        )
        .await
        .unwrap();
    until_disconnected(&mut eventloop).await;
    // A payload at the limit still passes.
    let (client, mut eventloop) = p.rumqttc(&id.to_string(), &key);
    connect(&mut eventloop).await.unwrap();
    let at_limit = "y".repeat(settings.max_payload_bytes - topic.len() - 8);
    client
        .publish(&topic, QoS::AtLeastOnce, false, at_limit.clone())
        .await
        .unwrap();
    let delivered = tokio::spawn(async move {
        loop {
            if eventloop.poll().await.is_err() {
                break;
            }
        }
    });
    assert_eq!(next_publish(&mut observer).await, (topic, at_limit));
    delivered.abort();
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_and_revocation_drop_live_sessions_and_refuse_the_old_key() {
    let p = platform().await;
    let (id, key) = p.device().await;

    let (_client, mut eventloop) = p.rumqttc(&id.to_string(), &key);
    connect(&mut eventloop).await.unwrap();
    let rotated = devices::rotate_key(&p.db.pool, &p.hasher, id)
        .await
        .unwrap();
    let after_rotation = until_disconnected(&mut eventloop).await;
    println!("session dropped {after_rotation:?} after rotation");

    let (_c, mut eventloop) = p.rumqttc(&id.to_string(), &key);
    assert!(
        connect(&mut eventloop).await.is_err(),
        "the old key still works"
    );
    let (_client, mut eventloop) = p.rumqttc(&id.to_string(), &rotated.api_key);
    connect(&mut eventloop).await.expect("the new key works");

    devices::revoke(&p.db.pool, id).await.unwrap();
    let after_revocation = until_disconnected(&mut eventloop).await;
    println!("session dropped {after_revocation:?} after revocation");
    let (_c, mut eventloop) = p.rumqttc(&id.to_string(), &rotated.api_key);
    assert!(
        connect(&mut eventloop).await.is_err(),
        "a revoked device connected"
    );
    let events = p.wait_event(id, "refused").await;
    assert!(
        events.iter().any(|(_, d)| d.as_deref() == Some("revoked"))
            || events.iter().any(|(_, d)| d.as_deref() == Some("bad_key")),
        "{events:?}"
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn online_state_and_last_seen_are_tracked() {
    let p = platform().await;
    let (id, key) = p.device().await;
    let online = || async {
        sqlx::query_as::<_, (bool, Option<chrono::DateTime<chrono::Utc>>)>(
            "SELECT online, last_seen_at FROM devices WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&p.db.pool)
        .await
        .unwrap()
    };
    let wait_for = |want: bool| async move {
        let deadline = Instant::now() + WAIT;
        loop {
            let (is_online, seen) = online().await;
            if is_online == want {
                return seen;
            }
            assert!(Instant::now() < deadline, "online never became {want}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(!online().await.0);
    let (client, mut eventloop) = p.rumqttc(&id.to_string(), &key);
    connect(&mut eventloop).await.unwrap();
    wait_for(true).await;
    client.disconnect().await.unwrap();
    while eventloop.poll().await.is_ok() {}
    let seen = wait_for(false).await;
    assert!(seen.is_some(), "last_seen_at was not recorded");
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_listener_accepts_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key_file)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let tls_addr = free_addr();
    let p = platform_with(BrokerSettings {
        tls_addr: Some(tls_addr),
        tls_cert: Some(cert.clone()),
        tls_key: Some(key_file),
        ..BrokerSettings::default()
    })
    .await;
    let (id, key) = p.device().await;
    let mut observer = p.observer("devices/+/telemetry").await;
    let topic = format!("devices/{id}/telemetry");
    let out = Command::new("mosquitto_pub")
        .args([
            "-h",
            "localhost",
            "-p",
            &tls_addr.port().to_string(),
            "--cafile",
        ])
        .arg(&cert)
        .args([
            "-i",
            &id.to_string(),
            "-u",
            &id.to_string(),
            "-P",
            &key,
            "-q",
            "1",
            "-t",
            &topic,
            "-m",
            "over-tls",
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        next_publish(&mut observer).await,
        (topic, "over-tls".into())
    );
    p.db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_devices_connect_at_once_and_all_publish() {
    const N: usize = 1000;
    raise_fd_limit();
    let p = platform().await;
    let mut observer = p.observer("devices/+/telemetry").await;
    let mut devices = Vec::with_capacity(N);
    for _ in 0..N {
        devices.push(p.device().await);
    }
    // Connects go out at most 100 at a time (a fleet does not reboot in one millisecond);
    // all sessions then stay open together.
    let connecting = std::sync::Arc::new(tokio::sync::Semaphore::new(100));
    let mut tasks = Vec::with_capacity(N);
    for (id, key) in &devices {
        let (client, mut eventloop) = p.rumqttc(&id.to_string(), key);
        let topic = format!("devices/{id}/telemetry");
        let connecting = connecting.clone();
        tasks.push(tokio::spawn(async move {
            let permit = connecting.acquire_owned().await.unwrap();
            connect(&mut eventloop).await?;
            drop(permit);
            client
                .publish(topic, QoS::AtLeastOnce, false, "hello")
                .await
                .unwrap();
            loop {
                if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await? {
                    break;
                }
            }
            // Keep polling so the session stays alive (keep-alive pings) until dropped.
            let session = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
            Ok::<_, ConnectionError>((client, session))
        }));
    }
    let mut sessions = Vec::with_capacity(N);
    for task in tasks {
        sessions.push(
            timeout(WAIT * 4, task)
                .await
                .expect("device hung")
                .unwrap()
                .unwrap(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    while seen.len() < N {
        let (topic, _) = next_publish(&mut observer).await;
        seen.insert(topic);
    }
    let online: i64 =
        sqlx::query_scalar("SELECT count(*) FROM device_events WHERE kind = 'connected'")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert!(online <= N as i64);
    assert_eq!(
        p.broker.tracker().online().len(),
        N,
        "all {N} sessions are live at once"
    );
    drop(sessions);
    p.db.drop_database().await;
}

fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
}
