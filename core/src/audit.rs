//! The audit log: who read or changed patient data, and who tried. Rows are appended,
//! never changed (a trigger refuses UPDATE, DELETE and TRUNCATE), and each row's hash
//! covers its content and the previous row's hash, so [`verify`] finds the first row that
//! was altered, removed or inserted behind the log's back.

use std::fmt;

use chrono::{DateTime, Utc};
use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::ids::UserId;
use crate::users::Role;

/// Serialises appends: each needs the hash of the row before it.
const CHAIN_LOCK: i64 = 0x6175_6469_745f_6c6f; // "audit_lo"
const GENESIS: [u8; 32] = [0; 32];
/// Rows read per query by [`verify`].
const VERIFY_PAGE: i64 = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "audit_outcome", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Allowed,
    Denied,
}

/// What to record; the log adds the time, the sequence number and the hashes.
#[derive(Clone, Debug)]
pub struct Entry {
    pub actor: Option<(UserId, Role)>,
    /// `read`, `list`, `create`, `update`, `delete`, ...
    pub action: &'static str,
    /// `patient_profile`, `patients`, `user`, `care_team`, ...
    pub resource: &'static str,
    pub resource_id: Option<String>,
    pub patient_id: Option<UserId>,
    pub outcome: Outcome,
    pub ip: Option<String>,
}

/// A stored row.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Record {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub actor_role: Option<Role>,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    pub patient_id: Option<UserId>,
    pub outcome: Outcome,
    pub ip: Option<String>,
    #[serde(skip)]
    pub prev_hash: Vec<u8>,
    #[serde(skip)]
    pub hash: Vec<u8>,
}

impl Record {
    /// SHA-256 over the previous hash and every field, each length-prefixed so that no
    /// two different rows encode alike.
    fn compute_hash(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(&self.prev_hash);
        let micros = self.at.timestamp_micros().to_string();
        let actor = self.actor_id.map(|id| id.to_string());
        let role = self.actor_role.map(|r| format!("{r:?}"));
        let patient = self.patient_id.map(|id| id.to_string());
        let outcome = format!("{:?}", self.outcome);
        let id = self.id.to_string();
        for field in [
            Some(id.as_str()),
            Some(micros.as_str()),
            actor.as_deref(),
            role.as_deref(),
            Some(self.action.as_str()),
            Some(self.resource.as_str()),
            self.resource_id.as_deref(),
            patient.as_deref(),
            Some(outcome.as_str()),
            self.ip.as_deref(),
        ] {
            match field {
                // A null differs from an empty string.
                None => bytes.extend_from_slice(&u32::MAX.to_be_bytes()),
                Some(text) => {
                    bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
                    bytes.extend_from_slice(text.as_bytes());
                }
            }
        }
        digest(&SHA256, &bytes).as_ref().to_vec()
    }
}

/// Appends `entry` inside the caller's transaction (so a write and its audit row commit
/// together); the chain lock is held until that transaction ends.
pub async fn append(conn: &mut PgConnection, entry: Entry) -> Result<i64, sqlx::Error> {
    let ids = append_all(conn, vec![entry]).await?;
    Ok(ids[0])
}

