//! The symptom assistant's conversations: a patient describes symptoms in their own words
//! and answers the assistant's questions; each reply (possible conditions, triage, the
//! specialty to see, the next question) comes with the providers of that specialty from
//! the directory (`users.specialty`), the patient's care team first.
//!
//! The patient's alone: their care team and admins are refused (403), and a conversation
//! of another patient answers 404 like one that does not exist. A turn reads the
//! patient's age and sex and their worst vitals of the last [`VITALS_WINDOW`], runs on a
//! blocking thread, and is stored — the patient's message, the reply, the new state — in
//! the transaction that locked the conversation, so messages to one conversation take
//! turns and a failed turn stores nothing.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use healthsync_analytics::assistant::conversation::{
    self, Answer, Assistant, Input, Reply, TurnError,
};
use healthsync_analytics::assistant::embedding::INSTALL_HINT;
use healthsync_analytics::assistant::knowledge::{Sex, Triage};
use healthsync_analytics::assistant::reasoning::{Profile, RecentVitals};
use healthsync_core::ids::UserId;
use healthsync_core::users::Role;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as Jsonb;
use sqlx::{PgConnection, Postgres, Transaction};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access::{Action, authorize};
use crate::auth::caller::Caller;
use crate::error::{ApiError, Json, Path, Query};
use crate::pagination::{Page, PageParams};

/// Longest free-text message, in characters.
const MAX_CONTENT_CHARS: usize = 2000;
/// How far back the patient's readings count for triage (by measurement time).
pub const VITALS_WINDOW: &str = "2 hours";
/// Providers listed with a reply.
const MAX_PROVIDERS: i64 = 5;
/// The specialty of emergency replies: the advice is to call emergency services or go to
/// an emergency department, not to book anyone.
const EMERGENCY_SPECIALTY: &str = "emergency_medicine";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations, start_conversation))
        .routes(routes!(list_messages, send_message))
}

/// The assistant, or 503 with what to install.
fn available(state: &AppState) -> Result<Arc<Assistant>, ApiError> {
    state
        .assistant
        .clone()
        .ok_or_else(|| ApiError::Unavailable {
            message: format!(
                "the symptom assistant is not available on this server: its model is not \
                 installed; {INSTALL_HINT}"
            ),
            retry_after: 3600,
        })
}

/// Free text as a message: not blank, at most [`MAX_CONTENT_CHARS`], no NUL.
fn checked_content(text: String) -> Result<String, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid("content", "must not be empty"));
    }
    if text.chars().count() > MAX_CONTENT_CHARS {
        return Err(ApiError::invalid(
            "content",
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    if text.contains('\0') {
        return Err(ApiError::invalid(
            "content",
            "must not contain NUL characters",
        ));
    }
    Ok(text)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// The first message (free text, 1 to 2000 characters), answered at once; without it
    /// the conversation starts empty.
    #[schema(min_length = 1, max_length = 2000)]
    content: Option<String>,
}

/// Exactly one of `content` and `answer`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Free text in the patient's words, 1 to 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    content: Option<String>,
    /// The answer to the question the last reply asked.
    answer: Option<Answer>,
}

impl NewMessage {
    fn input(self) -> Result<Input, ApiError> {
        let refused = |message: &str| ApiError::BadRequest {
            code: "invalid",
            message: message.to_owned(),
            field: None,
        };
        match (self.content, self.answer) {
            (Some(text), None) => Ok(Input::Text(checked_content(text)?)),
            (None, Some(answer)) => Ok(Input::Answer(answer)),
            (Some(_), Some(_)) => Err(refused(
                "send either `content` (free text) or `answer` (to the question asked), not both",
            )),
            (None, None) => Err(refused(
                "send `content` (free text) or `answer` (yes, no or unsure to the question asked)",
            )),
        }
    }
}

/// A clinician of the reply's specialty.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Provider {
    id: UserId,
    name: String,
    specialty: String,
    /// On the patient's care team (listed first).
    on_care_team: bool,
}

