//! The alert feed over the WebSocket, against the real router served on a socket: a
//! clinician hears of changes to their care team's alerts and not of others'; a
//! clinician's feed follows the care team, an admin's everyone's.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::Api;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn serve(api: &Api) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = healthsync_api::router(api.state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    addr
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn feed(addr: SocketAddr, token: &str) -> Socket {
    let (mut socket, _) = connect_async(format!("ws://{addr}/api/ws?token={token}"))
        .await
        .unwrap();
    let subscribe = json!({"type": "subscribe", "topic": "alerts"});
    socket
        .send(Message::Text(subscribe.to_string()))
        .await
        .unwrap();
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "subscribed", "topic": "alerts"})
    );
    socket
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acknowledgement_reaches_the_care_teams_feed_and_the_admins_only() {
    let api = Api::start().await;
    let cast = api.cast().await;
    let addr = serve(&api).await;
    let clinician = api.session(&cast.clinician_of_a).await;
    let other = api.session(&cast.other_clinician).await;
    let admin = api.session(&cast.admin).await;
    let mut mine = feed(addr, &clinician.access).await;
    let mut theirs = feed(addr, &other.access).await;
    let mut everyone = feed(addr, &admin.access).await;

    let path = format!("/api/alerts/{}/acknowledge", cast.alert_a);
    let (status, _) = api.post(&path, Some(&clinician.access), json!({})).await;
    assert_eq!(status, 200);
    for socket in [&mut mine, &mut everyone] {
        let update = next(socket).await;
        assert_eq!(update["type"], "alert", "{update}");
        assert_eq!(update["change"], "acknowledged");
        assert_eq!(update["alert"]["id"], json!(cast.alert_a));
    }
    // The other clinician's next message is the answer to this, not the alert.
    let ping = json!({"type": "unsubscribe", "topic": "alerts"});
    theirs.send(Message::Text(ping.to_string())).await.unwrap();
    assert_eq!(next(&mut theirs).await["type"], "unsubscribed");

    // A patient's feed is their own alerts; the patient topic of someone else is refused.
    let patient = api.session(&cast.patient_b).await;
    let mut b = feed(addr, &patient.access).await;
    let other_patient =
        json!({"type": "subscribe", "topic": "patient", "patient_id": cast.patient_a.id});
    b.send(Message::Text(other_patient.to_string()))
        .await
        .unwrap();
    assert_eq!(next(&mut b).await["code"], "forbidden");
    api.db.drop_database().await;
}
