//! What analytics keeps in PostgreSQL: alert persistence (raising, with recurrences counted
//! on the unresolved alert), the lifecycle transitions (clear, acknowledge, resolve), the
//! notifications sent to care teams and admins, escalation of unacknowledged high alerts,
//! care-team membership, per-patient rule overrides, and the daily statistics the baseline
//! detector restores on start.
//!
//! Authorization is not decided here: callers pass who acted, and this module records it.

use chrono::{DateTime, NaiveDate, Utc};
use healthsync_core::ids::UserId;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::alert::{Alert, AlertDraft, AlertStatus, Severity};

/// What [`raise`] did with a draft.
#[derive(Clone, Debug, PartialEq)]
pub enum Raised {
    /// A new alert: its care team was notified.
    New(Alert),
    /// The patient already had an unresolved alert with this key: its occurrences were
    /// counted, and nobody was notified.
    Recurred(Alert),
    /// As `Recurred`, but more severe than before: the alert took the draft's severity,
    /// message and evidence (keeping the earlier evidence under `earlier`, and the time of
    /// the reading that made it more severe under `upgraded_at`), and the care team was
    /// notified again.
    Upgraded(Alert),
}

impl Raised {
    pub fn alert(&self) -> &Alert {
        match self {
            Raised::New(alert) | Raised::Recurred(alert) | Raised::Upgraded(alert) => alert,
        }
    }