/// The assistant's answer to one message.
#[derive(Serialize, ToSchema)]
pub struct TurnReply {
    /// The stored assistant message that holds the reply.
    message_id: i64,
    reply: Reply,
    /// Active clinicians of the reply's specialty, the patient's care team first, at most
    /// 5; none for an emergency or when the directory has nobody of that specialty.
    providers: Vec<Provider>,
    /// How long the assistant took, in milliseconds.
    response_ms: f64,
}

#[derive(Serialize, ToSchema)]
pub struct StartedConversation {
    id: Uuid,
    created_at: DateTime<Utc>,
    /// The reply to the first message, when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<Reply>,
    /// The stored assistant message that holds the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<i64>,
    /// As for a message; empty without a first message.
    providers: Vec<Provider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_ms: Option<f64>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ConversationSummary {
    id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Messages stored, the patient's and the assistant's.
    message_count: i32,
    /// The triage level of the latest reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Triage>)]
    last_triage: Option<Jsonb<Triage>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum MessageRole {
    Patient,
    Assistant,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Message {
    id: i64,
    at: DateTime<Utc>,
    role: MessageRole,
    /// The patient's text or answer (`yes`, `no`, `unsure`); the reply in words (advice,
    /// then the question) on the assistant's messages.
    content: String,
    /// On an answer: the symptom the question was about.
    #[serde(skip_serializing_if = "Option::is_none")]
    answered: Option<String>,
    /// On the assistant's messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Reply>)]
    reply: Option<serde_json::Value>,
    /// On the assistant's messages: how long the reply took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    response_ms: Option<f64>,
}

/// Authorizes `action` on conversation `id`: the caller must be the patient who owns it.
/// Another patient's conversation answers 404 like a missing one (the refusal is still
/// audited); clinicians and admins get 403 either way.
async fn authorize_conversation(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &'static str,
) -> Result<(), ApiError> {
    let owner: Option<UserId> =
        sqlx::query_scalar("SELECT patient_id FROM assistant_conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await?;
    let decision = authorize(
        state,
        caller,
        Action::Assistant {
            patient: owner,
            action,
            target: Some(id.to_string()),
        },
    )
    .await;
    match decision {
        Err(ApiError::Forbidden(_)) if caller.role == Role::Patient => {
            Err(ApiError::NotFound("conversation"))
        }
        Err(e) => Err(e),
        Ok(()) if owner.is_none() => Err(ApiError::NotFound("conversation")),
        Ok(()) => Ok(()),
    }
}

/// Start a conversation with the symptom assistant, with a first message or without.
#[utoipa::path(post, path = "/api/assistant/conversations", tag = "assistant",
    security(("bearer" = [])),
    request_body = NewConversation,
    responses(
        (status = 201, description = "Started (and the first message answered)", body = StartedConversation),
        (status = 400, description = "Invalid message; nothing was stored", body = crate::error::ErrorBody),
        (status = 503, description = "The assistant's model is not installed on this server", body = crate::error::ErrorBody),
    ))]
async fn start_conversation(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewConversation>,
) -> Result<(StatusCode, Json<StartedConversation>), ApiError> {
    let input = body.content.map(checked_content).transpose()?;
    let id = Uuid::now_v7();
    let create = Action::Assistant {
        patient: None,
        action: "create",
        target: Some(id.to_string()),
    };
    authorize(&state, &caller, create).await?;
    let assistant = available(&state)?;
    let mut tx = state.pool.begin().await?;
    let initial = Jsonb(recorded_history(&mut tx, &assistant, caller.user_id).await?);
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO assistant_conversations (id, patient_id, state, knowledge)
         VALUES ($1, $2, $3, $4) RETURNING created_at",
    )
    .bind(id)
    .bind(caller.user_id)
    .bind(initial)
    .bind(assistant.kb.fingerprint())
    .fetch_one(&mut *tx)
    .await?;
    let turn = match input {
        Some(text) => {
            Some(take_turn(&mut tx, &assistant, id, caller.user_id, Input::Text(text)).await?)
        }
        None => None,
    };
    tx.commit().await?;
    let started = match turn {
        Some(turn) => StartedConversation {
            id,
            created_at,
            reply: Some(turn.reply),
            message_id: Some(turn.message_id),
            providers: turn.providers,
            response_ms: Some(turn.response_ms),
        },
        None => StartedConversation {
            id,
            created_at,
            reply: None,
            message_id: None,
            providers: Vec::new(),
            response_ms: None,
        },
    };
    Ok((StatusCode::CREATED, Json(started)))
}

/// Send a message: free text (`content`) or the answer to the question the last reply
/// asked (`answer`). The reply comes with the providers to see.
#[utoipa::path(post, path = "/api/assistant/conversations/{id}/messages", tag = "assistant",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    request_body = NewMessage,
    responses(
        (status = 200, description = "The assistant's reply", body = TurnReply),
        (status = 400, description = "Neither or both of content and answer, or invalid content; nothing was stored", body = crate::error::ErrorBody),
        (status = 404, description = "No such conversation of the caller's", body = crate::error::ErrorBody),
        (status = 409, description = "An answer, but no question is waiting for one; nothing was stored", body = crate::error::ErrorBody),
        (status = 503, description = "The assistant's model is not installed on this server", body = crate::error::ErrorBody),
    ))]