/// Appends `entries` in order inside the caller's transaction: one chain lock, one read of
/// the last row and one insert for all of them. Returns their ids.
pub async fn append_all(
    conn: &mut PgConnection,
    entries: Vec<Entry>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *conn)
        .await?;
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (mut id, mut prev_hash) = match last {
        Some((id, hash)) => (id, hash),
        None => (0, GENESIS.to_vec()),
    };
    // Stored with microsecond precision; hashed as stored.
    let now = Utc::now();
    let at = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let mut c = Columns::default();
    for entry in entries {
        id += 1;
        let mut record = Record {
            id,
            at,
            actor_id: entry.actor.map(|(id, _)| id),
            actor_role: entry.actor.map(|(_, role)| role),
            action: entry.action.to_owned(),
            resource: entry.resource.to_owned(),
            resource_id: entry.resource_id,
            patient_id: entry.patient_id,
            outcome: entry.outcome,
            ip: entry.ip,
            prev_hash: std::mem::take(&mut prev_hash),
            hash: Vec::new(),
        };
        record.hash = record.compute_hash();
        prev_hash.clone_from(&record.hash);
        c.push(record);
    }
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor_role, action, resource, resource_id,
                                patient_id, outcome, ip, prev_hash, hash)
         SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::uuid[], $4::user_role[],
                              $5::text[], $6::text[], $7::text[], $8::uuid[],
                              $9::audit_outcome[], $10::text[], $11::bytea[], $12::bytea[])",
    )
    .bind(&c.id)
    .bind(&c.at)
    .bind(&c.actor_id)
    .bind(&c.actor_role)
    .bind(&c.action)
    .bind(&c.resource)
    .bind(&c.resource_id)
    .bind(&c.patient_id)
    .bind(&c.outcome)
    .bind(&c.ip)
    .bind(&c.prev_hash)
    .bind(&c.hash)
    .execute(&mut *conn)
    .await?;
    Ok(c.id)
}

#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    actor_id: Vec<Option<UserId>>,
    actor_role: Vec<Option<Role>>,
    action: Vec<String>,
    resource: Vec<String>,
    resource_id: Vec<Option<String>>,
    patient_id: Vec<Option<UserId>>,
    outcome: Vec<Outcome>,
    ip: Vec<Option<String>>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

impl Columns {
    fn push(&mut self, r: Record) {
        self.id.push(r.id);
        self.at.push(r.at);
        self.actor_id.push(r.actor_id);
        self.actor_role.push(r.actor_role);
        self.action.push(r.action);
        self.resource.push(r.resource);
        self.resource_id.push(r.resource_id);
        self.patient_id.push(r.patient_id);
        self.outcome.push(r.outcome);
        self.ip.push(r.ip);
        self.prev_hash.push(r.prev_hash);
        self.hash.push(r.hash);
    }
}

/// Most entries one group commit takes.
const GROUP_MAX: usize = 512;

type Pending = (Entry, oneshot::Sender<Result<i64, String>>);

/// Records entries in transactions of their own with group commit: entries that arrive
/// while a commit is being flushed go together in the next one, so concurrent requests
/// share one chain lock and one WAL flush instead of queueing for one each. Each caller
/// still waits until its row is committed.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log write failed: {0}")]
    Write(String),
    #[error("the audit writer has stopped")]
    Stopped,
}

