//! Live updates over a WebSocket at `/api/ws`. The client authenticates with its access
//! token (`?token=`, since browsers cannot set headers on a WebSocket, or the usual
//! `Authorization` header), then subscribes with JSON text messages:
//!
//! - `{"type": "subscribe", "topic": "patient", "patient_id": ID}`: the patient's readings
//!   as they are committed, and changes to their alerts; allowed as reading the
//!   patient's vitals is (the patient, their care team, admins);
//! - `{"type": "subscribe", "topic": "alerts"}`: changes to the alerts of every patient the
//!   caller may list (a clinician's care team, everyone for an admin, a patient's own);
//! - `{"type": "unsubscribe", ...}` with the same fields.
//!
//! Answers are `{"type": "subscribed" | "unsubscribed" | "error", ...}`; updates are
//! `{"type": "reading", ...}` and `{"type": "alert", "change", "alert"}`. Each connection
//! follows the platform's broadcast streams; one that falls behind (a slow client) is
//! closed rather than allowed to hold anything up, and one whose session or account ends
//! is closed within [`RECHECK`].

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use axum::{RequestPartsExt, Router};
use healthsync_analytics::alert::AlertEvent;
use healthsync_core::ids::UserId;
use healthsync_core::users::Role;
use healthsync_ingest::CommittedReading;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::access::{Action, authorize, list_scope};
use crate::auth::caller::{Caller, ClientMeta, NO_TOKEN, bearer};
use crate::error::ApiError;

/// How often a connection checks that its session and account are still good.
pub const RECHECK: Duration = Duration::from_secs(15);
/// A message the client does not take within this long closes the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_COMMAND_BYTES: usize = 4096;
/// Close codes (4000-4999 are the application's): the session ended, the client lagged.
const CLOSE_SESSION_ENDED: u16 = 4001;
const CLOSE_TOO_SLOW: u16 = 4008;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/ws", get(upgrade))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn upgrade(State(state): State<AppState>, mut parts: Parts) -> Result<Response, ApiError> {
    let query: Option<Query<TokenQuery>> = parts.extract().await.ok();
    let token = query
        .and_then(|Query(q)| q.token)
        .or_else(|| bearer(&parts).map(str::to_owned))
        .ok_or(ApiError::Unauthorized(NO_TOKEN))?;
    let caller = Caller::authenticate(&state, &token, ClientMeta::from_parts(&parts)).await?;
    let upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection> = parts.extract().await;
    let upgrade = upgrade.map_err(|e| ApiError::BadRequest {
        code: "websocket_expected",
        message: e.to_string(),
        field: None,
    })?;
    Ok(upgrade
        .max_message_size(MAX_COMMAND_BYTES)
        .on_upgrade(move |socket| Connection::new(state, caller).run(socket)))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    Subscribe(Topic),
    Unsubscribe(Topic),
}

#[derive(Clone, Copy, Deserialize)]
#[serde(tag = "topic", rename_all = "snake_case", deny_unknown_fields)]
enum Topic {
    Patient { patient_id: UserId },
    Alerts,
}

impl Topic {
    fn describe(self) -> Value {
        match self {
            Topic::Patient { patient_id } => json!({"topic": "patient", "patient_id": patient_id}),
            Topic::Alerts => json!({"topic": "alerts"}),
        }
    }
}

/// The alert feed's reach: everyone (admins) or a set of patients.
enum Feed {
    Everyone,
    Patients(HashSet<UserId>),
}

struct Connection {
    state: AppState,
    caller: Caller,
    patients: HashSet<UserId>,
    feed: Option<Feed>,
}

enum Step {
    Continue,
    Close(u16, &'static str),
}

impl Connection {
    fn new(state: AppState, caller: Caller) -> Self {
        Self {
            state,
            caller,
            patients: HashSet::new(),
            feed: None,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let mut readings = self.state.ingest.as_ref().map(|i| i.committed());
        let mut alerts = self.state.alerts.as_ref().map(|a| a.subscribe());
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        let step = loop {
            let step = tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => self.command(&mut socket, &text).await,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => Step::Continue,
                },
                batch = next(&mut readings) => match batch {
                    Ok(batch) => self.readings(&mut socket, &batch).await,
                    Err(RecvError::Lagged(_)) => Step::Close(CLOSE_TOO_SLOW, "too slow: updates were missed"),
                    Err(RecvError::Closed) => Step::Close(1001, "shutting down"),
                },
                event = next(&mut alerts) => match event {
                    Ok(event) => self.alert(&mut socket, &event).await,
                    Err(RecvError::Lagged(_)) => Step::Close(CLOSE_TOO_SLOW, "too slow: updates were missed"),
                    Err(RecvError::Closed) => Step::Close(1001, "shutting down"),
                },
                _ = recheck.tick() => match self.caller.current_role(&self.state).await {
                    Ok(Some(role)) if role == self.caller.role => Step::Continue,
                    Ok(_) => Step::Close(CLOSE_SESSION_ENDED, "session ended"),
                    // The database is unreachable: try again at the next check.
                    Err(_) => Step::Continue,
                },
            };
            if let Step::Close(..) = step {
                break step;
            }
        };
        if let Step::Close(code, reason) = step {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ =
                tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
        }
    }