async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(message): Json<NewMessage>,
) -> Result<Json<TurnReply>, ApiError> {
    let input = message.input()?;
    authorize_conversation(&state, &caller, id, "update").await?;
    let assistant = available(&state)?;
    let mut tx = state.pool.begin().await?;
    let turn = take_turn(&mut tx, &assistant, id, caller.user_id, input).await?;
    tx.commit().await?;
    Ok(Json(turn))
}

/// One turn inside `tx`: locks the conversation, runs the assistant with the patient's
/// profile and recent vitals, stores both messages and the new state. Any error leaves
/// the transaction to roll back.
async fn take_turn(
    tx: &mut Transaction<'static, Postgres>,
    assistant: &Arc<Assistant>,
    id: Uuid,
    patient: UserId,
    input: Input,
) -> Result<TurnReply, ApiError> {
    let current: Option<(Jsonb<conversation::State>, String)> = sqlx::query_as(
        "SELECT state, knowledge FROM assistant_conversations
         WHERE id = $1 AND patient_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(patient)
    .fetch_optional(&mut **tx)
    .await?;
    let (Jsonb(current), knowledge) = current.ok_or(ApiError::NotFound("conversation"))?;
    if knowledge != assistant.kb.fingerprint() {
        return Err(ApiError::Conflict {
            message: "this conversation was held with an earlier version of the assistant's \
                      knowledge; start a new conversation"
                .into(),
            field: None,
        });
    }
    let profile = profile(tx, patient).await?;
    let vitals = recent_vitals(tx, patient).await?;
    let (patient_content, answered) = match &input {
        Input::Text(text) => (text.clone(), None),
        Input::Answer(answer) => (
            answer_text(*answer).to_owned(),
            current
                .pending
                .and_then(|s| assistant.kb.symptoms.get(s))
                .map(|s| s.id.clone()),
        ),
    };
    let assistant = Arc::clone(assistant);
    let (next, outcome) = tokio::task::spawn_blocking(move || {
        let mut next = current;
        let outcome = assistant.turn(&mut next, &input, profile, vitals);
        (next, outcome)
    })
    .await
    .map_err(ApiError::internal)?;
    let (reply, took) = outcome.map_err(|e| match e {
        TurnError::NoPendingQuestion => ApiError::Conflict {
            message: e.to_string(),
            field: Some("answer"),
        },
        TurnError::Empty => ApiError::invalid("content", "must not be empty"),
        TurnError::Embedding(e) => ApiError::internal(e),
    })?;
    let response_ms = took.as_secs_f64() * 1000.0;
    let reply_json = serde_json::to_value(&reply).map_err(ApiError::internal)?;
    let mut said = reply.triage.advice.clone();
    if let Some(question) = &reply.question {
        said.push('\n');
        said.push_str(&question.text);
    }
    // Two statements: the identity column orders the patient's message before the reply.
    sqlx::query(
        "INSERT INTO assistant_messages (conversation_id, at, role, content, answered)
         VALUES ($1, now(), 'patient', $2, $3)",
    )
    .bind(id)
    .bind(&patient_content)
    .bind(&answered)
    .execute(&mut **tx)
    .await?;
    let message_id: i64 = sqlx::query_scalar(
        "INSERT INTO assistant_messages (conversation_id, at, role, content, reply, response_ms)
         VALUES ($1, clock_timestamp(), 'assistant', $2, $3, $4)
         RETURNING id",
    )
    .bind(id)
    .bind(&said)
    .bind(&reply_json)
    .bind(response_ms)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE assistant_conversations
         SET state = $2, updated_at = now(), message_count = message_count + 2
         WHERE id = $1",
    )
    .bind(id)
    .bind(Jsonb(&next))
    .execute(&mut **tx)
    .await?;
    let providers = providers(tx, patient, &reply.specialty).await?;
    Ok(TurnReply {
        message_id,
        reply,
        providers,
        response_ms,
    })
}

