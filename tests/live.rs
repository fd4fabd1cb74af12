//! Live updates end to end: a device publishes over MQTT (mosquitto_pub) to a running
//! `healthsync up`; the reading appears on its patient's WebSocket subscription (a
//! tokio-tungstenite client) once stored, and nowhere else; another patient's attempt to
//! subscribe to it is refused, and a connection without a valid token is refused before
//! the upgrade.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{PASSWORD, Up, add_user, data_dir, free_port, healthsync, http_post_json, stdout};
use futures_util::{SinkExt, StreamExt};
use nix::sys::signal::Signal;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(30);

fn login(base: &str, email: &str) -> String {
    let (status, session) = http_post_json(
        &format!("{base}/api/auth/login"),
        None,
        json!({"identifier": email, "password": PASSWORD}),
    );
    assert_eq!(status, 200, "{session}");
    session["access"].as_str().unwrap().to_owned()
}

/// The next JSON message, skipping pings.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn subscribe(socket: &mut Socket, patient: &str) -> Value {
    let command = json!({"type": "subscribe", "topic": "patient", "patient_id": patient});
    socket
        .send(Message::Text(command.to_string()))
        .await
        .unwrap();
    next(socket).await
}

#[test]
fn a_reading_published_over_mqtt_reaches_its_patients_subscription_only() {
    let (_dir, data) = data_dir();
    let mqtt = format!("127.0.0.1:{}", free_port());
    let up = Up::start_with(&data, &["--mqtt-addr", &mqtt]);
    let base = format!("http://127.0.0.1:{}", up.port);
    let ws = format!("ws://127.0.0.1:{}/api/ws", up.port);
    let patient_a = add_user(&data, "a@example.org", "patient");
    let patient_b = add_user(&data, "b@example.org", "patient");
    let out = healthsync(
        &data,
        &[
            "device",
            "add",
            "--patient",
            "a@example.org",
            "--kind",
            "smartwatch",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let device: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let (device, key) = (
        device["device_id"].as_str().unwrap().to_owned(),
        device["api_key"].as_str().unwrap().to_owned(),
    );
    let token_a = login(&base, "a@example.org");
    let token_b = login(&base, "b@example.org");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // No token, or a forged one: refused before the upgrade.
        for url in [ws.clone(), format!("{ws}?token=not-a-token")] {
            let refused = connect_async(url.as_str()).await.unwrap_err();
            assert!(refused.to_string().contains("401"), "{refused}");
        }

        let (mut a, _) = connect_async(format!("{ws}?token={token_a}"))
            .await
            .unwrap();
        let answer = subscribe(&mut a, &patient_a).await;
        assert_eq!(
            answer,
            json!({"type": "subscribed", "topic": "patient", "patient_id": patient_a})
        );
        let (mut b, _) = connect_async(format!("{ws}?token={token_b}"))
            .await
            .unwrap();
        let refused = subscribe(&mut b, &patient_a).await;
        assert_eq!(
            (&refused["type"], &refused["code"]),
            (&json!("error"), &json!("forbidden"))
        );
        assert_eq!(subscribe(&mut b, &patient_b).await["type"], "subscribed");
        // A malformed command is answered, and the connection stays.
        b.send(Message::Text("{\"type\": \"dance\"}".into()))
            .await
            .unwrap();
        assert_eq!(next(&mut b).await["code"], "invalid");

        let (host, port) = mqtt.split_once(':').unwrap();
        let t = chrono::Utc::now().to_rfc3339();
        let payload = format!(
            r#"{{"seq": 1, "readings": [{{"metric": "heart_rate", "t": "{t}", "v": 77}}]}}"#
        );
        let published = Command::new("mosquitto_pub")
            .args([
                "-h", host, "-p", port, "-i", &device, "-u", &device, "-P", &key, "-q", "1",
            ])
            .args(["-t", &format!("devices/{device}/telemetry"), "-m", &payload])
            .status()
            .unwrap();
        assert!(published.success());

        let reading = next(&mut a).await;
        assert_eq!(reading["type"], "reading", "{reading}");
        assert_eq!(reading["patient_id"], patient_a.as_str());
        assert_eq!(reading["device_id"], device.as_str());
        assert_eq!(
            (&reading["metric"], &reading["value"]),
            (&json!("heart_rate"), &json!(77.0))
        );
        // Stored before it was sent.
        let stored = common::psql(
            &data,
            &format!("SELECT value FROM readings WHERE device_id = '{device}'"),
        );
        assert_eq!(stored, "77");

        // B, subscribed to their own vitals only, was sent nothing of it; the one message
        // B gets is the answer to this subscription.
        assert_eq!(subscribe(&mut b, &patient_b).await["type"], "subscribed");
    });
    up.stop_with(Signal::SIGTERM);
}