    async fn command(&mut self, socket: &mut WebSocket, text: &str) -> Step {
        let command: Command = match serde_json::from_str(text) {
            Ok(command) => command,
            Err(e) => {
                let error = json!({"type": "error", "code": "invalid", "message": e.to_string()});
                return send(socket, &error).await;
            }
        };
        let (topic, subscribe) = match command {
            Command::Subscribe(topic) => (topic, true),
            Command::Unsubscribe(topic) => (topic, false),
        };
        let mut answer = if subscribe {
            match self.subscribe(topic).await {
                Ok(()) => json!({"type": "subscribed"}),
                Err(ApiError::Internal(detail)) => {
                    tracing::error!(%detail, "live subscription failed");
                    json!({"type": "error", "code": "internal", "message": "internal error"})
                }
                Err(e @ ApiError::Forbidden(_)) => {
                    json!({"type": "error", "code": "forbidden", "message": e.to_string()})
                }
                Err(e) => json!({"type": "error", "code": "invalid", "message": e.to_string()}),
            }
        } else {
            match topic {
                Topic::Patient { patient_id } => {
                    self.patients.remove(&patient_id);
                }
                Topic::Alerts => self.feed = None,
            }
            json!({"type": "unsubscribed"})
        };
        if let (Some(answer), Value::Object(topic)) = (answer.as_object_mut(), topic.describe()) {
            answer.extend(topic);
        }
        send(socket, &answer).await
    }

    async fn subscribe(&mut self, topic: Topic) -> Result<(), ApiError> {
        match topic {
            Topic::Patient { patient_id } => {
                let read = Action::Patient {
                    patient: patient_id,
                    write: false,
                    resource: "live_vitals",
                };
                authorize(&self.state, &self.caller, read).await?;
                self.patients.insert(patient_id);
            }
            Topic::Alerts => {
                let scope = list_scope(&self.state, &self.caller, None, "live_alerts").await?;
                self.feed = Some(match (scope.patient, self.caller.role) {
                    (Some(patient), _) => Feed::Patients(HashSet::from([patient])),
                    (None, Role::Admin) => Feed::Everyone,
                    // The care team as it is now; a later change applies to the next
                    // subscription.
                    (None, _) => Feed::Patients(
                        sqlx::query_scalar::<_, UserId>(
                            "SELECT patient_id FROM care_team WHERE clinician_id = $1",
                        )
                        .bind(self.caller.user_id)
                        .fetch_all(&self.state.pool)
                        .await?
                        .into_iter()
                        .collect(),
                    ),
                });
            }
        }
        Ok(())
    }

    async fn readings(&self, socket: &mut WebSocket, batch: &[CommittedReading]) -> Step {
        for committed in batch.iter().filter(|r| self.patients.contains(&r.patient)) {
            let reading = &committed.reading;
            let mut update = json!({
                "type": "reading",
                "patient_id": committed.patient,
                "device_id": committed.device,
                "metric": reading.metric,
                "t": reading.measured_at,
                "value": reading.value,
            });
            if let Some(value2) = reading.value2 {
                update["value2"] = json!(value2);
            }
            if let Step::Close(code, reason) = send(socket, &update).await {
                return Step::Close(code, reason);
            }
        }
        Step::Continue
    }

    async fn alert(&self, socket: &mut WebSocket, event: &AlertEvent) -> Step {
        let patient = event.alert.patient_id;
        let in_feed = match &self.feed {
            Some(Feed::Everyone) => true,
            Some(Feed::Patients(patients)) => patients.contains(&patient),
            None => false,
        };
        if !(in_feed || self.patients.contains(&patient)) {
            return Step::Continue;
        }
        let update = json!({"type": "alert", "change": event.change, "alert": event.alert});
        send(socket, &update).await
    }
}

/// The next message of an optional stream; never resolves when there is none.
async fn next<T: Clone>(receiver: &mut Option<broadcast::Receiver<T>>) -> Result<T, RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

async fn send(socket: &mut WebSocket, message: &Value) -> Step {
    let text = Message::Text(message.to_string());
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(text)).await {
        Ok(Ok(())) => Step::Continue,
        Ok(Err(_)) => Step::Close(1011, "send failed"),
        Err(_) => Step::Close(CLOSE_TOO_SLOW, "too slow: a message waited too long"),
    }
}