fn answer_text(answer: Answer) -> &'static str {
    match answer {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::Unsure => "unsure",
    }
}

/// A new conversation's state: the history findings the conditions on the patient's
/// record name (known COPD, known diabetes), so the patient need not say them.
async fn recorded_history(
    db: &mut PgConnection,
    assistant: &Arc<Assistant>,
    patient: UserId,
) -> Result<conversation::State, ApiError> {
    let conditions: Vec<String> =
        sqlx::query_scalar("SELECT conditions FROM patients WHERE user_id = $1")
            .bind(patient)
            .fetch_optional(db)
            .await?
            .unwrap_or_default();
    if conditions.is_empty() {
        return Ok(conversation::State::default());
    }
    let assistant = Arc::clone(assistant);
    tokio::task::spawn_blocking(move || assistant.recorded_history(&conditions))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Age and sex from the patient's profile; `other`, `unknown` and unset sex count as not
/// known, as does a birth date in the future.
async fn profile(db: &mut PgConnection, patient: UserId) -> Result<Profile, ApiError> {
    let row: Option<(Option<i32>, Option<String>)> = sqlx::query_as(
        "SELECT extract(year FROM age(current_date, date_of_birth))::int, sex
         FROM patients WHERE user_id = $1",
    )
    .bind(patient)
    .fetch_optional(db)
    .await?;
    let (age, sex) = row.unwrap_or_default();
    Ok(Profile {
        age: age.and_then(|a| u32::try_from(a).ok()),
        sex: match sex.as_deref() {
            Some("female") => Some(Sex::Female),
            Some("male") => Some(Sex::Male),
            _ => None,
        },
    })
}

/// The patient's worst values of the last [`VITALS_WINDOW`] by measurement time: the
/// lowest SpO2, the highest heart rate and systolic pressure, from every device of theirs
/// (manual entries included).
async fn recent_vitals(db: &mut PgConnection, patient: UserId) -> Result<RecentVitals, ApiError> {
    let (spo2_min, heart_rate_max, systolic_max): (Option<f64>, Option<f64>, Option<f64>) =
        sqlx::query_as(&format!(
            "SELECT min(value) FILTER (WHERE metric = 'spo2'),
                    max(value) FILTER (WHERE metric = 'heart_rate'),
                    max(value) FILTER (WHERE metric = 'blood_pressure')
             FROM readings
             WHERE patient_id = $1
               AND metric IN ('spo2', 'heart_rate', 'blood_pressure')
               AND measured_at >= now() - interval '{VITALS_WINDOW}'"
        ))
        .bind(patient)
        .fetch_one(db)
        .await?;
    Ok(RecentVitals {
        spo2_min,
        heart_rate_max,
        systolic_max,
    })
}

/// Active clinicians of `specialty`, the patient's care team first; none for emergencies.
async fn providers(
    db: &mut PgConnection,
    patient: UserId,
    specialty: &str,
) -> Result<Vec<Provider>, ApiError> {
    if specialty == EMERGENCY_SPECIALTY {
        return Ok(Vec::new());
    }
    let providers = sqlx::query_as(
        "SELECT u.id, u.first_name || ' ' || u.last_name AS name, u.specialty,
                EXISTS (SELECT 1 FROM care_team c
                        WHERE c.patient_id = $1 AND c.clinician_id = u.id) AS on_care_team
         FROM users u
         WHERE u.role = 'clinician' AND u.status = 'active' AND u.specialty = $2
         ORDER BY on_care_team DESC, u.last_name, u.first_name, u.id
         LIMIT $3",
    )
    .bind(patient)
    .bind(specialty)
    .bind(MAX_PROVIDERS)
    .fetch_all(db)
    .await?;
    Ok(providers)
}

/// The caller's conversations with the assistant, newest first.
#[utoipa::path(get, path = "/api/assistant/conversations", tag = "assistant",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "One page of conversations", body = Page<ConversationSummary>),
        (status = 400, description = "Invalid paging", body = crate::error::ErrorBody),
    ))]