impl AuditWriter {
    /// Starts the writer task; it ends when the last handle is dropped.
    pub fn start(pool: PgPool) -> AuditWriter {
        let (queue, mut pending) = mpsc::channel::<Pending>(4 * GROUP_MAX);
        tokio::spawn(async move {
            while let Some(first) = pending.recv().await {
                let mut group = vec![first];
                while group.len() < GROUP_MAX {
                    match pending.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                let (entries, replies): (Vec<Entry>, Vec<_>) = group.into_iter().unzip();
                match commit_group(&pool, entries).await {
                    Ok(ids) => {
                        for (reply, id) in replies.into_iter().zip(ids) {
                            let _ = reply.send(Ok(id));
                        }
                    }
                    Err(e) => {
                        for reply in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        AuditWriter { queue }
    }

    /// Appends `entry`; returns its id once it is committed.
    pub async fn record(&self, entry: Entry) -> Result<i64, AuditError> {
        let (reply, committed) = oneshot::channel();
        self.queue
            .send((entry, reply))
            .await
            .map_err(|_| AuditError::Stopped)?;
        committed
            .await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Write)
    }
}

async fn commit_group(pool: &PgPool, entries: Vec<Entry>) -> Result<Vec<i64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ids = append_all(&mut tx, entries).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Which rows to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor_id: Option<UserId>,
    pub patient_id: Option<UserId>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Rows matching `filter`, newest first, `limit` of them after skipping `offset`.
pub async fn list(
    pool: &PgPool,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Record>, sqlx::Error> {
    sqlx::query_as(
        "SELECT * FROM audit_log
         WHERE ($1::uuid IS NULL OR actor_id = $1)
           AND ($2::uuid IS NULL OR patient_id = $2)
           AND ($3::text IS NULL OR action = $3)
           AND ($4::text IS NULL OR resource = $4)
           AND ($5::audit_outcome IS NULL OR outcome = $5)
           AND ($6::timestamptz IS NULL OR at >= $6)
           AND ($7::timestamptz IS NULL OR at < $7)
         ORDER BY id DESC
         LIMIT $8 OFFSET $9",
    )
    .bind(filter.actor_id)
    .bind(filter.patient_id)
    .bind(&filter.action)
    .bind(&filter.resource)
    .bind(filter.outcome)
    .bind(filter.since)
    .bind(filter.until)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// What is wrong at the first broken link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Break {
    /// The row's content no longer matches its hash: it was changed.
    ContentChanged,
    /// The row does not follow the row before it: rows were removed or inserted.
    ChainBroken,
    /// Sequence numbers skip: rows before this one were removed.
    RowsMissing,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Break::ContentChanged => "the row's content does not match its hash",
            Break::ChainBroken => "the row's previous hash is not the hash of the row before",
            Break::RowsMissing => "rows before this one are missing",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Rows checked up to and including the first broken one.
    pub checked: u64,
    /// The first broken row, if any, and how it is broken.
    pub first_broken: Option<(i64, Break)>,
}

/// Walks the whole chain from its first row and stops at the first broken link.
pub async fn verify(pool: &PgPool) -> Result<Verification, sqlx::Error> {
    let mut checked = 0;
    let mut expected_prev = GENESIS.to_vec();
    let mut expected_id = 1;
    loop {
        let page: Vec<Record> =
            sqlx::query_as("SELECT * FROM audit_log WHERE id >= $1 ORDER BY id LIMIT $2")
                .bind(expected_id)
                .bind(VERIFY_PAGE)
                .fetch_all(pool)
                .await?;
        if page.is_empty() {
            return Ok(Verification {
                checked,
                first_broken: None,
            });
        }
        for row in page {
            checked += 1;
            let broken = if row.id != expected_id {
                Some(Break::RowsMissing)
            } else if row.compute_hash() != row.hash {
                Some(Break::ContentChanged)
            } else if row.prev_hash != expected_prev {
                Some(Break::ChainBroken)
            } else {
                None
            };
            if let Some(broken) = broken {
                return Ok(Verification {
                    checked,
                    first_broken: Some((row.id, broken)),
                });
            }
            expected_id = row.id + 1;
            expected_prev = row.hash;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: 7,
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            actor_id: Some(UserId::new()),
            actor_role: Some(Role::Clinician),
            action: "read".into(),
            resource: "patient_profile".into(),
            resource_id: Some("x".into()),
            patient_id: Some(UserId::new()),
            outcome: Outcome::Allowed,
            ip: Some("127.0.0.1".into()),
            prev_hash: vec![1; 32],
            hash: Vec::new(),
        }
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = record();
        let hash = base.compute_hash();
        let changes: [fn(&mut Record); 12] = [
            |r| r.id += 1,
            |r| r.at += chrono::Duration::microseconds(1),
            |r| r.actor_id = None,
            |r| r.actor_role = Some(Role::Admin),
            |r| r.action = "update".into(),
            |r| r.resource = "patients".into(),
            |r| r.resource_id = Some(String::new()),
            |r| r.patient_id = None,
            |r| r.outcome = Outcome::Denied,
            |r| r.ip = None,
            |r| r.prev_hash = vec![2; 32],
            // Moving text between adjacent fields changes the hash too.
            |r| {
                r.action = "readpatient_profile".into();
                r.resource = String::new();
            },
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(
                changed.compute_hash(),
                hash,
                "change {i} left the hash alone"
            );
        }
        assert_eq!(base.compute_hash(), hash);
    }
}