    pub fn into_alert(self) -> Alert {
        match self {
            Raised::New(alert) | Raised::Recurred(alert) | Raised::Upgraded(alert) => alert,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("alert {0} not found")]
    NotFound(Uuid),
    #[error("alert {id} cannot go from {from:?} to {to:?}")]
    Transition {
        id: Uuid,
        from: AlertStatus,
        to: AlertStatus,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CareTeamError {
    #[error("user {0} is not a clinician")]
    NotAClinician(UserId),
    #[error("user {0} is not a patient")]
    NotAPatient(UserId),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which alerts [`list`] returns, newest first.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    pub patient: Option<UserId>,
    pub status: Option<AlertStatus>,
    pub severity: Option<Severity>,
    /// At most this many, clamped to 1..=1000; 0 means 100.
    pub limit: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub user_id: UserId,
    pub alert_id: Option<Uuid>,
    /// `alert` or `escalation`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One patient's summary of one statistic over one day.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct DailyStat {
    #[sqlx(rename = "patient_id")]
    pub patient: UserId,
    pub day: NaiveDate,
    pub stat: String,
    pub value: f64,
    pub samples: i32,
}

fn clamp_limit(limit: i64) -> i64 {
    if limit == 0 {
        100
    } else {
        limit.clamp(1, 1000)
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
    }
}

/// Stores `draft` as a new alert, or counts it as a recurrence of the patient's unresolved
/// alert with the same key. A new alert notifies every active clinician of the patient's
/// care team, in the same transaction.
pub async fn raise(pool: &PgPool, draft: &AlertDraft) -> Result<Raised, sqlx::Error> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    // The returned id tells which happened: ours when inserted, the existing alert's when
    // the conflict arm ran.
    let previous: Option<Severity> = sqlx::query_scalar(
        "SELECT severity FROM alerts
         WHERE patient_id = $1 AND key = $2 AND status <> 'resolved'
         FOR UPDATE",
    )
    .bind(draft.patient)
    .bind(&draft.key)
    .fetch_optional(&mut *tx)
    .await?;
    let alert = sqlx::query_as::<_, Alert>(
        "INSERT INTO alerts (id, patient_id, device_id, key, rule, metric, severity, title,
                             message, started_at, triggered_at, evidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (patient_id, key) WHERE status <> 'resolved' DO UPDATE
            SET occurrences = alerts.occurrences + 1,
                cleared_at = NULL,
                severity = GREATEST(alerts.severity, EXCLUDED.severity),
                message = CASE WHEN EXCLUDED.severity > alerts.severity
                               THEN EXCLUDED.message ELSE alerts.message END,
                evidence = CASE WHEN EXCLUDED.severity > alerts.severity
                                THEN EXCLUDED.evidence || jsonb_build_object(
                                         'earlier', alerts.evidence,
                                         'upgraded_at', EXCLUDED.triggered_at)
                                ELSE alerts.evidence END
         RETURNING *",
    )
    .bind(id)
    .bind(draft.patient)
    .bind(draft.device)
    .bind(&draft.key)
    .bind(draft.rule)
    .bind(draft.metric)
    .bind(draft.severity)
    .bind(&draft.title)
    .bind(&draft.message)
    .bind(draft.started_at)
    .bind(draft.triggered_at)
    .bind(&draft.evidence)
    .fetch_one(&mut *tx)
    .await?;
    let upgraded = previous.is_some_and(|p| p < alert.severity);
    if alert.id != id && !upgraded {
        tx.commit().await?;
        return Ok(Raised::Recurred(alert));
    }
    sqlx::query(
        "INSERT INTO notifications (user_id, alert_id, kind, title, body)
         SELECT ct.clinician_id, $1, 'alert', $2, p.first_name || ' ' || p.last_name || ': ' || $3
         FROM care_team ct
         JOIN users c ON c.id = ct.clinician_id
         JOIN users p ON p.id = ct.patient_id
         WHERE ct.patient_id = $4 AND c.role = 'clinician' AND c.status = 'active'",
    )
    .bind(alert.id)
    .bind(format!(
        "{} alert: {}",
        severity_label(alert.severity),
        alert.title
    ))
    .bind(&alert.message)
    .bind(alert.patient_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if upgraded {
        Raised::Upgraded(alert)
    } else {
        Raised::New(alert)
    })
}

/// Records that the condition `key` of `patient` cleared (`cleared_at = now()`), and with
/// `resolve` also resolves its alert on the platform's behalf (no `resolved_by`). None when
/// the patient has no unresolved alert with that key.
pub async fn clear(
    pool: &PgPool,
    patient: UserId,
    key: &str,
    resolve: bool,
) -> Result<Option<Alert>, sqlx::Error> {
    sqlx::query_as::<_, Alert>(
        "UPDATE alerts
         SET cleared_at = now(),
             status = CASE WHEN $3 THEN 'resolved'::alert_status ELSE status END,
             resolved_at = CASE WHEN $3 THEN now() ELSE resolved_at END,
             resolution_note = CASE WHEN $3 THEN 'condition cleared' ELSE resolution_note END
         WHERE patient_id = $1 AND key = $2 AND status <> 'resolved'
         RETURNING *",
    )
    .bind(patient)
    .bind(key)
    .bind(resolve)
    .fetch_optional(pool)
    .await
}

/// An open alert becomes acknowledged by `by`.
pub async fn acknowledge(pool: &PgPool, id: Uuid, by: UserId) -> Result<Alert, LifecycleError> {
    let updated = sqlx::query_as::<_, Alert>(
        "UPDATE alerts
         SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2
         WHERE id = $1 AND status = 'open'
         RETURNING *",
    )
    .bind(id)
    .bind(by)
    .fetch_optional(pool)
    .await?;
    finish_transition(pool, id, updated, AlertStatus::Acknowledged).await
}

/// An open or acknowledged alert becomes resolved by `by`, with an optional note.
pub async fn resolve(
    pool: &PgPool,
    id: Uuid,
    by: UserId,
    note: Option<&str>,
) -> Result<Alert, LifecycleError> {
    let updated = sqlx::query_as::<_, Alert>(
        "UPDATE alerts
         SET status = 'resolved', resolved_at = now(), resolved_by = $2, resolution_note = $3
         WHERE id = $1 AND status IN ('open', 'acknowledged')
         RETURNING *",
    )
    .bind(id)
    .bind(by)
    .bind(note)
    .fetch_optional(pool)
    .await?;
    finish_transition(pool, id, updated, AlertStatus::Resolved).await
}

/// The updated alert, or why the conditional update matched no row.
async fn finish_transition(
    pool: &PgPool,
    id: Uuid,
    updated: Option<Alert>,
    to: AlertStatus,
) -> Result<Alert, LifecycleError> {
    if let Some(alert) = updated {
        return Ok(alert);
    }
    let from: Option<AlertStatus> = sqlx::query_scalar("SELECT status FROM alerts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Err(match from {
        None => LifecycleError::NotFound(id),
        Some(from) => LifecycleError::Transition { id, from, to },
    })
}

/// Escalates every high alert still open (nobody acknowledged it) and not yet escalated that
/// was raised at least `after` ago: marks it escalated and notifies the active clinicians of
/// the patient's care team and every active admin, once each. Safe to run from several
/// instances at once: the conditional update claims each alert for one of them.
pub async fn escalate_due(
    pool: &PgPool,
    after: std::time::Duration,
) -> Result<Vec<Alert>, sqlx::Error> {
    // Capped so that `now() - after` stays within PostgreSQL's timestamp range.
    const CAP: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
    let after_secs = after.min(CAP).as_secs_f64();
    let mut tx = pool.begin().await?;
    let escalated = sqlx::query_as::<_, Alert>(
        "UPDATE alerts SET escalated_at = now()
         WHERE severity = 'high' AND status = 'open' AND escalated_at IS NULL
           AND raised_at <= now() - $1 * interval '1 second'
         RETURNING *",
    )
    .bind(after_secs)
    .fetch_all(&mut *tx)
    .await?;
    if escalated.is_empty() {
        tx.commit().await?;
        return Ok(escalated);
    }
    let ids: Vec<Uuid> = escalated.iter().map(|a| a.id).collect();
    sqlx::query(
        "INSERT INTO notifications (user_id, alert_id, kind, title, body)
         SELECT r.user_id, a.id, 'escalation',
                'Unacknowledged high alert: ' || a.title,
                p.first_name || ' ' || p.last_name || ': ' || a.message
         FROM alerts a
         JOIN users p ON p.id = a.patient_id
         CROSS JOIN LATERAL (
             SELECT ct.clinician_id AS user_id
             FROM care_team ct JOIN users c ON c.id = ct.clinician_id
             WHERE ct.patient_id = a.patient_id AND c.role = 'clinician' AND c.status = 'active'
             UNION
             SELECT id FROM users WHERE role = 'admin' AND status = 'active'
         ) r
         WHERE a.id = ANY($1)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(escalated)
}

/// Every alert not resolved, oldest first: the engine restores its state from these.
pub async fn unresolved(pool: &PgPool) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query_as::<_, Alert>(
        "SELECT * FROM alerts WHERE status <> 'resolved' ORDER BY raised_at, id",
    )
    .fetch_all(pool)
    .await
}

/// Alerts matching `filter`, newest first.
pub async fn list(pool: &PgPool, filter: &AlertFilter) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query_as::<_, Alert>(
        "SELECT * FROM alerts
         WHERE ($1::uuid IS NULL OR patient_id = $1)
           AND ($2::alert_status IS NULL OR status = $2)
           AND ($3::alert_severity IS NULL OR severity = $3)
         ORDER BY raised_at DESC, id DESC
         LIMIT $4",
    )
    .bind(filter.patient)
    .bind(filter.status)
    .bind(filter.severity)
    .bind(clamp_limit(filter.limit))
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Alert>, sqlx::Error> {
    sqlx::query_as::<_, Alert>("SELECT * FROM alerts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The user's notifications, newest first; `limit` as in [`AlertFilter::limit`].
pub async fn notifications_for(
    pool: &PgPool,
    user: UserId,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as::<_, Notification>(
        "SELECT id, user_id, alert_id, kind, title, body, created_at, read_at
         FROM notifications WHERE user_id = $1
         ORDER BY created_at DESC, id DESC
         LIMIT $2",
    )
    .bind(user)
    .bind(clamp_limit(limit))
    .fetch_all(pool)
    .await
}

/// Puts `clinician` on `patient`'s care team (nothing changes if already there).
pub async fn assign_care_team(
    pool: &PgPool,
    patient: UserId,
    clinician: UserId,
) -> Result<(), CareTeamError> {
    let role: Option<String> = sqlx::query_scalar("SELECT role::text FROM users WHERE id = $1")
        .bind(clinician)
        .fetch_optional(pool)
        .await?;
    if role.as_deref() != Some("clinician") {
        return Err(CareTeamError::NotAClinician(clinician));
    }
    let is_patient: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM patients WHERE user_id = $1)")
            .bind(patient)
            .fetch_one(pool)
            .await?;
    if !is_patient {
        return Err(CareTeamError::NotAPatient(patient));
    }
    sqlx::query(
        "INSERT INTO care_team (patient_id, clinician_id) VALUES ($1, $2)
         ON CONFLICT (patient_id, clinician_id) DO NOTHING",
    )
    .bind(patient)
    .bind(clinician)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes a clinician off a patient's care team; false when they were not on it.
pub async fn remove_from_care_team(
    pool: &PgPool,
    patient: UserId,
    clinician: UserId,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND clinician_id = $2")
        .bind(patient)
        .bind(clinician)
        .execute(pool)
        .await?;
    Ok(removed.rows_affected() > 0)
}

/// Every patient's rule overrides (JSON as stored; the caller validates the shape).
pub async fn rule_overrides(
    pool: &PgPool,
) -> Result<Vec<(UserId, serde_json::Value)>, sqlx::Error> {
    sqlx::query_as::<_, (UserId, serde_json::Value)>(
        "SELECT patient_id, rules FROM alert_rules ORDER BY patient_id",
    )
    .fetch_all(pool)
    .await
}

/// Sets (replaces) `patient`'s rule overrides.
pub async fn set_rule_overrides(
    pool: &PgPool,
    patient: UserId,
    rules: &serde_json::Value,
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO alert_rules (patient_id, rules, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (patient_id) DO UPDATE
            SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(patient)
    .bind(rules)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(())
}

/// Stores (replaces) one day's statistic for a patient.
pub async fn save_daily_stat(
    pool: &PgPool,
    patient: UserId,
    day: NaiveDate,
    stat: &str,
    value: f64,
    samples: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO patient_daily_stats (patient_id, day, stat, value, samples)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (patient_id, stat, day) DO UPDATE
            SET value = EXCLUDED.value, samples = EXCLUDED.samples",
    )
    .bind(patient)
    .bind(day)
    .bind(stat)
    .bind(value)
    .bind(samples)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every patient's daily statistics from `since` on, by patient, statistic and day.
pub async fn daily_stats_since(
    pool: &PgPool,
    since: NaiveDate,
) -> Result<Vec<DailyStat>, sqlx::Error> {
    sqlx::query_as::<_, DailyStat>(
        "SELECT patient_id, day, stat, value, samples FROM patient_daily_stats
         WHERE day >= $1
         ORDER BY patient_id, stat, day",
    )
    .bind(since)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use chrono::Duration as ChronoDuration;
    use chrono::SubsecRound;
    use healthsync_core::catalog::Metric;
    use healthsync_core::test_support::{test_db, test_patient};
    use healthsync_core::users::{self, Email, NewUser, Role, UserStatus};
    use serde_json::json;

    use super::*;

    async fn user(pool: &PgPool, role: Role, status: UserStatus) -> UserId {
        let email = Email::parse(&format!("{role:?}-{}@example.org", Uuid::new_v4())).unwrap();
        users::create(
            pool,
            NewUser {
                email,
                first_name: "Cli".into(),
                last_name: "Nician".into(),
                phone: None,
                role,
                status,
                password: None,
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn clinician(pool: &PgPool) -> UserId {
        user(pool, Role::Clinician, UserStatus::Active).await
    }

    fn draft(patient: UserId, key: &str, severity: Severity) -> AlertDraft {
        let now = Utc::now();
        AlertDraft {
            patient,
            device: None,
            key: key.into(),
            rule: "spo2_low",
            metric: Some(Metric::Spo2),
            severity,
            title: "SpO2 low".into(),
            message: "SpO2 88 % for 5 minutes".into(),
            started_at: now - ChronoDuration::minutes(5),
            triggered_at: now,
            evidence: json!({"readings": [88, 87], "threshold": 90}),
        }
    }

    async fn raise_new(pool: &PgPool, draft: &AlertDraft) -> Alert {
        match raise(pool, draft).await.unwrap() {
            Raised::New(alert) => alert,
            other => panic!("expected a new alert, got {other:?}"),
        }
    }

    async fn count_notifications(pool: &PgPool, user: UserId, kind: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2")
            .bind(user)
            .bind(kind)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn raise_notifies_the_active_care_team_and_counts_recurrences() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let member = clinician(pool).await;
        let disabled = user(pool, Role::Clinician, UserStatus::Disabled).await;
        let outsider = clinician(pool).await;
        let admin = user(pool, Role::Admin, UserStatus::Active).await;
        assign_care_team(pool, patient, member).await.unwrap();
        assign_care_team(pool, patient, disabled).await.unwrap();

        let first = draft(patient, "spo2_low", Severity::Medium);
        let alert = raise_new(pool, &first).await;
        assert_eq!(alert.patient_id, patient);
        assert_eq!(alert.key, "spo2_low");
        assert_eq!(alert.rule, "spo2_low");
        assert_eq!(alert.metric, Some(Metric::Spo2));
        assert_eq!(alert.severity, Severity::Medium);
        assert_eq!(alert.status, AlertStatus::Open);
        assert_eq!(alert.occurrences, 1);
        assert_eq!(alert.evidence, first.evidence);
        assert_eq!(alert.id.get_version_num(), 7);

        let notes = notifications_for(pool, member, 0).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, "alert");
        assert_eq!(notes[0].alert_id, Some(alert.id));
        assert_eq!(notes[0].title, "Medium alert: SpO2 low");
        assert_eq!(notes[0].body, "Pat Ient: SpO2 88 % for 5 minutes");
        assert_eq!(notes[0].read_at, None);
        for nobody in [disabled, outsider, admin, patient] {
            assert!(notifications_for(pool, nobody, 0).await.unwrap().is_empty());
        }

        // Cleared without resolving, then the condition fires again, more severe.
        clear(pool, patient, "spo2_low", false)
            .await
            .unwrap()
            .unwrap();
        let again = draft(patient, "spo2_low", Severity::High);
        let Raised::Upgraded(recurred) = raise(pool, &again).await.unwrap() else {
            panic!("expected an upgrade");
        };
        assert_eq!(recurred.id, alert.id);
        assert_eq!(recurred.occurrences, 2);
        assert_eq!(
            recurred.evidence["upgraded_at"]
                .as_str()
                .map(|t| t.parse::<DateTime<Utc>>().unwrap()),
            Some(again.triggered_at.trunc_subsecs(6)),
            "microseconds, as PostgreSQL keeps them"
        );
        assert_eq!(recurred.cleared_at, None);
        assert_eq!(recurred.severity, Severity::High);
        // A less severe recurrence does not lower it.
        let Raised::Recurred(recurred) = raise(pool, &first).await.unwrap() else {
            panic!("expected a recurrence");
        };
        assert_eq!(recurred.occurrences, 3);
        assert_eq!(recurred.severity, Severity::High);
        // Told once when raised and once when it became high; not for the recurrence.
        assert_eq!(count_notifications(pool, member, "alert").await, 2);

        // Once resolved, the same condition is a new alert.
        resolve(pool, alert.id, member, None).await.unwrap();
        let fresh = raise_new(pool, &again).await;
        assert_ne!(fresh.id, alert.id);
        assert_eq!(fresh.occurrences, 1);
        let notes = notifications_for(pool, member, 0).await.unwrap();
        assert_eq!(notes.len(), 3);
        assert_eq!(notes[0].alert_id, Some(fresh.id));
        assert_eq!(notes[0].title, "High alert: SpO2 low");

        // Another key of the same patient is another alert.
        raise_new(pool, &draft(patient, "news2", Severity::Low)).await;
        assert_eq!(unresolved(pool).await.unwrap().len(), 2);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn the_database_refuses_a_second_unresolved_alert_for_a_key() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        raise_new(pool, &draft(patient, "spo2_low", Severity::High)).await;
        let insert = |status: &'static str, resolved: bool| {
            sqlx::query(
                "INSERT INTO alerts (id, patient_id, key, rule, severity, status, title, message,
                                     started_at, triggered_at, resolved_at, evidence)
                 VALUES ($1, $2, 'spo2_low', 'spo2_low', 'high', $3::alert_status, 't', 'm',
                         now(), now(), CASE WHEN $4 THEN now() END, '{}')",
            )
            .bind(Uuid::now_v7())
            .bind(patient)
            .bind(status)
            .bind(resolved)
            .execute(pool)
        };
        for status in ["open", "acknowledged"] {
            let at = if status == "acknowledged" {
                "now()"
            } else {
                "NULL"
            };
            let err = sqlx::query(&format!(
                "INSERT INTO alerts (id, patient_id, key, rule, severity, status, title, message,
                                     started_at, triggered_at, acknowledged_at, evidence)
                 VALUES ($1, $2, 'spo2_low', 'spo2_low', 'high', '{status}', 't', 'm',
                         now(), now(), {at}, '{{}}')"
            ))
            .bind(Uuid::now_v7())
            .bind(patient)
            .execute(pool)
            .await
            .unwrap_err();
            let constraint = err.as_database_error().and_then(|e| e.constraint());
            assert_eq!(constraint, Some("alerts_unresolved_key"), "{status}: {err}");
        }
        // Resolved alerts with the key may be many.
        insert("resolved", true).await.unwrap();
        insert("resolved", true).await.unwrap();
        // The lifecycle checks hold too: resolved needs resolved_at.
        let err = insert("resolved", false).await.unwrap_err();
        let constraint = err.as_database_error().and_then(|e| e.constraint());
        assert_eq!(constraint, Some("alerts_lifecycle"), "{err}");
        db.drop_database().await;
    }

    #[tokio::test]
    async fn acknowledge_and_resolve_follow_the_lifecycle() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let doctor = clinician(pool).await;
        let alert = raise_new(pool, &draft(patient, "spo2_low", Severity::High)).await;

        let acked = acknowledge(pool, alert.id, doctor).await.unwrap();
        assert_eq!(acked.status, AlertStatus::Acknowledged);
        assert_eq!(acked.acknowledged_by, Some(doctor));
        assert!(acked.acknowledged_at.is_some());
        match acknowledge(pool, alert.id, doctor).await {
            Err(LifecycleError::Transition { id, from, to }) => {
                assert_eq!(id, alert.id);
                assert_eq!(from, AlertStatus::Acknowledged);
                assert_eq!(to, AlertStatus::Acknowledged);
            }
            other => panic!("expected a transition error, got {other:?}"),
        }

        let resolved = resolve(pool, alert.id, doctor, Some("sensor reseated"))
            .await
            .unwrap();
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert_eq!(resolved.resolved_by, Some(doctor));
        assert_eq!(resolved.resolution_note.as_deref(), Some("sensor reseated"));
        assert!(resolved.resolved_at.is_some());
        assert_eq!(resolved.acknowledged_at, acked.acknowledged_at);
        assert_eq!(get(pool, alert.id).await.unwrap(), Some(resolved));

        for result in [
            resolve(pool, alert.id, doctor, None).await,
            acknowledge(pool, alert.id, doctor).await,
        ] {
            assert!(
                matches!(
                    result,
                    Err(LifecycleError::Transition {
                        from: AlertStatus::Resolved,
                        ..
                    })
                ),
                "{result:?}"
            );
        }

        // Open straight to resolved, without a note.
        let other = raise_new(pool, &draft(patient, "news2", Severity::Medium)).await;
        let resolved = resolve(pool, other.id, doctor, None).await.unwrap();
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert_eq!(resolved.acknowledged_at, None);
        assert_eq!(resolved.resolution_note, None);

        let unknown = Uuid::now_v7();
        let err = resolve(pool, unknown, doctor, None).await.unwrap_err();
        assert!(
            matches!(err, LifecycleError::NotFound(id) if id == unknown),
            "{err}"
        );
        assert_eq!(err.to_string(), format!("alert {unknown} not found"));
        let err = acknowledge(pool, unknown, doctor).await.unwrap_err();
        assert!(matches!(err, LifecycleError::NotFound(_)), "{err}");
        assert_eq!(get(pool, unknown).await.unwrap(), None);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn clear_marks_the_condition_cleared_and_may_resolve() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let alert = raise_new(pool, &draft(patient, "spo2_low", Severity::High)).await;

        let cleared = clear(pool, patient, "spo2_low", false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cleared.id, alert.id);
        assert_eq!(cleared.status, AlertStatus::Open);
        assert!(cleared.cleared_at.is_some());
        assert_eq!(cleared.resolved_at, None);

        let resolved = clear(pool, patient, "spo2_low", true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resolved.id, alert.id);
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert!(resolved.cleared_at.is_some());
        assert!(resolved.resolved_at.is_some());
        assert_eq!(resolved.resolved_by, None);
        assert_eq!(
            resolved.resolution_note.as_deref(),
            Some("condition cleared")
        );

        assert_eq!(clear(pool, patient, "spo2_low", true).await.unwrap(), None);
        assert_eq!(clear(pool, patient, "unknown", false).await.unwrap(), None);
        // An acknowledged alert can be resolved by clearing too.
        let doctor = clinician(pool).await;
        let other = raise_new(pool, &draft(patient, "news2", Severity::Medium)).await;
        acknowledge(pool, other.id, doctor).await.unwrap();
        let resolved = clear(pool, patient, "news2", true).await.unwrap().unwrap();
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert_eq!(resolved.acknowledged_by, Some(doctor));
        db.drop_database().await;
    }

    #[tokio::test]
    async fn escalation_notifies_care_team_and_admins_once() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let member = clinician(pool).await;
        let outsider = clinician(pool).await;
        let admin = user(pool, Role::Admin, UserStatus::Active).await;
        let disabled_admin = user(pool, Role::Admin, UserStatus::Disabled).await;
        // An admin who is also on the care team (e.g. a clinician later made admin).
        let both = user(pool, Role::Admin, UserStatus::Active).await;
        assign_care_team(pool, patient, member).await.unwrap();
        sqlx::query("INSERT INTO care_team (patient_id, clinician_id) VALUES ($1, $2)")
            .bind(patient)
            .bind(both)
            .execute(pool)
            .await
            .unwrap();

        let due = raise_new(pool, &draft(patient, "spo2_low", Severity::High)).await;
        raise_new(pool, &draft(patient, "news2", Severity::Medium)).await;
        let acked = raise_new(pool, &draft(patient, "hr_high", Severity::High)).await;
        acknowledge(pool, acked.id, member).await.unwrap();
        let resolved = raise_new(pool, &draft(patient, "rr_high", Severity::High)).await;
        resolve(pool, resolved.id, member, None).await.unwrap();

        // Not old enough yet.
        let hour = std::time::Duration::from_secs(3600);
        assert!(escalate_due(pool, hour).await.unwrap().is_empty());
        assert!(
            escalate_due(pool, std::time::Duration::MAX)
                .await
                .unwrap()
                .is_empty()
        );

        let escalated = escalate_due(pool, std::time::Duration::ZERO).await.unwrap();
        assert_eq!(escalated.len(), 1, "{escalated:?}");
        assert_eq!(escalated[0].id, due.id);
        assert!(escalated[0].escalated_at.is_some());
        assert_eq!(escalated[0].status, AlertStatus::Open);
        assert_eq!(get(pool, due.id).await.unwrap().unwrap(), escalated[0]);

        for (who, expected) in [
            (member, 1),
            (admin, 1),
            (both, 1),
            (disabled_admin, 0),
            (outsider, 0),
            (patient, 0),
        ] {
            assert_eq!(
                count_notifications(pool, who, "escalation").await,
                expected,
                "{who}"
            );
        }
        let note = &notifications_for(pool, admin, 10).await.unwrap()[0];
        assert_eq!(note.kind, "escalation");
        assert_eq!(note.alert_id, Some(due.id));
        assert_eq!(note.title, "Unacknowledged high alert: SpO2 low");
        assert_eq!(note.body, "Pat Ient: SpO2 88 % for 5 minutes");

        assert!(
            escalate_due(pool, std::time::Duration::ZERO)
                .await
                .unwrap()
                .is_empty()
        );
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM notifications WHERE kind = 'escalation'")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(total, 3);
        db.drop_database().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_escalations_claim_each_alert_once() {
        let db = test_db().await;
        let pool = &db.pool;
        let admin = user(pool, Role::Admin, UserStatus::Active).await;
        for _ in 0..20 {
            let patient = test_patient(pool).await;
            raise_new(pool, &draft(patient, "spo2_low", Severity::High)).await;
        }
        let runs = (0..4).map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                escalate_due(&pool, std::time::Duration::ZERO)
                    .await
                    .unwrap()
            })
        });
        let mut escalated = Vec::new();
        for run in runs.collect::<Vec<_>>() {
            escalated.extend(run.await.unwrap().into_iter().map(|a| a.id));
        }
        escalated.sort();
        escalated.dedup();
        assert_eq!(escalated.len(), 20);
        assert_eq!(count_notifications(pool, admin, "escalation").await, 20);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn care_team_members_must_be_clinicians_of_patients() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let other_patient = test_patient(pool).await;
        let doctor = clinician(pool).await;
        let admin = user(pool, Role::Admin, UserStatus::Active).await;

        let err = assign_care_team(pool, patient, other_patient)
            .await
            .unwrap_err();
        assert!(matches!(err, CareTeamError::NotAClinician(id) if id == other_patient));
        let err = assign_care_team(pool, patient, admin).await.unwrap_err();
        assert!(matches!(err, CareTeamError::NotAClinician(_)));
        let err = assign_care_team(pool, patient, UserId::new())
            .await
            .unwrap_err();
        assert!(matches!(err, CareTeamError::NotAClinician(_)));
        let err = assign_care_team(pool, doctor, doctor).await.unwrap_err();
        assert!(matches!(err, CareTeamError::NotAPatient(id) if id == doctor));

        assign_care_team(pool, patient, doctor).await.unwrap();
        assign_care_team(pool, patient, doctor).await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM care_team")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn list_filters_and_orders_newest_first() {
        let db = test_db().await;
        let pool = &db.pool;
        let a = test_patient(pool).await;
        let b = test_patient(pool).await;
        let doctor = clinician(pool).await;
        let a1 = raise_new(pool, &draft(a, "k1", Severity::High)).await;
        let a2 = raise_new(pool, &draft(a, "k2", Severity::Low)).await;
        let b1 = raise_new(pool, &draft(b, "k1", Severity::High)).await;
        resolve(pool, a2.id, doctor, None).await.unwrap();

        let ids = |alerts: Vec<Alert>| alerts.into_iter().map(|a| a.id).collect::<Vec<_>>();
        let all = list(pool, &AlertFilter::default()).await.unwrap();
        assert_eq!(ids(all), vec![b1.id, a2.id, a1.id]);
        let of_a = AlertFilter {
            patient: Some(a),
            ..Default::default()
        };
        assert_eq!(ids(list(pool, &of_a).await.unwrap()), vec![a2.id, a1.id]);
        let high_open = AlertFilter {
            status: Some(AlertStatus::Open),
            severity: Some(Severity::High),
            ..Default::default()
        };
        assert_eq!(
            ids(list(pool, &high_open).await.unwrap()),
            vec![b1.id, a1.id]
        );
        let resolved = AlertFilter {
            status: Some(AlertStatus::Resolved),
            ..Default::default()
        };
        assert_eq!(ids(list(pool, &resolved).await.unwrap()), vec![a2.id]);
        let one = AlertFilter {
            limit: 1,
            ..Default::default()
        };
        assert_eq!(ids(list(pool, &one).await.unwrap()), vec![b1.id]);
        let negative = AlertFilter {
            limit: -5,
            ..Default::default()
        };
        assert_eq!(list(pool, &negative).await.unwrap().len(), 1);
        assert_eq!(ids(unresolved(pool).await.unwrap()), vec![a1.id, b1.id]);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn rule_overrides_round_trip() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let doctor = clinician(pool).await;
        assert!(rule_overrides(pool).await.unwrap().is_empty());

        let rules = json!({"spo2_low": {"threshold": 88}});
        set_rule_overrides(pool, patient, &rules, Some(doctor))
            .await
            .unwrap();
        assert_eq!(rule_overrides(pool).await.unwrap(), vec![(patient, rules)]);

        let replaced = json!({"spo2_low": {"enabled": false}});
        set_rule_overrides(pool, patient, &replaced, None)
            .await
            .unwrap();
        assert_eq!(
            rule_overrides(pool).await.unwrap(),
            vec![(patient, replaced)]
        );
        let by: Option<UserId> =
            sqlx::query_scalar("SELECT updated_by FROM alert_rules WHERE patient_id = $1")
                .bind(patient)
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(by, None);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn daily_stats_round_trip() {
        let db = test_db().await;
        let pool = &db.pool;
        let patient = test_patient(pool).await;
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        save_daily_stat(pool, patient, day(1), "resting_hr", 61.5, 120)
            .await
            .unwrap();
        save_daily_stat(pool, patient, day(2), "resting_hr", 60.0, 100)
            .await
            .unwrap();
        save_daily_stat(pool, patient, day(3), "resting_hr", 70.0, 10)
            .await
            .unwrap();
        // The same day again replaces it.
        save_daily_stat(pool, patient, day(3), "resting_hr", 63.25, 140)
            .await
            .unwrap();
        save_daily_stat(pool, patient, day(3), "hrv", 42.0, 30)
            .await
            .unwrap();

        let stat = |d, stat: &str, value, samples| DailyStat {
            patient,
            day: day(d),
            stat: stat.into(),
            value,
            samples,
        };
        assert_eq!(
            daily_stats_since(pool, day(2)).await.unwrap(),
            vec![
                stat(3, "hrv", 42.0, 30),
                stat(2, "resting_hr", 60.0, 100),
                stat(3, "resting_hr", 63.25, 140),
            ]
        );
        assert_eq!(daily_stats_since(pool, day(1)).await.unwrap().len(), 4);
        assert!(daily_stats_since(pool, day(4)).await.unwrap().is_empty());
        db.drop_database().await;
    }
}