async fn list_conversations(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<ConversationSummary>>, ApiError> {
    let (limit, offset) = page.checked()?;
    let list = Action::Assistant {
        patient: None,
        action: "list",
        target: None,
    };
    authorize(&state, &caller, list).await?;
    let rows: Vec<ConversationSummary> = sqlx::query_as(
        "SELECT c.id, c.created_at, c.updated_at, c.message_count,
                (SELECT m.reply -> 'triage' -> 'level' FROM assistant_messages m
                 WHERE m.conversation_id = c.id AND m.role = 'assistant'
                 ORDER BY m.id DESC LIMIT 1) AS last_triage
         FROM assistant_conversations c
         WHERE c.patient_id = $1
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $2 OFFSET $3",
    )
    .bind(caller.user_id)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

/// A conversation's messages, oldest first: the patient's and the assistant's replies.
#[utoipa::path(get, path = "/api/assistant/conversations/{id}/messages", tag = "assistant",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), PageParams),
    responses(
        (status = 200, description = "One page of messages", body = Page<Message>),
        (status = 400, description = "Malformed id or invalid paging", body = crate::error::ErrorBody),
        (status = 404, description = "No such conversation of the caller's", body = crate::error::ErrorBody),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Message>>, ApiError> {
    let (limit, offset) = page.checked()?;
    authorize_conversation(&state, &caller, id, "read").await?;
    let rows: Vec<Message> = sqlx::query_as(
        "SELECT id, at, role, content, answered, reply, response_ms
         FROM assistant_messages
         WHERE conversation_id = $1
         ORDER BY id
         LIMIT $2 OFFSET $3",
    )
    .bind(id)
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_directory_variable_is_no_configuration_key() {
        assert_eq!(
            healthsync_core::config::MODEL_DIR_ENV,
            healthsync_analytics::assistant::embedding::MODEL_DIR_ENV
        );
    }

    #[test]
    fn content_is_checked() {
        assert!(checked_content("a cough".into()).is_ok());
        assert!(checked_content("é".repeat(MAX_CONTENT_CHARS)).is_ok());
        for bad in ["", " \n\t", "a\0b"] {
            assert!(checked_content(bad.into()).is_err(), "{bad:?}");
        }
        assert!(checked_content("é".repeat(MAX_CONTENT_CHARS + 1)).is_err());
    }
}
